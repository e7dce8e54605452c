use serde_json::{Value, json};
use translate_core::{Addressed, Component, IstioRefs, Severity, Translator};

use super::*;
use crate::translator::IngressTranslator;

const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBkDCCATWgAwIBAgIUBihLokrWdW73Qn1AWuB5iIokXaUwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHZm9vLmNvbTAgFw0yNjEyMDcxMzM4MDdaGA8yMTI2MTExMzEz
MzgwN1owEjEQMA4GA1UEAwwHZm9vLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABP7xepyE7Z4RFykoa+AaQXFbJ1iaaX00X3j+eKYJ2Aw9fgk2oBGLVmNvoOiL
wMl8Ax89BzfDDf4r+Zuv4VmQB36jZzBlMB0GA1UdDgQWBBTzSWEBTEj1pUSoESWQ
dGSs9yp4fTAfBgNVHSMEGDAWgBTzSWEBTEj1pUSoESWQdGSs9yp4fTAPBgNVHRMB
Af8EBTADAQH/MBIGA1UdEQQLMAmCB2Zvby5jb20wCgYIKoZIzj0EAwIDSQAwRgIh
ALeFDMd9VYNQmqih7aD6mSbiExFStbn7kO6G85B41ItWAiEAys0k1b2YkAAaqgV7
5I3h/3x5d7ZjLLuF7nWKGPSreTc=
-----END CERTIFICATE-----
";

const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMSJQKRGZlYTr5r2k
QrVFfag+sTzwXuHaGe7Fxsdn1/GhRANCAAT+8XqchO2eERcpKGvgGkFxWydYmml9
NF94/nimCdgMPX4JNqARi1Zjb6Doi8DJfAMfPQc3ww3+K/mbr+FZkAd+
-----END PRIVATE KEY-----
";

fn b64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

fn settings() -> Settings {
    Settings {
        component: Component::Ako,
        cluster_name: "cl1".into(),
        ..Settings::default()
    }
}

fn ing_settings(evh: bool, shard_size: ShardSize) -> IngressSettings {
    IngressSettings {
        evh,
        shard_size,
        default_ingress_controller: false,
    }
}

fn class(name: &str, controller: &str, default: bool) -> Value {
    let mut c = json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": name}, "spec": {"controller": controller}});
    if default {
        c["metadata"]["annotations"] =
            json!({"ingressclass.kubernetes.io/is-default-class": "true"});
    }
    c
}

fn avi_class() -> Value {
    class("avi-lb", "ako.vmware.com/avi-lb", false)
}

/// `(host, path, pathType, service, port)`.
type P<'a> = (&'a str, &'a str, &'a str, &'a str, Value);

fn ingress(ns: &str, name: &str, created: &str, paths: &[P<'_>], tls: Value) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    for (host, path, kind, svc, port) in paths {
        let entry = json!({"path": path, "pathType": kind,
            "backend": {"service": {"name": svc, "port": port}}});
        match rules.iter_mut().find(|r| r["host"] == *host) {
            Some(r) => r["http"]["paths"].as_array_mut().unwrap().push(entry),
            None => rules.push(json!({"host": host, "http": {"paths": [entry]}})),
        }
    }
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": created},
        "spec": {"ingressClassName": "avi-lb", "rules": rules, "tls": tls}})
}

fn service(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
}

fn slice(ns: &str, svc: &str, ips: &[&str]) -> Value {
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
        "metadata": {"name": format!("{svc}-abc"), "namespace": ns,
            "labels": {"kubernetes.io/service-name": svc}},
        "ports": [{"name": "http", "port": 8080}],
        "endpoints": ips.iter().map(|ip| json!({"addresses": [ip]})).collect::<Vec<_>>()})
}

fn secret(ns: &str, name: &str, crt: &str, key: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": ns},
        "data": {"tls.crt": b64(crt), "tls.key": b64(key)}})
}

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn snapshot(objects: &[Value]) -> Snapshot {
    let kinds = IngressTranslator::default().kinds();
    let mut s = Snapshot::default();
    for o in objects {
        s.insert_json(o.clone(), &kinds).unwrap();
    }
    s
}

fn run_with(objects: &[Value], ing: &IngressSettings) -> Output {
    translate(&snapshot(objects), &settings(), ing, &now())
}

fn now() -> Time {
    Time("2025-01-01T00:00:00Z".parse().unwrap())
}

fn names_of<T>(v: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
    v.iter().map(|o| name(o).to_owned()).collect()
}

fn vs<'a>(out: &'a Output, name: &str) -> &'a VirtualService {
    out.model
        .virtual_services
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no VS {name}: {:?}",
                names_of(&out.model.virtual_services, |v| &v.name)
            )
        })
}

fn pool<'a>(out: &'a Output, name: &str) -> &'a Pool {
    out.model
        .pools
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no pool {name}: {:?}",
                names_of(&out.model.pools, |v| &v.name)
            )
        })
}

fn pg<'a>(out: &'a Output, name: &str) -> &'a PoolGroup {
    out.model
        .pool_groups
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no PG {name}: {:?}",
                names_of(&out.model.pool_groups, |v| &v.name)
            )
        })
}

fn ps<'a>(out: &'a Output, name: &str) -> &'a HttpPolicySet {
    out.model
        .http_policy_sets
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no PS {name}: {:?}",
                names_of(&out.model.http_policy_sets, |v| &v.name)
            )
        })
}

fn rules(set: &HttpPolicySet) -> Vec<(String, String, String, String)> {
    set.http_request_policy
        .as_ref()
        .unwrap()
        .rules
        .iter()
        .map(|r| {
            let m = r.match_.as_ref().and_then(|m| m.path.as_ref());
            (
                r.name.clone(),
                m.map(|m| m.match_criteria.to_string()).unwrap_or_default(),
                m.map(|m| m.match_str.join(",")).unwrap_or_default(),
                r.switching_action
                    .as_ref()
                    .and_then(|s| s.pool_group_ref.as_ref())
                    .and_then(|p| p.name().map(str::to_owned))
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn ref_name<T: avi_client::AviObject>(r: &AviRef<T>) -> String {
    r.name().unwrap_or_default().to_owned()
}

fn warnings(out: &Output, reason: &str) -> Vec<Notice> {
    out.notices
        .iter()
        .filter(|n| n.reason == reason && n.severity == Severity::Warning)
        .cloned()
        .collect()
}

/// The brief's example: `default/foo` with secure `foo.com` (`/`, `/bar`) and insecure
/// `bar.com` (`/`), Service `svc`.
fn example() -> Vec<Value> {
    vec![
        avi_class(),
        service("default", "svc"),
        slice("default", "svc", &["10.1.0.1", "10.1.0.2"]),
        secret("default", "foo-tls", CERT, KEY),
        ingress(
            "default",
            "foo",
            "2024-01-01T00:00:00Z",
            &[
                (
                    "foo.com",
                    "/",
                    "ImplementationSpecific",
                    "svc",
                    json!({"number": 80}),
                ),
                (
                    "foo.com",
                    "/bar",
                    "ImplementationSpecific",
                    "svc",
                    json!({"number": 80}),
                ),
                (
                    "bar.com",
                    "/",
                    "ImplementationSpecific",
                    "svc",
                    json!({"number": 80}),
                ),
            ],
            json!([{"hosts": ["foo.com"], "secretName": "foo-tls"}]),
        ),
    ]
}

#[test]
fn sni_large_matches_akos_vectors() {
    let out = run_with(&example(), &ing_settings(false, ShardSize::Large));
    assert_eq!(
        names_of(&out.model.virtual_services, |v| &v.name),
        ["cl1--Shared-L7-0", "cl1--Shared-L7-1", "cl1--foo.com"]
    );
    // Parents: 80 + 443 SSL, System-HTTP, System-TCP-Proxy, own VSVIP, DataScript.
    let parent = vs(&out, "cl1--Shared-L7-0");
    assert_eq!(parent.type_, Some(VsType::VhParent));
    assert_eq!(
        parent
            .services
            .iter()
            .map(|s| (s.port, s.enable_ssl))
            .collect::<Vec<_>>(),
        [(80, None), (443, Some(true))]
    );
    assert_eq!(
        parent.application_profile_ref.as_deref(),
        Some(HTTP_PROFILE)
    );
    assert_eq!(
        parent.network_profile_ref.as_deref(),
        Some(TCP_PROXY_PROFILE)
    );
    assert_eq!(
        ref_name(parent.vsvip_ref.as_ref().unwrap()),
        "cl1--Shared-L7-0"
    );
    assert_eq!(
        ref_name(&parent.vs_datascripts[0].vs_datascript_set_ref),
        "cl1--Shared-L7-0"
    );
    assert_eq!(
        names_of(&out.model.vsvips, |v| &v.name),
        ["cl1--Shared-L7-0", "cl1--Shared-L7-1"]
    );
    assert_eq!(
        out.model.vsvips[0].vip,
        vec![avi_client::models::Vip::auto_allocated("0")]
    );
    // The redirect for the secure host sits on its parent, named like it.
    assert_eq!(
        parent
            .http_policies
            .iter()
            .map(|p| ref_name(&p.http_policy_set_ref))
            .collect::<Vec<_>>(),
        ["cl1--Shared-L7-0"]
    );
    let redirect = ps(&out, "cl1--Shared-L7-0");
    let rule = &redirect.http_request_policy.as_ref().unwrap().rules[0];
    assert_eq!(rule.name, "cl1--Shared-L7-0-0");
    let m = rule.match_.as_ref().unwrap();
    assert_eq!(m.host_hdr.as_ref().unwrap().value, ["foo.com"]);
    assert_eq!(
        m.host_hdr.as_ref().unwrap().match_criteria,
        HdrMatchCriteria::Equals
    );
    // Host names are case-insensitive: `Foo.COM` is redirected too, as by AKO.
    assert_eq!(
        m.host_hdr.as_ref().unwrap().match_case,
        Some(avi_client::models::MatchCase::Insensitive)
    );
    assert_eq!(m.vs_port.as_ref().unwrap().ports, [80]);
    let action = rule.redirect_action.as_ref().unwrap();
    assert_eq!(
        (&action.protocol, action.port, &action.status_code),
        (
            &RedirectProtocol::Https,
            Some(443),
            &Some(RedirectStatusCode::Code302)
        )
    );
    // The SNI child of the secure host.
    let child = vs(&out, "cl1--foo.com");
    assert_eq!(child.type_, Some(VsType::VhChild));
    assert_eq!(child.vh_domain_name, ["foo.com"]);
    assert_eq!(
        ref_name(child.vh_parent_vs_ref.as_ref().unwrap()),
        "cl1--Shared-L7-0"
    );
    assert_eq!(
        child.application_profile_ref.as_deref(),
        Some(SECURE_HTTP_PROFILE)
    );
    assert_eq!(
        child
            .ssl_key_and_certificate_refs
            .iter()
            .map(ref_name)
            .collect::<Vec<_>>(),
        ["cl1--foo.com"]
    );
    assert_eq!(
        child
            .http_policies
            .iter()
            .map(|p| ref_name(&p.http_policy_set_ref))
            .collect::<Vec<_>>(),
        ["cl1--default-foo.com"]
    );
    // Its policy set: longest path first, rule names <ps>-<idx>.
    assert_eq!(
        rules(ps(&out, "cl1--default-foo.com")),
        [
            (
                "cl1--default-foo.com-0".into(),
                "BEGINS_WITH".into(),
                "/bar".into(),
                "cl1--default-foo.com_bar-foo".into()
            ),
            (
                "cl1--default-foo.com-1".into(),
                "BEGINS_WITH".into(),
                "/".into(),
                "cl1--default-foo.com_-foo".into()
            ),
        ]
    );
    assert_eq!(
        pg(&out, "cl1--default-foo.com_-foo")
            .members
            .iter()
            .map(|m| ref_name(&m.pool_ref))
            .collect::<Vec<_>>(),
        ["cl1--default-foo.com_-foo"]
    );
    // The certificate, named after the host, key only in `key`.
    let cert = &out.model.ssl_key_and_certificates[0];
    assert_eq!(cert.name, "cl1--foo.com");
    assert_eq!(cert.certificate.certificate.as_deref(), Some(CERT));
    assert_eq!(cert.key.as_ref().unwrap().expose(), KEY);
    assert_eq!(
        cert.markers,
        vec![
            Marker::new("clustername", ["cl1"]),
            Marker::new("Host", ["foo.com"])
        ]
    );
    // The insecure host: a pool in the shared group with its label, picked by the DataScript.
    let shared = pg(&out, "cl1--Shared-L7-1");
    assert_eq!(shared.members.len(), 1);
    assert_eq!(
        ref_name(&shared.members[0].pool_ref),
        "cl1--bar.com_-default-foo"
    );
    assert_eq!(
        shared.members[0].priority_label.as_deref(),
        Some("bar.com/")
    );
    assert_eq!(shared.implicit_priority_labels, Some(true));
    let ds = out
        .model
        .vs_datascript_sets
        .iter()
        .find(|d| d.name == "cl1--Shared-L7-1")
        .unwrap();
    assert_eq!(ds.datascript[0].evt, DATASCRIPT_EVENT);
    assert!(
        ds.datascript[0]
            .script
            .contains("avi.poolgroup.select(\"cl1--Shared-L7-1\", string.lower(host .. path))")
    );
    assert_eq!(
        ds.pool_group_refs.iter().map(ref_name).collect::<Vec<_>>(),
        ["cl1--Shared-L7-1"]
    );
    // Pools: members, created_by, markers (no ServiceName on the shared-group pool).
    assert_eq!(
        names_of(&out.model.pools, |p| &p.name),
        [
            "cl1--bar.com_-default-foo",
            "cl1--default-foo.com_-foo",
            "cl1--default-foo.com_bar-foo"
        ]
    );
    let insecure = pool(&out, "cl1--bar.com_-default-foo");
    assert_eq!(insecure.created_by.as_deref(), Some("ako-cl1"));
    assert_eq!(insecure.servers.len(), 2);
    assert_eq!(insecure.servers[0].port, Some(8080));
    assert!(!insecure.markers.iter().any(|m| m.key == "ServiceName"));
    assert!(
        pool(&out, "cl1--default-foo.com_-foo")
            .markers
            .contains(&Marker::new("ServiceName", ["svc"]))
    );
    assert_eq!(
        insecure.markers,
        vec![
            Marker::new("clustername", ["cl1"]),
            Marker::new("Namespace", ["default"]),
            Marker::new("Host", ["bar.com"]),
            Marker::new("Path", ["/"]),
            Marker::new("IngressName", ["foo"]),
        ]
    );
    // Accepted once synced.
    let accepted: Vec<&Notice> = out
        .notices
        .iter()
        .filter(|n| n.reason == "Accepted")
        .collect();
    assert_eq!(accepted.len(), 1);
    assert!(accepted[0].when_synced);
    assert!(
        accepted[0]
            .message
            .contains("cl1--Shared-L7-0, cl1--Shared-L7-1"),
        "{}",
        accepted[0].message
    );
    assert!(warnings(&out, "").is_empty());
    assert!(
        out.notices.iter().all(|n| n.severity == Severity::Normal),
        "{:?}",
        out.notices
    );
}

#[test]
fn medium_small_and_dedicated_shards() {
    let out = run_with(&example(), &ing_settings(false, ShardSize::Medium));
    assert_eq!(
        names_of(&out.model.virtual_services, |v| &v.name),
        ["cl1--Shared-L7-0", "cl1--Shared-L7-1", "cl1--foo.com"]
    );
    let out = run_with(&example(), &ing_settings(false, ShardSize::Small));
    assert_eq!(
        names_of(&out.model.virtual_services, |v| &v.name),
        ["cl1--Shared-L7-0", "cl1--foo.com"]
    );
    assert_eq!(
        pg(&out, "cl1--Shared-L7-0").members[0]
            .priority_label
            .as_deref(),
        Some("bar.com/")
    );

    let out = run_with(&example(), &ing_settings(false, ShardSize::Dedicated));
    assert_eq!(
        names_of(&out.model.virtual_services, |v| &v.name),
        ["cl1--bar.com-L7-dedicated", "cl1--foo.com-L7-dedicated"]
    );
    let foo = vs(&out, "cl1--foo.com-L7-dedicated");
    assert_eq!(foo.type_, None);
    assert_eq!(
        foo.application_profile_ref.as_deref(),
        Some(SECURE_HTTP_PROFILE)
    );
    assert_eq!(
        foo.services.iter().map(|s| s.port).collect::<Vec<_>>(),
        [80, 443]
    );
    assert_eq!(
        foo.ssl_key_and_certificate_refs
            .iter()
            .map(ref_name)
            .collect::<Vec<_>>(),
        ["cl1--foo.com"]
    );
    assert_eq!(
        foo.http_policies
            .iter()
            .map(|p| ref_name(&p.http_policy_set_ref))
            .collect::<Vec<_>>(),
        ["cl1--foo.com-L7-dedicated", "cl1--default-foo.com"]
    );
    assert_eq!(
        rules(ps(&out, "cl1--default-foo.com"))[1],
        (
            "cl1--default-foo.com-1".into(),
            "BEGINS_WITH".into(),
            "/".into(),
            "cl1--default-foo.com_-foo-L7-dedicated".into()
        )
    );
    pool(&out, "cl1--default-foo.com_-foo-L7-dedicated");
    // The insecure host: port 80 only, routed by its policy set.
    let bar = vs(&out, "cl1--bar.com-L7-dedicated");
    assert_eq!(
        bar.services.iter().map(|s| s.port).collect::<Vec<_>>(),
        [80]
    );
    assert_eq!(bar.application_profile_ref.as_deref(), Some(HTTP_PROFILE));
    assert_eq!(
        rules(ps(&out, "cl1--default-bar.com"))[0].3,
        "cl1--bar.com_-default-foo-L7-dedicated"
    );
    assert_eq!(
        names_of(&out.model.vsvips, |v| &v.name),
        ["cl1--bar.com-L7-dedicated", "cl1--foo.com-L7-dedicated"]
    );
    assert!(out.model.vs_datascript_sets.is_empty());
}

#[test]
fn evh_large_matches_akos_vectors() {
    let out = run_with(&example(), &ing_settings(true, ShardSize::Large));
    let foo_child = "cl1--97345264ac5fc7942d654f976dc6ac232e487f93";
    let bar_child = "cl1--88e0221ca464ae61faab6e0f9e31a111088e1899";
    assert_eq!(
        names_of(&out.model.virtual_services, |v| &v.name),
        [
            bar_child,
            foo_child,
            "cl1--Shared-L7-EVH-0",
            "cl1--Shared-L7-EVH-1"
        ]
    );
    let parent = vs(&out, "cl1--Shared-L7-EVH-0");
    assert_eq!(
        (parent.type_.clone(), parent.vh_type.clone()),
        (Some(VsType::VhParent), Some(VhType::Enhanced))
    );
    // The certificate is on the parent.
    assert_eq!(
        parent
            .ssl_key_and_certificate_refs
            .iter()
            .map(ref_name)
            .collect::<Vec<_>>(),
        [foo_child]
    );
    assert_eq!(out.model.ssl_key_and_certificates[0].name, foo_child);
    let bar = vs(&out, bar_child);
    assert_eq!(
        ref_name(bar.vh_parent_vs_ref.as_ref().unwrap()),
        "cl1--Shared-L7-EVH-1"
    );
    assert_eq!(bar.vh_type, Some(VhType::Enhanced));
    assert_eq!(bar.vh_matches[0].host, "bar.com");
    assert_eq!(
        bar.vh_matches[0].rules[0].matches.path,
        Some(PathMatch::new(PathMatchCriteria::BeginsWith, ["/"]))
    );
    assert_eq!(
        bar.http_policies
            .iter()
            .map(|p| ref_name(&p.http_policy_set_ref))
            .collect::<Vec<_>>(),
        ["cl1--cf163b3cb064d93992bbc7d345d2b935571b2dbc"]
    );
    assert_eq!(
        rules(ps(&out, "cl1--cf163b3cb064d93992bbc7d345d2b935571b2dbc"))[0].3,
        Names::new("cl1", true).pool_group("default", "bar.com", "/", "foo", false)
    );
    pool(&out, "cl1--cdf3dbbe2cf37683722d145d43ba9840f134e5c7");
    pool(&out, "cl1--93afe14416d15942bdf61fc251dca77f636c4149");
    assert_eq!(
        pg(&out, "cl1--4e580249cfb04648cdc29478dedd35e309be3902")
            .members
            .iter()
            .map(|m| ref_name(&m.pool_ref))
            .collect::<Vec<_>>(),
        ["cl1--93afe14416d15942bdf61fc251dca77f636c4149"]
    );
    // Secure host: its redirect (named as the child) comes first on the child.
    let foo = vs(&out, foo_child);
    assert_eq!(
        foo.http_policies
            .iter()
            .map(|p| ref_name(&p.http_policy_set_ref))
            .collect::<Vec<_>>(),
        [foo_child, "cl1--96b3166f8e7d180347ef2259d90a3a51dd9b6ba7"]
    );
    assert!(
        ps(&out, foo_child)
            .markers
            .contains(&Marker::new("Namespace", ["default"]))
    );
    assert_eq!(foo.vh_matches[0].rules.len(), 2);
    // Every pool marks its Service in EVH.
    assert!(
        out.model
            .pools
            .iter()
            .all(|p| p.markers.contains(&Marker::new("ServiceName", ["svc"])))
    );
    assert!(out.model.vs_datascript_sets.is_empty());
}

#[test]
fn class_selection() {
    let plain = |name: &str, class: Option<&str>| {
        let mut i = ingress(
            "default",
            name,
            "2024-01-01T00:00:00Z",
            &[(
                &format!("{name}.com"),
                "/",
                "Prefix",
                "svc",
                json!({"number": 80}),
            )],
            json!([]),
        );
        match class {
            Some(c) => i["spec"]["ingressClassName"] = json!(c),
            None => {
                i["spec"]
                    .as_object_mut()
                    .unwrap()
                    .remove("ingressClassName");
            }
        }
        i
    };
    let objects = vec![
        class("mine", "ako.vmware.com/avi-lb", false),
        class("nginx", "k8s.io/ingress-nginx", true),
        plain("named", Some("mine")),
        plain("other", Some("nginx")),
        plain("classless", None),
        plain("unknown", Some("nope")),
    ];
    let out = run_with(&objects, &IngressSettings::default());
    let keys: Vec<&str> = out.statuses.iter().map(|s| s.key.name.as_str()).collect();
    assert_eq!(keys, ["named"]);
    assert!(out.notices.iter().all(|n| n.object.name == "named"));
    // Our class marked default takes classless Ingresses; another controller's never.
    let mut objects = objects;
    objects[0] = class("mine", "ako.vmware.com/avi-lb", true);
    let out = run_with(&objects, &IngressSettings::default());
    let keys: Vec<&str> = out.statuses.iter().map(|s| s.key.name.as_str()).collect();
    assert_eq!(keys, ["classless", "named"]);
    // The Helm flag alone also does.
    objects[0] = class("mine", "ako.vmware.com/avi-lb", false);
    let ing = IngressSettings {
        default_ingress_controller: true,
        ..IngressSettings::default()
    };
    let out = run_with(&objects, &ing);
    assert_eq!(out.statuses.len(), 2);
}

#[test]
fn prefix_is_element_wise_exact_is_equals_longest_first() {
    let objects = vec![
        avi_class(),
        service("default", "svc"),
        ingress(
            "default",
            "web",
            "2024-01-01T00:00:00Z",
            &[
                ("a.com", "/", "Prefix", "svc", json!({"number": 80})),
                ("a.com", "/foo/", "Prefix", "svc", json!({"number": 80})),
                ("a.com", "/foo/x", "Exact", "svc", json!({"number": 80})),
                (
                    "a.com",
                    "/bar",
                    "ImplementationSpecific",
                    "svc",
                    json!({"number": 80}),
                ),
                ("a.com", "/baz", "", "svc", json!({"number": 80})),
            ],
            json!([]),
        ),
    ];
    let out = run_with(&objects, &ing_settings(true, ShardSize::Large));
    let n = Names::new("cl1", true);
    let set = n.policy_set("default", "a.com");
    let pgs = |p: &str| n.pool_group("default", "a.com", p, "web", false);
    let r = rules(ps(&out, &set));
    let got: Vec<(&str, &str, &str)> = r
        .iter()
        .map(|(a, b, c, _)| (&a[set.len()..], b.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("-0", "EQUALS", "/foo/x"),
            ("-1", "BEGINS_WITH", "/foo/"),
            ("-1-exact", "EQUALS", "/foo"),
            ("-2", "BEGINS_WITH", "/bar"),
            ("-3", "BEGINS_WITH", "/baz"),
            ("-4", "BEGINS_WITH", "/"),
        ]
    );
    assert_eq!(r[0].3, pgs("/foo/x"));
    assert_eq!(r[1].3, pgs("/foo/"));
    assert_eq!(r[2].3, pgs("/foo/"));
    assert_eq!(r[5].3, pgs("/"));
    // Indices are unique and in order.
    let idx: Vec<u32> = ps(&out, &set)
        .http_request_policy
        .as_ref()
        .unwrap()
        .rules
        .iter()
        .map(|r| r.index)
        .collect();
    assert_eq!(idx, [0, 1, 2, 3, 4, 5]);
    // The child's vh_matches carry the same matches.
    let child = vs(&out, &n.child_vs("a.com"));
    assert_eq!(child.vh_matches[0].rules.len(), 6);
    assert_eq!(child.vh_matches[0].rules[2].name, "rule-2");
    assert_eq!(
        child.vh_matches[0].rules[2].matches.path,
        Some(PathMatch::new(PathMatchCriteria::Equals, ["/foo"]))
    );
}

#[test]
fn exact_on_an_insecure_sni_host_is_flagged() {
    let objects = vec![
        avi_class(),
        ingress(
            "default",
            "web",
            "2024-01-01T00:00:00Z",
            &[("a.com", "/x", "Exact", "svc", json!({"number": 80}))],
            json!([]),
        ),
    ];
    let out = run_with(&objects, &ing_settings(false, ShardSize::Large));
    assert_eq!(warnings(&out, "PathTypeNotEnforced").len(), 1);
    // Still served, by label.
    assert_eq!(out.model.pools[0].name, "cl1--a.com_x-default-web");
}

#[test]
fn oldest_ingress_wins_a_host_path() {
    // `b/young` sorts first by name but is younger.
    let objects = vec![
        avi_class(),
        ingress(
            "a",
            "old",
            "2024-01-01T00:00:00Z",
            &[("dup.com", "/", "Prefix", "svc", json!({"number": 80}))],
            json!([]),
        ),
        ingress(
            "a",
            "young",
            "2024-06-01T00:00:00Z",
            &[
                ("dup.com", "/", "Prefix", "svc", json!({"number": 80})),
                ("dup.com", "/mine", "Prefix", "svc", json!({"number": 80})),
            ],
            json!([]),
        ),
    ];
    let out = run_with(&objects, &ing_settings(false, ShardSize::Large));
    let shared = pg(&out, &Names::new("cl1", false).parent_vs("dup.com", 8));
    let mut labels: Vec<(String, String)> = shared
        .members
        .iter()
        .map(|m| (m.priority_label.clone().unwrap(), ref_name(&m.pool_ref)))
        .collect();
    labels.sort();
    assert_eq!(
        labels,
        [
            ("dup.com/".to_owned(), "cl1--dup.com_-a-old".to_owned()),
            (
                "dup.com/mine".to_owned(),
                "cl1--dup.com_mine-a-young".to_owned()
            ),
        ]
    );
    let w = warnings(&out, "HostPathConflict");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].object, ingress_key("a", "young"));
    assert!(w[0].message.contains("a/old"), "{}", w[0].message);
}

#[test]
fn colliding_names_refuse_the_later_path() {
    let objects = vec![
        avi_class(),
        ingress(
            "default",
            "web",
            "2024-01-01T00:00:00Z",
            &[
                ("c.com", "/a/b", "Prefix", "svc", json!({"number": 80})),
                ("c.com", "/a_b", "Prefix", "svc2", json!({"number": 80})),
            ],
            json!([]),
        ),
        // Across namespaces: `a-b/c` `/x/y` and `a/b-c` `/x_y` give the same insecure pool
        // name.
        ingress(
            "a-b",
            "c",
            "2024-01-02T00:00:00Z",
            &[(
                "collide.com",
                "/x/y",
                "Prefix",
                "svc",
                json!({"number": 80}),
            )],
            json!([]),
        ),
        ingress(
            "a",
            "b-c",
            "2024-01-03T00:00:00Z",
            &[(
                "collide.com",
                "/x_y",
                "Prefix",
                "svc",
                json!({"number": 80}),
            )],
            json!([]),
        ),
    ];
    let out = run_with(&objects, &ing_settings(false, ShardSize::Large));
    let w = warnings(&out, "NameCollision");
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(w[0].object, ingress_key("a", "b-c"));
    assert!(
        w[0].message.contains("cl1--collide.com_x_y-a-b-c"),
        "{}",
        w[0].message
    );
    assert!(w[0].message.contains("Ingress a-b/c"), "{}", w[0].message);
    assert_eq!(w[1].object, ingress_key("default", "web"));
    assert!(w[1].message.contains("path /a_b"), "{}", w[1].message);
    let pools = names_of(&out.model.pools, |p| &p.name);
    assert_eq!(
        pools,
        ["cl1--c.com_a_b-default-web", "cl1--collide.com_x_y-a-b-c"]
    );
    assert_eq!(
        pool(&out, "cl1--c.com_a_b-default-web")
            .service_metadata
            .as_deref(),
        Some(r#"{"hostnames":["c.com"],"ingress_name":"web","namespace":"default"}"#)
    );
}

#[test]
fn missing_or_bad_secret_keeps_the_host_on_plain_http() {
    let mut objects = example();
    objects.retain(|o| o["kind"] != "Secret");
    let out = run_with(&objects, &ing_settings(false, ShardSize::Large));
    let w = warnings(&out, "InvalidTLSSecret");
    assert_eq!(w.len(), 1);
    assert!(
        w[0].message.contains("default/foo-tls: does not exist"),
        "{}",
        w[0].message
    );
    assert!(w[0].message.contains("plain HTTP"));
    // foo.com is insecure now: on the shared group, no child, no cert, no redirect.
    assert_eq!(
        names_of(&out.model.virtual_services, |v| &v.name),
        ["cl1--Shared-L7-0", "cl1--Shared-L7-1"]
    );
    assert!(out.model.ssl_key_and_certificates.is_empty());
    let labels: Vec<String> = pg(&out, "cl1--Shared-L7-0")
        .members
        .iter()
        .map(|m| m.priority_label.clone().unwrap())
        .collect();
    assert_eq!(labels, ["foo.com/", "foo.com/bar"]);
    assert!(vs(&out, "cl1--Shared-L7-0").http_policies.is_empty());

    // A private key in tls.crt is refused, and the key never shows in a message.
    let mut objects = example();
    for o in &mut objects {
        if o["kind"] == "Secret" {
            *o = secret("default", "foo-tls", &format!("{CERT}{KEY}"), KEY);
        }
    }
    let out = run_with(&objects, &ing_settings(false, ShardSize::Large));
    let w = warnings(&out, "InvalidTLSSecret");
    assert_eq!(w.len(), 1);
    assert!(
        w[0].message.contains("PRIVATE KEY block"),
        "{}",
        w[0].message
    );
    assert!(out.notices.iter().all(|n| !n.message.contains("MIGHAgEA")));
    assert!(out.model.ssl_key_and_certificates.is_empty());
    // Garbage certificate.
    assert_eq!(
        certificates_only("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        Err(SecretError::BadCertificate)
    );
    assert_eq!(certificates_only(""), Err(SecretError::BadCertificate));
    assert_eq!(check_key(CERT), Err(SecretError::BadKey));
    assert_eq!(
        certificates_only(CERT).as_deref().map(str::trim),
        Ok(CERT.trim())
    );
    assert_eq!(check_key(KEY), Ok(()));
}

#[test]
fn tls_conflicts_and_tls_hosts_without_rules() {
    let mut objects = example();
    objects.push(secret("other", "x-tls", CERT, KEY));
    objects.push(ingress(
        "other",
        "late",
        "2024-05-01T00:00:00Z",
        &[("foo.com", "/late", "Prefix", "svc", json!({"number": 80}))],
        json!([{"hosts": ["foo.com", "nowhere.com"], "secretName": "x-tls"}]),
    ));
    let out = run_with(&objects, &ing_settings(false, ShardSize::Large));
    let w = warnings(&out, "TLSConflict");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].object, ingress_key("other", "late"));
    assert!(w[0].message.contains("default/foo-tls"), "{}", w[0].message);
    assert_eq!(warnings(&out, "TLSHostWithoutRule").len(), 1);
    // The late Ingress's path is served on the secure child through its own namespace's set.
    let child = vs(&out, "cl1--foo.com");
    assert_eq!(
        child
            .http_policies
            .iter()
            .map(|p| ref_name(&p.http_policy_set_ref))
            .collect::<Vec<_>>(),
        ["cl1--other-foo.com", "cl1--default-foo.com"]
    );
    // `/late` (5) after `/bar` (4)? No: the `other` set leads with /late, then `default`'s
    // /bar and /: lengths 5, 4, 1 stay in order, so no PolicySetOrder warning.
    assert!(warnings(&out, "PolicySetOrder").is_empty());
    assert_eq!(out.model.ssl_key_and_certificates.len(), 1);
}

#[test]
fn policy_sets_of_several_namespaces_warn_when_order_breaks() {
    let objects = vec![
        avi_class(),
        ingress(
            "a",
            "one",
            "2024-01-01T00:00:00Z",
            &[
                ("m.com", "/", "Prefix", "svc", json!({"number": 80})),
                ("m.com", "/abcdef", "Prefix", "svc", json!({"number": 80})),
            ],
            json!([]),
        ),
        ingress(
            "b",
            "two",
            "2024-01-02T00:00:00Z",
            &[("m.com", "/abc", "Prefix", "svc", json!({"number": 80}))],
            json!([]),
        ),
    ];
    let out = run_with(&objects, &ing_settings(true, ShardSize::Large));
    let w = warnings(&out, "PolicySetOrder");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].object, ingress_key("b", "two"));
}

#[test]
fn resource_backends_are_refused_without_a_crash() {
    let mut ing = ingress(
        "default",
        "web",
        "2024-01-01T00:00:00Z",
        &[("r.com", "/", "Prefix", "svc", json!({"number": 80}))],
        json!([]),
    );
    ing["spec"]["rules"][0]["http"]["paths"].as_array_mut().unwrap().push(json!({
        "path": "/static", "pathType": "Prefix",
        "backend": {"resource": {"apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "static"}}}));
    let out = run_with(&[avi_class(), ing], &ing_settings(false, ShardSize::Large));
    let w = warnings(&out, "UnsupportedBackend");
    assert_eq!(w.len(), 1);
    assert!(
        w[0].message
            .contains("k8s.example.com/StorageBucket static"),
        "{}",
        w[0].message
    );
    assert_eq!(
        names_of(&out.model.pools, |p| &p.name),
        ["cl1--r.com_-default-web"]
    );
}

#[test]
fn names_over_255_characters_are_refused_with_an_event() {
    let label = "a".repeat(60);
    let host = format!("{label}.{label}.{label}.{label}.com");
    assert!(host.len() < 253);
    let objects = vec![
        avi_class(),
        ingress(
            "default",
            "web",
            "2024-01-01T00:00:00Z",
            &[(
                &host,
                "/a-rather-long-path",
                "Prefix",
                "svc",
                json!({"number": 80}),
            )],
            json!([]),
        ),
    ];
    let out = run_with(&objects, &ing_settings(false, ShardSize::Large));
    let w = warnings(&out, "NameTooLong");
    assert_eq!(w.len(), 1);
    assert!(w[0].message.contains("longer than 255"), "{}", w[0].message);
    assert!(out.model.pools.is_empty());
    assert!(out.model.virtual_services.is_empty());
    assert!(out.statuses[0].addresses.is_empty());
    // EVH names are short whatever the host.
    let out = run_with(&objects, &ing_settings(true, ShardSize::Large));
    assert!(warnings(&out, "NameTooLong").is_empty());
    assert_eq!(out.model.pools.len(), 1);
}

#[test]
fn named_ports_resolve_through_the_service() {
    let objects = vec![
        avi_class(),
        service("default", "svc"),
        slice("default", "svc", &["10.1.0.9"]),
        ingress(
            "default",
            "web",
            "2024-01-01T00:00:00Z",
            &[
                ("p.com", "/", "Prefix", "svc", json!({"name": "http"})),
                ("p.com", "/nope", "Prefix", "svc", json!({"name": "grpc"})),
                ("p.com", "/gone", "Prefix", "missing", json!({"number": 80})),
            ],
            json!([]),
        ),
    ];
    let out = run_with(&objects, &ing_settings(false, ShardSize::Large));
    let served = pool(&out, "cl1--p.com_-default-web");
    assert_eq!(served.servers.len(), 1);
    assert_eq!(served.servers[0].port, Some(8080));
    assert!(pool(&out, "cl1--p.com_nope-default-web").servers.is_empty());
    assert!(pool(&out, "cl1--p.com_gone-default-web").servers.is_empty());
    let w = warnings(&out, "BackendNotFound");
    assert_eq!(w.len(), 2);
    assert!(
        w.iter()
            .any(|n| n.message.contains("has no port named grpc"))
    );
    assert!(
        w.iter()
            .any(|n| n.message.contains("Service default/missing does not exist"))
    );
}

#[test]
fn default_backend_is_the_lowest_rule_of_every_host() {
    let mut ing = ingress(
        "default",
        "web",
        "2024-01-01T00:00:00Z",
        &[
            ("d.com", "/api", "Prefix", "api", json!({"number": 80})),
            ("e.com", "/", "Prefix", "svc", json!({"number": 80})),
        ],
        json!([{"hosts": ["d.com"], "secretName": "d-tls"}]),
    );
    ing["spec"]["defaultBackend"] =
        json!({"service": {"name": "fallback", "port": {"number": 80}}});
    let objects = vec![avi_class(), secret("default", "d-tls", CERT, KEY), ing];
    let out = run_with(&objects, &ing_settings(false, ShardSize::Large));
    assert_eq!(
        rules(ps(&out, "cl1--default-d.com")),
        [
            (
                "cl1--default-d.com-0".into(),
                "BEGINS_WITH".into(),
                "/api/".into(),
                "cl1--default-d.com_api-web".into()
            ),
            (
                "cl1--default-d.com-0-exact".into(),
                "EQUALS".into(),
                "/api".into(),
                "cl1--default-d.com_api-web".into()
            ),
            (
                "cl1--default-d.com-1".into(),
                "BEGINS_WITH".into(),
                "/".into(),
                "cl1--default-d.com_-web".into()
            ),
        ]
    );
    assert!(
        pool(&out, "cl1--default-d.com_-web")
            .markers
            .contains(&Marker::new("ServiceName", ["fallback"]))
    );
    // e.com has its own `/`: the default backend does not replace it.
    assert!(
        pool(&out, "cl1--e.com_-default-web")
            .service_metadata
            .is_some()
    );
    assert_eq!(out.model.pools.len(), 3);

    // No host: an Event, nothing programmed.
    let mut ing = ingress("default", "bare", "2024-01-01T00:00:00Z", &[], json!([]));
    ing["spec"]["defaultBackend"] =
        json!({"service": {"name": "fallback", "port": {"number": 80}}});
    let out = run_with(&[avi_class(), ing], &ing_settings(false, ShardSize::Large));
    assert_eq!(warnings(&out, "DefaultBackendWithoutHost").len(), 1);
    assert!(out.model.virtual_services.is_empty());
    assert_eq!(out.statuses.len(), 1);
    assert!(out.statuses[0].addresses.is_empty());
}

fn istio_settings(refs: bool) -> Settings {
    Settings {
        istio_enabled: true,
        istio_refs: refs.then(|| IstioRefs::for_cluster("cl1", "avi-system")),
        ..settings()
    }
}

#[test]
fn istio_refs_on_sidecar_pools_and_warnings_for_ambient() {
    let objects = vec![
        avi_class(),
        namespace("mesh", json!({"istio-injection": "enabled"})),
        namespace("amb", json!({"istio.io/dataplane-mode": "ambient"})),
        namespace("plain", json!({})),
        ingress(
            "mesh",
            "m",
            "2024-01-01T00:00:00Z",
            &[("m.com", "/", "Prefix", "svc", json!({"number": 80}))],
            json!([]),
        ),
        ingress(
            "amb",
            "a",
            "2024-01-01T00:00:00Z",
            &[("a.com", "/", "Prefix", "svc", json!({"number": 80}))],
            json!([]),
        ),
        ingress(
            "plain",
            "p",
            "2024-01-01T00:00:00Z",
            &[("p.com", "/", "Prefix", "svc", json!({"number": 80}))],
            json!([]),
        ),
    ];
    let s = snapshot(&objects);
    let out = translate(
        &s,
        &istio_settings(true),
        &ing_settings(false, ShardSize::Large),
        &now(),
    );
    let m = pool(&out, "cl1--m.com_-mesh-m");
    assert_eq!(
        m.pki_profile_ref.as_ref().map(ref_name).as_deref(),
        Some("istio-pki-cl1-avi-system")
    );
    assert_eq!(
        m.ssl_key_and_certificate_ref
            .as_ref()
            .map(ref_name)
            .as_deref(),
        Some("istio-workload-cl1-avi-system")
    );
    assert_eq!(
        m.ssl_profile_ref.as_ref().map(ref_name).as_deref(),
        Some("System-Standard")
    );
    assert_eq!(
        m.sni_enabled,
        Some(false),
        "AKO sends sni_enabled false on Istio pools"
    );
    let a = pool(&out, "cl1--a.com_-amb-a");
    assert!(a.pki_profile_ref.is_none() && a.ssl_profile_ref.is_none());
    let w = warnings(&out, "BackendTLS");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].object, ingress_key("amb", "a"));
    assert!(w[0].message.contains("ambient"));
    let p = pool(&out, "cl1--p.com_-plain-p");
    assert!(p.pki_profile_ref.is_none());
    let notes: Vec<&Notice> = out
        .notices
        .iter()
        .filter(|n| n.reason == "BackendNotInMesh")
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].severity, Severity::Normal);
    assert!(out.model.pools_keeping_tls.is_empty());

    // Refs not published yet: the mesh pool keeps the TLS the controller holds.
    let out = translate(
        &s,
        &istio_settings(false),
        &ing_settings(false, ShardSize::Large),
        &now(),
    );
    assert!(out.model.pools_keeping_tls.contains("cl1--m.com_-mesh-m"));
    assert!(pool(&out, "cl1--m.com_-mesh-m").pki_profile_ref.is_none());
}

#[test]
fn status_lists_every_host_per_vip_once_addressed() {
    let t = IngressTranslator::new(ing_settings(false, ShardSize::Large));
    let out = t.translate(&snapshot(&example()), &settings(), &now());
    assert_eq!(out.statuses.len(), 1);
    let mut st = out.statuses[0].clone();
    assert_eq!(st.key, ingress_key("default", "foo"));
    assert_eq!(st.status, json!({"loadBalancer": {"ingress": []}}));
    // foo.com sits on shard 0 and bar.com on shard 1: each host shows its own parent's VIP.
    assert_eq!(
        st.addresses,
        vec![
            AddressNeed {
                vsvip: "cl1--Shared-L7-0".into(),
                virtual_service: "cl1--Shared-L7-0".into(),
                hosts: vec!["foo.com".into()],
            },
            AddressNeed {
                vsvip: "cl1--Shared-L7-1".into(),
                virtual_service: "cl1--Shared-L7-1".into(),
                hosts: vec!["bar.com".into()],
            },
        ]
    );
    let both = |a: Addressed, b: Addressed| vec![a, b];
    assert!(!t.address(
        &mut st,
        &both(Addressed::NotYet, Addressed::NotYet),
        None,
        &now()
    ));
    assert_eq!(st.status, json!({"loadBalancer": {"ingress": []}}));
    // One VIP known, the other not yet: what is known is shown, and the runtime looks again.
    assert!(!t.address(
        &mut st,
        &both(Addressed::Vip("10.250.0.7".into()), Addressed::NotYet),
        None,
        &now()
    ));
    assert_eq!(
        st.status,
        json!({"loadBalancer": {"ingress": [{"ip": "10.250.0.7", "hostname": "foo.com"}]}})
    );
    // A failed read keeps what is shown for those hosts.
    let shown = json!({"loadBalancer": {"ingress": [
        {"ip": "10.250.0.7", "hostname": "foo.com"}, {"ip": "10.250.0.8", "hostname": "bar.com"}]}});
    assert!(!t.address(
        &mut st,
        &both(
            Addressed::Unknown("503".into()),
            Addressed::Unknown("503".into())
        ),
        Some(&shown),
        &now()
    ));
    assert_eq!(st.status, shown);
    assert!(t.address(
        &mut st,
        &both(
            Addressed::Vip("10.250.0.7".into()),
            Addressed::Vip("10.250.0.8".into())
        ),
        None,
        &now()
    ));
    assert_eq!(st.status, shown);
    assert!(t.address(
        &mut st,
        &both(
            Addressed::Failed("refused".into()),
            Addressed::Failed("refused".into())
        ),
        None,
        &now()
    ));
    assert_eq!(st.status, json!({"loadBalancer": {"ingress": []}}));
    assert_eq!(t.name(), "ingress");
    let kinds = t.kinds();
    assert!(kinds[0].writes_status && kinds[0].kind == "Ingress");
    assert_eq!(kinds[1].kind, "IngressClass");
}

#[test]
fn same_objects_in_any_order_give_the_same_output() {
    let mut objects = example();
    objects.push(ingress(
        "other",
        "late",
        "2024-05-01T00:00:00Z",
        &[
            ("foo.com", "/", "Prefix", "svc", json!({"number": 80})),
            ("z.com", "/z", "Exact", "svc", json!({"number": 80})),
        ],
        json!([]),
    ));
    let a = run_with(&objects, &ing_settings(false, ShardSize::Large));
    objects.reverse();
    let b = run_with(&objects, &ing_settings(false, ShardSize::Large));
    assert_eq!(a.model, b.model);
    assert_eq!(a.notices, b.notices);
    assert_eq!(a.statuses, b.statuses);
    assert_eq!(a.model.to_json(), b.model.to_json());
    // The key is redacted in the dry-run JSON.
    assert_eq!(
        a.model.to_json()["sslkeyandcertificate"][0]["key"],
        "<sensitive>"
    );
}

fn svc_port() -> Value {
    json!({"number": 80})
}

#[test]
fn a_key_in_any_armour_never_reaches_the_certificate_field() {
    // Lowercase armour, bare base64 and OpenSSL's bag attributes are not PEM blocks the parser
    // takes: they are dropped with everything else that is not a certificate block.
    let key_body = KEY.lines().nth(1).unwrap();
    for crt in [
        format!("{CERT}{}", KEY.to_lowercase()),
        format!("{CERT}{key_body}\n"),
        format!(
            "Bag Attributes\n    localKeyID: 01\nsubject=/CN=foo.com\n{CERT}# key: {key_body}\n"
        ),
    ] {
        let out = run_with(
            &[
                avi_class(),
                service("default", "svc"),
                secret("default", "tls", &crt, KEY),
                ingress(
                    "default",
                    "web",
                    "2024-01-01T00:00:00Z",
                    &[("foo.com", "/", "Prefix", "svc", svc_port())],
                    json!([{"hosts": ["foo.com"], "secretName": "tls"}]),
                ),
            ],
            &ing_settings(true, ShardSize::Large),
        );
        let printed = out.model.to_json().to_string();
        assert!(!printed.contains(key_body));
        assert!(out.notices.iter().all(|n| !n.message.contains(key_body)));
        // A key armour in any letter case is refused outright; other text is dropped.
        let Some(cert) = out.model.ssl_key_and_certificates.first() else {
            assert_eq!(
                warnings(&out, "InvalidTLSSecret").len(),
                1,
                "{:?}",
                out.notices
            );
            continue;
        };
        let text = cert.certificate.certificate.clone().unwrap_or_default();
        assert!(!text.contains(key_body), "{text}");
        assert!(!text.to_lowercase().contains("private"), "{text}");
        assert_eq!(text.trim(), CERT.trim());
    }
}

#[test]
fn evh_names_that_meet_are_refused_not_dropped() {
    // EVH hashes `cl1--a-b.com` for the TLS host's child and redirect set, and
    // `cl1--` + `a` + `-` + `b.com` for namespace a's policy set of host b.com: the same name.
    let out = run_with(
        &[
            avi_class(),
            service("default", "svc"),
            service("a", "svc"),
            secret("default", "tls", CERT, KEY),
            ingress(
                "default",
                "x",
                "2024-01-01T00:00:00Z",
                &[("a-b.com", "/", "Prefix", "svc", svc_port())],
                json!([{"hosts": ["a-b.com"], "secretName": "tls"}]),
            ),
            ingress(
                "a",
                "yy",
                "2024-06-01T00:00:00Z",
                &[("b.com", "/", "Prefix", "svc", svc_port())],
                json!([]),
            ),
        ],
        &ing_settings(true, ShardSize::Large),
    );
    let w = warnings(&out, "NameCollision");
    assert_eq!(w.len(), 1, "{:?}", out.notices);
    assert_eq!(w[0].object, ingress_key("a", "yy"));
    // The TLS host keeps its redirect and its own routing.
    let redirect = out
        .model
        .http_policy_sets
        .iter()
        .filter(|p| p.name == Names::new("cl1", true).child_vs("a-b.com"))
        .count();
    assert_eq!(redirect, 1);
    let mut names: Vec<&str> = out
        .model
        .http_policy_sets
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "no two policy sets share a name");
}

#[test]
fn a_trailing_slash_or_case_does_not_take_another_ingress_s_path() {
    for (evh, a, b) in [
        (false, "/api", "/api/"),
        (true, "/api", "/api/"),
        (false, "/api", "/API"),
    ] {
        let out = run_with(
            &[
                avi_class(),
                service("default", "svc"),
                service("evil", "svc"),
                ingress(
                    "default",
                    "victim",
                    "2024-01-01T00:00:00Z",
                    &[("foo.com", a, "Prefix", "svc", svc_port())],
                    json!([]),
                ),
                ingress(
                    "evil",
                    "evil",
                    "2024-06-01T00:00:00Z",
                    &[("foo.com", b, "Prefix", "svc", svc_port())],
                    json!([]),
                ),
            ],
            &ing_settings(evh, ShardSize::Large),
        );
        let w = warnings(&out, "HostPathConflict");
        assert_eq!(w.len(), 1, "evh {evh} {a} {b}: {:?}", out.notices);
        assert_eq!(w[0].object, ingress_key("evil", "evil"));
        assert!(
            out.model.pools.iter().all(|p| !p
                .markers
                .iter()
                .any(|m| m.values.iter().any(|v| v == "evil"))),
            "no pool of the later Ingress"
        );
    }
}

#[test]
fn hosts_paths_and_path_types_kubernetes_would_refuse_are_refused() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("FOO.com", "/", "Prefix", "InvalidHost"),
        ("foo.com/admin", "/", "Prefix", "InvalidHost"),
        ("foo.com:8080", "/", "Prefix", "InvalidHost"),
        ("foo.com\r\nx-evil: 1", "/", "Prefix", "InvalidHost"),
        ("bücher.de", "/", "Prefix", "InvalidHost"),
        ("*", "/", "Prefix", "InvalidHost"),
        (
            "foo.com",
            "om/admin",
            "ImplementationSpecific",
            "InvalidPath",
        ),
        ("foo.com", "/a\u{0}b", "Prefix", "InvalidPath"),
        ("foo.com", "//", "Prefix", "InvalidPath"),
        ("foo.com", "/a/../b", "Prefix", "InvalidPath"),
        ("foo.com", "/api", "exact", "InvalidPath"),
    ];
    for (host, path, kind, reason) in cases {
        let out = run_with(
            &[
                avi_class(),
                service("default", "svc"),
                ingress(
                    "default",
                    "web",
                    "2024-01-01T00:00:00Z",
                    &[(host, path, kind, "svc", svc_port())],
                    json!([]),
                ),
            ],
            &ing_settings(true, ShardSize::Large),
        );
        let w = warnings(&out, reason);
        assert_eq!(w.len(), 1, "{host:?} {path:?} {kind}: {:?}", out.notices);
        assert!(!w[0].message.contains('\r') && !w[0].message.contains('\0'));
        assert!(out.model.pools.is_empty(), "{host:?} {path:?} {kind}");
    }
    // A wildcard host is a valid host.
    assert!(check_host("*.foo.com").is_ok());
    assert!(check_host("xn--bcher-kva.de").is_ok());
}

#[test]
fn a_tls_entry_without_hosts_is_said() {
    let out = run_with(
        &[
            avi_class(),
            service("default", "svc"),
            secret("default", "tls", CERT, KEY),
            ingress(
                "default",
                "web",
                "2024-01-01T00:00:00Z",
                &[("foo.com", "/", "Prefix", "svc", svc_port())],
                json!([{"secretName": "tls"}]),
            ),
        ],
        &ing_settings(false, ShardSize::Large),
    );
    assert_eq!(
        warnings(&out, "TLSHostWithoutRule").len(),
        1,
        "{:?}",
        out.notices
    );
}

#[test]
fn ingress_pools_follow_endpoints_without_a_full_translation() {
    let objects = example();
    let out = run_with(&objects, &ing_settings(true, ShardSize::Large));
    assert_eq!(out.pool_backends.len(), out.model.pools.len());
    let (name, backend) = out.pool_backends.iter().next().unwrap();
    assert_eq!((backend.service.as_str(), backend.port), ("svc", 80));
    let mut pool = out
        .model
        .pools
        .iter()
        .find(|p| &p.name == name)
        .unwrap()
        .clone();
    // The Service's endpoints move: the pool alone follows, as a full translation would.
    let mut moved = objects.clone();
    moved.retain(|o| o["kind"] != "EndpointSlice");
    moved.push(slice("default", "svc", &["10.9.9.9"]));
    let s = snapshot(&moved);
    let index = SliceIndex::of_namespace(&s.shared, "default");
    assert_eq!(
        translate_core::incremental::refresh_pool(
            &mut pool,
            backend,
            &s.shared,
            &index,
            &settings()
        ),
        translate_core::incremental::Refresh::Servers
    );
    let full = run_with(&moved, &ing_settings(true, ShardSize::Large));
    assert_eq!(
        full.model.pools.iter().find(|p| &p.name == name),
        Some(&pool)
    );
}
