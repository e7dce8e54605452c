use serde_json::json;

use super::*;

fn admin() -> TenantScope {
    TenantScope::One(ADMIN.to_owned())
}

fn store() -> Store {
    Store::new().unwrap()
}

fn opts() -> WriteOptions {
    WriteOptions::default()
}

#[test]
fn seeded_like_a_fresh_controller() {
    let s = store();
    for (ty, name) in [
        ("tenant", "admin"),
        ("cloud", "Default-Cloud"),
        ("vrfcontext", "global"),
        ("serviceenginegroup", "Default-Group"),
        ("sslprofile", "System-Standard"),
        ("sslprofile", "System-Standard-PFS"),
        ("applicationprofile", "System-HTTP"),
        ("applicationprofile", "System-Secure-HTTP"),
        ("networkprofile", "System-TCP-Proxy"),
        ("healthmonitor", "System-HTTP"),
        ("healthmonitor", "System-TCP"),
    ] {
        let o = s
            .find_by_name(ty, name, &admin())
            .unwrap_or_else(|| panic!("{ty} {name}"));
        assert!(o.system, "{ty} {name} is a system default");
    }
    assert_eq!(
        s.find_by_name("tenant", "admin", &admin()).unwrap().uuid,
        "admin"
    );
}

#[test]
fn create_resolves_references_in_every_form_and_fills_implicit_ones() {
    let mut s = store();
    let hm = s
        .find_by_name("healthmonitor", "System-TCP", &admin())
        .unwrap()
        .uuid
        .clone();
    let pool = s
        .create(
            "pool",
            json!({"name": "p1",
                   "ssl_profile_ref": "/api/sslprofile/?name=System-Standard",
                   "health_monitor_refs": [format!("https://10.0.0.1/api/healthmonitor/{hm}#System-TCP")],
                   "servers": [{"ip": {"addr": "10.1.1.1", "type": "V4"}, "port": 8080}]}),
            &admin(),
            None,
            &opts(),
        )
        .unwrap()
        .clone();
    assert!(pool.uuid.starts_with("pool-"));
    let target = |ptr: &str| {
        pool.refs
            .iter()
            .find(|r| r.pointer == ptr)
            .map(|r| r.ty.clone())
    };
    assert_eq!(target("/ssl_profile_ref").as_deref(), Some("sslprofile"));
    assert_eq!(
        target("/health_monitor_refs/0").as_deref(),
        Some("healthmonitor")
    );
    assert_eq!(target("/tenant_ref").as_deref(), Some("tenant"));
    assert_eq!(target("/cloud_ref").as_deref(), Some("cloud"));
    assert_eq!(target("/vrf_ref").as_deref(), Some("vrfcontext"));
    assert_eq!(
        pool.body["health_monitor_refs"][0],
        json!(format!("/api/healthmonitor/{hm}"))
    );
    assert_eq!(pool.body["lb_algorithm"], "LB_ALGORITHM_LEAST_CONNECTIONS");
    assert_eq!(pool.body["servers"][0]["ratio"], 1);
    assert!(pool.cloud.is_some());
}

#[test]
fn missing_reference_and_duplicate_name_are_refused_like_the_controller() {
    let mut s = store();
    let err = s
        .create(
            "pool",
            json!({"name": "p", "pki_profile_ref": "/api/pkiprofile?name=nope"}),
            &admin(),
            None,
            &opts(),
        )
        .unwrap_err();
    assert_eq!(err.status, 400);
    assert!(
        err.message.contains("PKIProfile object not found"),
        "{}",
        err.message
    );

    s.create("pool", json!({"name": "p"}), &admin(), None, &opts())
        .unwrap();
    let err = s
        .create("pool", json!({"name": "p"}), &admin(), None, &opts())
        .unwrap_err();
    assert_eq!(err.status, 409);
    assert_eq!(
        err.message,
        "Pool with this Name, Tenant ref and Cloud ref already exists."
    );
}

#[test]
fn referenced_objects_cannot_be_deleted() {
    let mut s = store();
    let p = s
        .create("pool", json!({"name": "p1"}), &admin(), None, &opts())
        .unwrap()
        .uuid
        .clone();
    let pg = s
        .create(
            "poolgroup",
            json!({"name": "pg", "members": [{"pool_ref": "/api/pool/?name=p1"}]}),
            &admin(),
            None,
            &opts(),
        )
        .unwrap()
        .uuid
        .clone();
    let err = s.delete("pool", &p, &admin()).unwrap_err();
    assert_eq!(err.status, 403);
    assert_eq!(
        err.message,
        "Cannot delete, object is referred by: ['PoolGroup pg']"
    );
    assert_eq!(
        s.list(
            "pool",
            &admin(),
            &ListFilter {
                refers_to: None,
                referred_by: Some(("poolgroup".into(), pg.clone())),
                ..ListFilter::default()
            }
        )
        .len(),
        1
    );
    assert_eq!(
        s.list(
            "poolgroup",
            &admin(),
            &ListFilter {
                refers_to: Some(("pool".into(), p.clone())),
                ..ListFilter::default()
            }
        )
        .len(),
        1
    );
    s.delete("poolgroup", &pg, &admin()).unwrap();
    s.delete("pool", &p, &admin()).unwrap();
    assert_eq!(s.delete("pool", &p, &admin()).unwrap_err().status, 404);
    let system = s
        .find_by_name("sslprofile", "System-Standard", &admin())
        .unwrap()
        .uuid
        .clone();
    assert_eq!(
        s.delete("sslprofile", &system, &admin())
            .unwrap_err()
            .status,
        403
    );
}

#[test]
fn tenants_isolate_objects_but_share_admin_profiles() {
    let mut s = store();
    let t = s
        .create("tenant", json!({"name": "red"}), &admin(), None, &opts())
        .unwrap()
        .uuid
        .clone();
    let red = TenantScope::One(t.clone());
    let p = s
        .create(
            "pool",
            json!({"name": "p", "ssl_profile_ref": "/api/sslprofile/?name=System-Standard"}),
            &red,
            None,
            &opts(),
        )
        .unwrap()
        .clone();
    assert_eq!(p.tenant, t);
    assert!(s.get("pool", &p.uuid, &admin()).is_none());
    assert!(s.get("pool", &p.uuid, &red).is_some());
    assert!(s.get("pool", &p.uuid, &TenantScope::All).is_some());
    assert_eq!(s.list("pool", &admin(), &ListFilter::default()).len(), 0);
    // The same name in another tenant is not a duplicate.
    s.create("pool", json!({"name": "p"}), &admin(), None, &opts())
        .unwrap();
    // A tenant's pool cannot be referenced from admin.
    let err = s
        .create(
            "poolgroup",
            json!({"name": "pg", "members": [{"pool_ref": format!("/api/pool/{}", p.uuid)}]}),
            &admin(),
            None,
            &opts(),
        )
        .unwrap_err();
    assert_eq!(err.status, 400);
}

#[test]
fn put_with_stale_last_modified_gets_412_and_patch_merges() {
    let mut s = store();
    let p = s
        .create("pool", json!({"name": "p"}), &admin(), None, &opts())
        .unwrap()
        .clone();
    let stale = json!({"name": "p", "_last_modified": "1"});
    assert_eq!(
        s.replace("pool", &p.uuid, stale, &admin(), &opts())
            .unwrap_err()
            .status,
        412
    );
    let fresh = json!({"name": "p2", "_last_modified": p.last_modified.to_string(), "default_server_port": 8080});
    let p2 = s
        .replace("pool", &p.uuid, fresh, &admin(), &opts())
        .unwrap()
        .clone();
    assert_eq!(p2.name, "p2");
    assert!(p2.last_modified > p.last_modified);
    assert!(s.find_by_name("pool", "p", &admin()).is_none());
    let op =
        PatchOp::parse(json!({"add": {"servers": [{"ip": {"addr": "1.1.1.1", "type": "V4"}}]}}))
            .unwrap();
    let p3 = s
        .patch("pool", &p.uuid, &op, &admin(), &opts())
        .unwrap()
        .clone();
    assert_eq!(p3.body["servers"].as_array().unwrap().len(), 1);
    assert_eq!(p3.body["default_server_port"], 8080);
    assert_eq!(p3.name, "p2");
}

#[test]
fn list_filters_by_marker_created_by_and_name_contains() {
    let mut s = store();
    for (name, by, cluster) in [
        ("a-1", "ako-c1", "c1"),
        ("a-2", "ako-c1", "c1"),
        ("b-1", "other", "c2"),
    ] {
        s.create(
            "pool",
            json!({"name": name, "created_by": by, "markers": [{"key": "clustername", "values": [cluster]}]}),
            &admin(),
            None,
            &opts(),
        )
        .unwrap();
    }
    let f = |f: ListFilter| {
        s.list("pool", &admin(), &f)
            .iter()
            .map(|o| o.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        f(ListFilter {
            created_by: Some("ako-c1".into()),
            ..Default::default()
        }),
        ["a-1", "a-2"]
    );
    assert_eq!(
        f(ListFilter {
            label: Some(("clustername".into(), Some("c2".into()))),
            ..Default::default()
        }),
        ["b-1"]
    );
    assert_eq!(
        f(ListFilter {
            name_contains: Some("-1".into()),
            ..Default::default()
        }),
        ["a-1", "b-1"]
    );
    assert_eq!(
        f(ListFilter {
            cloud_name: Some("Default-Cloud".into()),
            sort: Some("-name".into()),
            ..Default::default()
        }),
        ["b-1", "a-2", "a-1"]
    );
}

#[test]
fn the_chain_after_the_leaf_is_kept_out_of_sight_and_survives_an_echoing_put() {
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let leaf = |name: &str| {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        (
            params.signed_by(&key, &issuer).unwrap().pem(),
            key.serialize_pem(),
        )
    };
    let (cert, key) = leaf("a.example.com");
    let mut s = store();
    let uuid = s
        .create(
            "sslkeyandcertificate",
            json!({"name": "c", "key": key, "certificate": {"certificate": format!("{cert}{}", ca.pem())}}),
            &admin(),
            None,
            &opts(),
        )
        .unwrap()
        .uuid
        .clone();
    let stored = s.object("sslkeyandcertificate", &uuid).unwrap();
    assert_eq!(stored.body["certificate"]["certificate"], json!(cert));
    assert_eq!(stored.chain.as_deref(), Some(ca.pem().as_str()));
    let key_line = key.lines().nth(1).unwrap();
    assert!(!format!("{stored:?}").contains(key_line));
    assert!(format!("{stored:?}").contains("<redacted>"));
    // A client echoing the leaf it read keeps the chain; a new certificate replaces it.
    s.replace(
        "sslkeyandcertificate",
        &uuid,
        json!({"name": "c", "key": "<sensitive>", "certificate": {"certificate": cert}}),
        &admin(),
        &opts(),
    )
    .unwrap();
    assert!(
        s.object("sslkeyandcertificate", &uuid)
            .unwrap()
            .chain
            .is_some()
    );
    let (other, other_key) = leaf("b.example.com");
    s.replace(
        "sslkeyandcertificate",
        &uuid,
        json!({"name": "c", "key": other_key, "certificate": {"certificate": other}}),
        &admin(),
        &opts(),
    )
    .unwrap();
    assert_eq!(s.object("sslkeyandcertificate", &uuid).unwrap().chain, None);
}

fn vsvip(s: &mut Store, name: &str, vip: serde_json::Value) -> Result<Object, ApiError> {
    s.create(
        "vsvip",
        json!({"name": name, "vip": [vip]}),
        &admin(),
        None,
        &opts(),
    )
    .cloned()
}

fn network(s: &mut Store, name: &str, v6: bool, begin: &str, end: &str, kind: &str) {
    let (t, prefix, mask) = if v6 {
        ("V6", "fd00::", 64)
    } else {
        ("V4", "10.9.0.0", 24)
    };
    s.create(
        "network",
        json!({"name": name, "configured_subnets": [{
            "prefix": {"ip_addr": {"addr": prefix, "type": t}, "mask": mask},
            "static_ip_ranges": [{"type": kind, "range": {
                "begin": {"addr": begin, "type": t}, "end": {"addr": end, "type": t}}}]}]}),
        &admin(),
        None,
        &opts(),
    )
    .unwrap();
}

fn use_networks(s: &mut Store, names: &[&str]) {
    let p = s
        .find_by_name("ipamdnsproviderprofile", "Default-IPAM", &admin())
        .unwrap()
        .clone();
    let nets: Vec<_> = names
        .iter()
        .map(|n| json!({"nw_ref": format!("/api/network/?name={n}")}))
        .collect();
    s.replace(
        "ipamdnsproviderprofile",
        &p.uuid,
        json!({"name": "Default-IPAM", "type": "IPAMDNS_TYPE_INTERNAL",
               "internal_profile": {"usable_networks": nets}}),
        &admin(),
        &opts(),
    )
    .unwrap();
}

fn addr(o: &Object, field: &str) -> String {
    o.body["vip"][0][field]["addr"].as_str().unwrap().to_owned()
}

#[test]
fn vips_come_from_the_named_networks_vip_range_until_it_is_exhausted() {
    let mut s = store();
    // Default-Cloud's IPAM out of the box.
    let a = vsvip(
        &mut s,
        "a",
        json!({"vip_id": "0", "auto_allocate_ip": true}),
    )
    .unwrap();
    assert_eq!(addr(&a, "ip_address"), "10.250.250.1");

    // A network with two VIP addresses and one SE range, named by the VIP.
    network(
        &mut s,
        "small",
        false,
        "10.9.0.10",
        "10.9.0.11",
        "STATIC_IPS_FOR_VIP",
    );
    let on_small = json!({"vip_id": "0", "auto_allocate_ip": true,
        "ipam_network_subnet": {"network_ref": "/api/network/?name=small"}});
    let e = vsvip(&mut s, "b", on_small.clone()).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.message.contains("not a usable network"), "{}", e.message);
    use_networks(&mut s, &["vip-network", "small"]);
    let b = vsvip(&mut s, "b", on_small.clone()).unwrap();
    assert_eq!(addr(&b, "ip_address"), "10.9.0.10");
    let c = vsvip(&mut s, "c", on_small.clone()).unwrap();
    assert_eq!(addr(&c, "ip_address"), "10.9.0.11");
    let e = vsvip(&mut s, "d", on_small.clone()).unwrap_err();
    assert_eq!(
        (e.status, e.message.as_str()),
        (400, "No available free IPs")
    );
    // An update keeps the address; a deleted VS VIP gives its address back.
    let b2 = s
        .replace(
            "vsvip",
            &b.uuid,
            json!({"name": "b", "vip": [on_small.clone()]}),
            &admin(),
            &opts(),
        )
        .unwrap()
        .clone();
    assert_eq!(addr(&b2, "ip_address"), "10.9.0.10");
    s.delete("vsvip", &b.uuid, &admin()).unwrap();
    assert_eq!(
        addr(&vsvip(&mut s, "d", on_small).unwrap(), "ip_address"),
        "10.9.0.10"
    );

    // SE-only ranges are not for VIPs; a subnet the network does not have matches nothing.
    network(
        &mut s,
        "se-only",
        false,
        "10.9.0.20",
        "10.9.0.30",
        "STATIC_IPS_FOR_SE",
    );
    use_networks(&mut s, &["se-only"]);
    let e = vsvip(
        &mut s,
        "e",
        json!({"vip_id": "0", "auto_allocate_ip": true}),
    )
    .unwrap_err();
    assert_eq!(e.message, "No available free IPs");
}

#[test]
fn ipv6_vips_and_a_cloud_without_ipam() {
    let mut s = store();
    network(
        &mut s,
        "v6",
        true,
        "fd00::10",
        "fd00::ffff:ffff:ffff",
        "STATIC_IPS_FOR_VIP",
    );
    use_networks(&mut s, &["vip-network", "v6"]);
    let both = vsvip(
        &mut s,
        "both",
        json!({"vip_id": "0", "auto_allocate_ip": true, "auto_allocate_ip_type": "V4_V6"}),
    )
    .unwrap();
    assert_eq!(addr(&both, "ip_address"), "10.250.250.1");
    assert_eq!(addr(&both, "ip6_address"), "fd00::10");

    // Without an IPAM profile on the cloud, only static addresses.
    let cloud = s
        .find_by_name("cloud", "Default-Cloud", &admin())
        .unwrap()
        .clone();
    s.replace(
        "cloud",
        &cloud.uuid,
        json!({"name": "Default-Cloud", "vtype": "CLOUD_NONE"}),
        &admin(),
        &opts(),
    )
    .unwrap();
    let e = vsvip(
        &mut s,
        "auto",
        json!({"vip_id": "0", "auto_allocate_ip": true}),
    )
    .unwrap_err();
    assert!(e.message.contains("has no IPAM profile"), "{}", e.message);
    vsvip(
        &mut s,
        "static",
        json!({"vip_id": "0", "ip_address": {"addr": "192.0.2.10", "type": "V4"}}),
    )
    .unwrap();
}

#[test]
fn references_of_schema_less_types_are_type_checked() {
    let mut s = store();
    let cloud = s
        .find_by_name("cloud", "Default-Cloud", &admin())
        .unwrap()
        .clone();
    for (field, value, expected) in [
        (
            "ipam_provider_ref",
            "/api/pool/?name=x",
            "ipamdnsproviderprofile",
        ),
        (
            "ipam_provider_ref",
            "/api/network/?name=vip-network",
            "ipamdnsproviderprofile",
        ),
        (
            "vrf_context_ref",
            "/api/cloud/?name=Default-Cloud",
            "vrfcontext",
        ),
    ] {
        let e = s
            .replace(
                "cloud",
                &cloud.uuid,
                json!({"name": "Default-Cloud", field: value}),
                &admin(),
                &opts(),
            )
            .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(
            e.message
                .contains(&format!("must refer to an object of type {expected}")),
            "{field}: {}",
            e.message
        );
    }
    let e = s
        .create(
            "ipamdnsproviderprofile",
            json!({"name": "p", "type": "IPAMDNS_TYPE_INTERNAL",
                   "internal_profile": {"usable_networks": [{"nw_ref": "/api/cloud/?name=Default-Cloud"}]}}),
            &admin(),
            None,
            &opts(),
        )
        .unwrap_err();
    assert!(e.message.contains("type network"), "{}", e.message);
}
