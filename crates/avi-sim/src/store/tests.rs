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
