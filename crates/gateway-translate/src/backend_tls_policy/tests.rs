use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::snapshot::InsertError;

fn at(secs: i64) -> Time {
    Time(Timestamp::from_second(secs).unwrap())
}

/// A real self-signed CA certificate, as PEM.
fn ca_pem(name: &str) -> String {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    params.self_signed(&key).unwrap().pem()
}

fn service(name: &str, ports: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": "apps"},
           "spec": {"ports": ports}})
}

fn config_map(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": "apps"}, "data": data})
}

fn ca_ref(name: &str) -> Value {
    json!([{"group": "", "kind": "ConfigMap", "name": name}])
}

fn target(service: &str, section: Option<&str>) -> Value {
    json!({"group": "", "kind": "Service", "name": service, "sectionName": section})
}

fn policy(name: &str, targets: Value, validation: Value) -> Value {
    json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "BackendTLSPolicy",
           "metadata": {"name": name, "namespace": "apps", "generation": 3},
           "spec": {"targetRefs": targets, "validation": validation}})
}

fn with_created(mut p: Value, time: &str) -> Value {
    p["metadata"]["creationTimestamp"] = json!(time);
    p
}

fn snapshot(objects: Vec<Value>) -> Snapshot {
    let mut s = Snapshot::default();
    for o in objects {
        s.insert_json(o).unwrap();
    }
    s
}

/// Service `web` (https 443, admin 8443), ConfigMap `ca` holding `ca_pem`, plus `more`.
fn base(ca_pem: &str, more: Vec<Value>) -> Snapshot {
    let mut objects = vec![
        service(
            "web",
            json!([{"name": "https", "port": 443}, {"name": "admin", "port": 8443}]),
        ),
        config_map("ca", json!({"ca.crt": ca_pem})),
    ];
    objects.extend(more);
    snapshot(objects)
}

fn key(name: &str) -> ObjectKey {
    ("apps".to_owned(), name.to_owned())
}

fn gw(name: &str) -> ObjectKey {
    ("infra".to_owned(), name.to_owned())
}

fn valid(outcome: Option<&PolicyOutcome>) -> &TlsToBackend {
    match outcome {
        Some(PolicyOutcome::Valid(tls)) => tls.as_ref(),
        other => panic!("expected a valid policy, got {other:?}"),
    }
}

fn invalid(outcome: Option<&PolicyOutcome>) -> (&'static str, &str) {
    match outcome {
        Some(PolicyOutcome::Invalid {
            reason, message, ..
        }) => (reason, message.as_str()),
        other => panic!("expected an invalid policy, got {other:?}"),
    }
}

/// The conditions of our ancestor entry for Gateway `infra/<gateway>`.
fn ancestor_conditions<'a>(
    updates: &'a [PolicyStatusUpdate],
    policy: &str,
    gateway: &str,
) -> &'a [Condition] {
    let update = updates
        .iter()
        .find(|u| u.policy == key(policy))
        .unwrap_or_else(|| panic!("no status for {policy}: {updates:?}"));
    let entry = update
        .status
        .ancestors
        .iter()
        .find(|a| {
            a.ancestor_ref.name == gateway
                && a.controller_name == Settings::default().controller_name
        })
        .unwrap_or_else(|| panic!("no ancestor {gateway} on {policy}: {update:?}"));
    &entry.conditions
}

fn condition<'a>(conditions: &'a [Condition], type_: &str) -> (&'a str, &'a str) {
    let c = conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} in {conditions:?}"));
    (c.status.as_str(), c.reason.as_str())
}

fn uses(entries: &[(&str, i32, &str)]) -> BackendUses {
    let mut u = BackendUses::default();
    for (svc, port, gateway) in entries {
        u.record("apps", svc, *port, gw(gateway));
    }
    u
}

#[test]
fn valid_policy_gives_a_pki_profile_sni_and_host_check() {
    let (ca1, ca2) = (ca_pem("root"), ca_pem("intermediate"));
    // CRLF and a stray non-certificate block must not matter.
    let bundle = format!(
        "{}\r\n-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n{ca2}",
        ca1.replace('\n', "\r\n")
    );
    let s = base(
        &bundle,
        vec![policy(
            "p",
            json!([target("web", Some("https"))]),
            json!({"caCertificateRefs": ca_ref("ca"), "hostname": "abc.example.com"}),
        )],
    );
    let settings = Settings::default();
    let resolved = resolve(&s, &settings);
    let tls = valid(resolved.for_backend("apps", "web", 443));
    assert_eq!(tls.policy, key("p"));
    assert_eq!(tls.server_name, "abc.example.com");
    assert_eq!(tls.host_check_names, ["abc.example.com"]);
    let pki = &tls.pki_profile;
    assert_eq!(
        pki.name,
        format!("ako-gw-cluster--{}", crate::names::sha1_hex("apps-p-btls"))
    );
    assert_eq!(pki.name, pki_profile_name(&settings, "apps", "p"));
    assert_eq!(pki.created_by.as_deref(), Some("ako-gw-cluster-avi-system"));
    assert_eq!(
        pki.markers,
        [Marker::new("clustername", ["cluster".to_owned()])]
    );
    assert_eq!(pki.crl_check, Some(false));
    let certs: Vec<&str> = pki
        .ca_certs
        .iter()
        .map(|c| c.certificate.as_deref().unwrap())
        .collect();
    assert_eq!(certs, [ca1.as_str(), ca2.as_str()], "one PEM block each");

    let mut pool = Pool::default();
    tls.apply(&mut pool);
    assert_eq!(
        pool.pki_profile_ref.as_ref().and_then(AviRef::name),
        Some(pki.name.as_str())
    );
    assert_eq!(
        pool.ssl_profile_ref.as_ref().and_then(AviRef::name),
        Some("System-Standard")
    );
    assert_eq!(pool.server_name.as_deref(), Some("abc.example.com"));
    assert_eq!(pool.sni_enabled, Some(true));
    assert_eq!(pool.host_check_enabled, Some(true));
    assert_eq!(pool.domain_name, ["abc.example.com"]);

    assert!(
        resolved.for_backend("apps", "web", 8443).is_none(),
        "the policy names port https only"
    );
    assert!(resolved.for_backend("apps", "other", 443).is_none());

    let now = at(1000);
    let updates = resolved.statuses(&s, &settings, &uses(&[("web", 443, "gw")]), &now);
    let c = ancestor_conditions(&updates, "p", "gw");
    assert_eq!(condition(c, "Accepted"), ("True", "Accepted"));
    assert_eq!(condition(c, "ResolvedRefs"), ("True", "ResolvedRefs"));
    assert!(c.iter().all(|c| c.observed_generation == Some(3)));
    let a = &updates[0].status.ancestors[0];
    assert_eq!(a.ancestor_ref.group.as_deref(), Some(GATEWAY_GROUP));
    assert_eq!(a.ancestor_ref.kind.as_deref(), Some("Gateway"));
    assert_eq!(a.ancestor_ref.namespace.as_deref(), Some("infra"));
    assert_eq!(a.controller_name, settings.controller_name);
}

#[test]
fn a_port_policy_beats_a_whole_service_policy_without_conflict() {
    // Conformance BackendTLSPolicyConflictResolution, "not conflicted": the whole-Service
    // policy is older, yet the port policy wins on its port.
    let ca = ca_pem("ca");
    let validation = |host: &str| json!({"caCertificateRefs": ca_ref("ca"), "hostname": host});
    let s = base(
        &ca,
        vec![
            with_created(
                policy(
                    "whole",
                    json!([target("web", None)]),
                    validation("abc.example.com"),
                ),
                "2024-01-01T00:00:00Z",
            ),
            with_created(
                policy(
                    "port",
                    json!([target("web", Some("https"))]),
                    validation("other.example.com"),
                ),
                "2024-06-01T00:00:00Z",
            ),
        ],
    );
    let settings = Settings::default();
    let resolved = resolve(&s, &settings);
    assert_eq!(
        valid(resolved.for_backend("apps", "web", 443)).server_name,
        "other.example.com"
    );
    assert_eq!(
        valid(resolved.for_backend("apps", "web", 8443)).server_name,
        "abc.example.com"
    );
    let updates = resolved.statuses(
        &s,
        &settings,
        &uses(&[("web", 443, "gw"), ("web", 8443, "gw")]),
        &at(1),
    );
    for p in ["whole", "port"] {
        let c = ancestor_conditions(&updates, p, "gw");
        assert_eq!(condition(c, "Accepted"), ("True", "Accepted"), "{p}");
    }
}

#[test]
fn conflicts_go_to_the_oldest_then_the_first_name() {
    let ca = ca_pem("ca");
    let v = |host: &str| json!({"caCertificateRefs": ca_ref("ca"), "hostname": host});
    let s = base(
        &ca,
        vec![
            // "a-new" sorts first but is newer: age decides.
            with_created(
                policy("a-new", json!([target("web", None)]), v("new.example.com")),
                "2024-06-01T00:00:00Z",
            ),
            with_created(
                policy("z-old", json!([target("web", None)]), v("old.example.com")),
                "2024-01-01T00:00:00Z",
            ),
            // Same age on the port: the name decides.
            with_created(
                policy(
                    "b-port",
                    json!([target("web", Some("https"))]),
                    v("b.example.com"),
                ),
                "2024-01-01T00:00:00Z",
            ),
            with_created(
                policy(
                    "a-port",
                    json!([target("web", Some("https"))]),
                    v("a.example.com"),
                ),
                "2024-01-01T00:00:00Z",
            ),
        ],
    );
    let settings = Settings::default();
    let resolved = resolve(&s, &settings);
    assert_eq!(
        valid(resolved.for_backend("apps", "web", 8443)).server_name,
        "old.example.com"
    );
    assert_eq!(
        valid(resolved.for_backend("apps", "web", 443)).server_name,
        "a.example.com"
    );
    let updates = resolved.statuses(
        &s,
        &settings,
        &uses(&[("web", 443, "gw"), ("web", 8443, "gw")]),
        &at(1),
    );
    for (p, want) in [
        ("z-old", ("True", "Accepted")),
        ("a-new", ("False", "Conflicted")),
        ("a-port", ("True", "Accepted")),
        ("b-port", ("False", "Conflicted")),
    ] {
        let c = ancestor_conditions(&updates, p, "gw");
        assert_eq!(condition(c, "Accepted"), want, "{p}");
    }
    let loser = ancestor_conditions(&updates, "a-new", "gw");
    assert!(loser[0].message.contains("apps/z-old"), "{loser:?}");
}

#[test]
fn without_timestamps_the_name_decides() {
    let ca = ca_pem("ca");
    let v = |host: &str| json!({"caCertificateRefs": ca_ref("ca"), "hostname": host});
    let s = base(
        &ca,
        vec![
            policy("b", json!([target("web", None)]), v("b.example.com")),
            policy("a", json!([target("web", None)]), v("a.example.com")),
            with_created(
                policy("z", json!([target("web", None)]), v("z.example.com")),
                "2024-01-01T00:00:00Z",
            ),
        ],
    );
    let resolved = resolve(&s, &Settings::default());
    assert_eq!(
        valid(resolved.for_backend("apps", "web", 443)).server_name,
        "z.example.com",
        "a stored (timestamped) policy is older than one without a timestamp"
    );
    let s = base(
        &ca,
        vec![
            policy("b", json!([target("web", None)]), v("b.example.com")),
            policy("a", json!([target("web", None)]), v("a.example.com")),
        ],
    );
    let resolved = resolve(&s, &Settings::default());
    assert_eq!(
        valid(resolved.for_backend("apps", "web", 443)).server_name,
        "a.example.com"
    );
}

fn ca_problem(config_maps: Vec<Value>, refs: Value) -> (Snapshot, BackendTlsPolicies) {
    let mut objects = vec![
        service("web", json!([{"name": "https", "port": 443}])),
        policy(
            "p",
            json!([target("web", None)]),
            json!({"caCertificateRefs": refs, "hostname": "abc.example.com"}),
        ),
    ];
    objects.extend(config_maps);
    let s = snapshot(objects);
    let resolved = resolve(&s, &Settings::default());
    (s, resolved)
}

fn assert_status(s: &Snapshot, r: &BackendTlsPolicies, accepted: (&str, &str), refs: (&str, &str)) {
    let updates = r.statuses(
        s,
        &Settings::default(),
        &uses(&[("web", 443, "gw")]),
        &at(1),
    );
    let c = ancestor_conditions(&updates, "p", "gw");
    assert_eq!(condition(c, "Accepted"), accepted);
    assert_eq!(condition(c, "ResolvedRefs"), refs);
}

#[test]
fn a_missing_config_map_refuses_the_backend() {
    let (s, r) = ca_problem(vec![], ca_ref("ca"));
    let (reason, message) = invalid(r.for_backend("apps", "web", 443));
    assert_eq!(reason, "InvalidCACertificateRef");
    assert!(message.contains("apps/p"), "{message}");
    assert!(
        message.contains("ConfigMap apps/ca does not exist"),
        "{message}"
    );
    assert_status(
        &s,
        &r,
        ("False", "NoValidCACertificate"),
        ("False", "InvalidCACertificateRef"),
    );
}

#[test]
fn a_config_map_without_a_usable_ca_crt_refuses_the_backend() {
    let cases = [
        (json!({"other": "x"}), "has no ca.crt"),
        (json!({"ca.crt": "  \n"}), "has no ca.crt"),
        (
            json!({"ca.crt": "not pem at all"}),
            "holds no PEM certificate",
        ),
        (
            json!({"ca.crt": "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"}),
            "not valid PEM",
        ),
        (
            json!({"ca.crt": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}),
            "not valid PEM",
        ),
        (
            json!({"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n"}),
            "not valid PEM",
        ),
        (Value::Null, "has no ca.crt"),
    ];
    for (data, why) in cases {
        let (s, r) = ca_problem(vec![config_map("ca", data.clone())], ca_ref("ca"));
        let (reason, message) = invalid(r.for_backend("apps", "web", 443));
        assert_eq!(reason, "InvalidCACertificateRef", "{data}");
        assert!(message.contains(why), "{data}: {message}");
        assert_status(
            &s,
            &r,
            ("False", "NoValidCACertificate"),
            ("False", "InvalidCACertificateRef"),
        );
    }
}

#[test]
fn a_good_bundle_in_binary_data_is_read() {
    let ca = ca_pem("ca");
    let mut cm = config_map("ca", Value::Null);
    cm["binaryData"] = json!({"ca.crt": base64_of(ca.as_bytes())});
    let (_, r) = ca_problem(vec![cm], ca_ref("ca"));
    let tls = valid(r.for_backend("apps", "web", 443));
    assert_eq!(tls.pki_profile.ca_certs.len(), 1);
}

fn base64_of(bytes: &[u8]) -> String {
    // The PEM body of a fake DER holding `bytes` is their base64.
    let pem = to_pem(bytes);
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
}

#[test]
fn a_ca_ref_of_another_kind_is_invalid_kind() {
    for refs in [
        json!([{"group": "invalid.io", "kind": "InvalidKind", "name": "ca"}]),
        json!([{"group": "", "kind": "Secret", "name": "ca"}]),
    ] {
        let (s, r) = ca_problem(
            vec![config_map("ca", json!({"ca.crt": ca_pem("ca")}))],
            refs.clone(),
        );
        let (reason, message) = invalid(r.for_backend("apps", "web", 443));
        assert_eq!(reason, "InvalidKind", "{refs}");
        assert!(message.contains("not supported"), "{message}");
        assert_status(
            &s,
            &r,
            ("False", "NoValidCACertificate"),
            ("False", "InvalidKind"),
        );
    }
}

#[test]
fn one_bad_ca_ref_among_good_ones_still_refuses_the_backend() {
    let refs = json!([{"group": "", "kind": "ConfigMap", "name": "ca"},
                      {"group": "", "kind": "ConfigMap", "name": "gone"}]);
    let (s, r) = ca_problem(
        vec![config_map("ca", json!({"ca.crt": ca_pem("ca")}))],
        refs,
    );
    let (reason, message) = invalid(r.for_backend("apps", "web", 443));
    assert_eq!(reason, "InvalidCACertificateRef");
    assert!(message.contains("apps/gone"), "{message}");
    // Not all refs are invalid, so the spec keeps the policy Accepted.
    assert_status(
        &s,
        &r,
        ("True", "Accepted"),
        ("False", "InvalidCACertificateRef"),
    );
}

#[test]
fn uri_subject_alt_names_are_refused_not_weakened() {
    let ca = ca_pem("ca");
    for sans in [
        json!([{"type": "URI", "uri": "spiffe://abc.example.com/test-identity"}]),
        json!([{"type": "URI", "uri": "spiffe://abc.example.com/test-identity"},
               {"type": "Hostname", "hostname": "abc.example.com"}]),
    ] {
        let s = base(
            &ca,
            vec![policy(
                "p",
                json!([target("web", None)]),
                json!({"caCertificateRefs": ca_ref("ca"), "hostname": "abc.example.com",
                       "subjectAltNames": sans}),
            )],
        );
        let r = resolve(&s, &Settings::default());
        let (reason, message) = invalid(r.for_backend("apps", "web", 443));
        assert_eq!(reason, "Invalid");
        assert!(
            message.contains("spiffe://abc.example.com/test-identity"),
            "{message}"
        );
        assert!(message.contains("cannot verify URI SANs"), "{message}");
        assert_status(&s, &r, ("False", "Invalid"), ("True", "ResolvedRefs"));
    }
}

#[test]
fn hostname_subject_alt_names_replace_the_hostname_check() {
    let ca = ca_pem("ca");
    let s = base(
        &ca,
        vec![policy(
            "p",
            json!([target("web", None)]),
            json!({"caCertificateRefs": ca_ref("ca"), "hostname": "abc.example.com",
                   "subjectAltNames": [{"type": "Hostname", "hostname": "san1.example.com"},
                                       {"type": "Hostname", "hostname": "san2.example.com"}]}),
        )],
    );
    let r = resolve(&s, &Settings::default());
    let tls = valid(r.for_backend("apps", "web", 443));
    assert_eq!(tls.server_name, "abc.example.com", "hostname stays the SNI");
    assert_eq!(
        tls.host_check_names,
        ["san1.example.com", "san2.example.com"]
    );
}

#[test]
fn well_known_ca_certificates_are_not_supported() {
    let s = base(
        "",
        vec![policy(
            "p",
            json!([target("web", None)]),
            json!({"wellKnownCACertificates": "System", "hostname": "abc.example.com"}),
        )],
    );
    let r = resolve(&s, &Settings::default());
    let (reason, message) = invalid(r.for_backend("apps", "web", 443));
    assert_eq!(reason, "Invalid");
    assert!(
        message.contains(
            "wellKnownCACertificates is not supported: the Avi controller has no system CA bundle for pools"
        ),
        "{message}"
    );
    assert_status(&s, &r, ("False", "Invalid"), ("True", "ResolvedRefs"));
}

#[test]
fn insert_json_reads_v1_and_v1alpha3_only() {
    let mut s = Snapshot::default();
    let mut old = policy(
        "old",
        json!([target("web", None)]),
        json!({"caCertificateRefs": ca_ref("ca"), "hostname": "other.example.com"}),
    );
    old["apiVersion"] = json!("gateway.networking.k8s.io/v1alpha3");
    s.insert_json(old).unwrap();
    let mut ns_less = policy("new", json!([]), json!({"hostname": "abc.example.com"}));
    ns_less["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    s.insert_json(ns_less).unwrap();
    assert_eq!(
        s.backend_tls_policies.keys().cloned().collect::<Vec<_>>(),
        [key("old"), ("default".to_owned(), "new".to_owned())]
    );
    assert_eq!(
        s.backend_tls_policies[&key("old")].spec.validation.hostname,
        "other.example.com"
    );
    assert!(format!("{s:?}").contains("backend_tls_policies: 2"));

    let mut v1alpha2 = policy("x", json!([]), json!({"hostname": "a"}));
    v1alpha2["apiVersion"] = json!("gateway.networking.k8s.io/v1alpha2");
    assert!(matches!(
        s.insert_json(v1alpha2),
        Err(InsertError::Unsupported { .. })
    ));
    let no_validation = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "BackendTLSPolicy",
        "metadata": {"name": "bad", "namespace": "apps"}, "spec": {"targetRefs": []}});
    assert!(matches!(
        s.insert_json(no_validation),
        Err(InsertError::Invalid { .. })
    ));
}

#[test]
fn statuses_keep_other_controllers_and_transition_times() {
    let ca = ca_pem("ca");
    let mut p = policy(
        "p",
        json!([target("web", None)]),
        json!({"caCertificateRefs": ca_ref("ca"), "hostname": "abc.example.com"}),
    );
    let settings = Settings::default();
    let cond = |type_: &str, status: &str, reason: &str, t: &str| {
        json!({"type": type_, "status": status, "reason": reason, "message": "",
               "lastTransitionTime": t, "observedGeneration": 2})
    };
    p["status"] = json!({"ancestors": [
        {"ancestorRef": {"group": GATEWAY_GROUP, "kind": "Gateway", "name": "theirs", "namespace": "infra"},
         "controllerName": "example.com/other",
         "conditions": [cond("Accepted", "False", "Invalid", "2020-01-01T00:00:00Z")]},
        {"ancestorRef": {"name": "gw", "namespace": "infra"},
         "controllerName": settings.controller_name,
         "conditions": [cond("Accepted", "True", "Accepted", "2021-01-01T00:00:00Z"),
                        cond("ResolvedRefs", "False", "InvalidCACertificateRef", "2021-01-01T00:00:00Z")]},
        {"ancestorRef": {"group": GATEWAY_GROUP, "kind": "Gateway", "name": "gone", "namespace": "infra"},
         "controllerName": settings.controller_name,
         "conditions": [cond("Accepted", "True", "Accepted", "2021-01-01T00:00:00Z")]},
        // Same Gateway, another controller: a different map key, untouched.
        {"ancestorRef": {"group": GATEWAY_GROUP, "kind": "Gateway", "name": "gw", "namespace": "infra"},
         "controllerName": "example.com/other",
         "conditions": []},
    ]});
    let s = base(&ca, vec![p]);
    let previous = s.backend_tls_policies[&key("p")]
        .status
        .clone()
        .unwrap()
        .ancestors;
    let r = resolve(&s, &settings);
    let now = at(2_000_000_000);
    let updates = r.statuses(
        &s,
        &settings,
        &uses(&[("web", 443, "gw"), ("web", 443, "new")]),
        &now,
    );
    assert_eq!(updates.len(), 1);
    let ancestors = &updates[0].status.ancestors;
    let names: Vec<(&str, &str)> = ancestors
        .iter()
        .map(|a| (a.ancestor_ref.name.as_str(), a.controller_name.as_str()))
        .collect();
    let ours = settings.controller_name.as_str();
    assert_eq!(
        names,
        [
            ("theirs", "example.com/other"),
            ("gw", ours),
            ("gw", "example.com/other"),
            ("new", ours)
        ],
        "ours updated in place, stale ours dropped, new ones appended"
    );
    assert_eq!(ancestors[0], previous[0]);
    assert_eq!(ancestors[2], previous[3]);
    let c = &ancestors[1].conditions;
    let accepted = c.iter().find(|c| c.type_ == "Accepted").unwrap();
    assert_eq!(
        accepted.last_transition_time,
        Time("2021-01-01T00:00:00Z".parse().unwrap()),
        "unchanged status keeps its time"
    );
    assert_eq!(accepted.observed_generation, Some(3));
    let refs = c.iter().find(|c| c.type_ == "ResolvedRefs").unwrap();
    assert_eq!(refs.status, "True");
    assert_eq!(refs.last_transition_time, now, "a flipped status moves");
    assert!(updates[0].unrepresented.is_empty());

    // No longer used by any of our Gateways: our entries go, theirs stay.
    let updates = r.statuses(&s, &settings, &BackendUses::default(), &now);
    let left: Vec<&str> = updates[0]
        .status
        .ancestors
        .iter()
        .map(|a| a.controller_name.as_str())
        .collect();
    assert_eq!(left, ["example.com/other", "example.com/other"]);
}

#[test]
fn a_full_ancestor_list_takes_no_more_entries() {
    let ca = ca_pem("ca");
    let mut p = policy(
        "p",
        json!([target("web", None)]),
        json!({"caCertificateRefs": ca_ref("ca"), "hostname": "abc.example.com"}),
    );
    let theirs: Vec<Value> = (0..MAX_ANCESTORS)
        .map(|i| {
            json!({"ancestorRef": {"name": format!("g{i}"), "namespace": "infra"},
                   "controllerName": "example.com/other", "conditions": []})
        })
        .collect();
    p["status"] = json!({ "ancestors": theirs });
    let s = base(&ca, vec![p]);
    let r = resolve(&s, &Settings::default());
    let updates = r.statuses(
        &s,
        &Settings::default(),
        &uses(&[("web", 443, "gw")]),
        &at(1),
    );
    assert_eq!(updates[0].status.ancestors.len(), MAX_ANCESTORS);
    assert_eq!(updates[0].unrepresented, [gw("gw")]);
}

#[test]
fn unknown_section_names_and_other_targets_do_not_attach() {
    let ca = ca_pem("ca");
    let s = base(
        &ca,
        vec![
            policy(
                "p",
                json!([target("web", Some("nope")),
                       {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "web"},
                       target("missing", Some("https"))]),
                json!({"caCertificateRefs": ca_ref("ca"), "hostname": "abc.example.com"}),
            ),
            service("missing-too", json!([])),
        ],
    );
    let settings = Settings::default();
    let r = resolve(&s, &settings);
    assert!(r.for_backend("apps", "web", 443).is_none());
    assert!(r.for_backend("apps", "missing", 443).is_none());
    assert!(matches!(r.get(&key("p")), Some(PolicyOutcome::Valid(_))));
    let updates = r.statuses(&s, &settings, &uses(&[("web", 443, "gw")]), &at(1));
    let c = ancestor_conditions(&updates, "p", "gw");
    assert_eq!(condition(c, "Accepted"), ("False", "TargetNotFound"));
    assert!(c[0].message.contains("no port named nope"), "{c:?}");
    assert!(
        r.statuses(&s, &settings, &BackendUses::default(), &at(1))
            .is_empty(),
        "no Gateway of ours, no entry of ours: nothing to write"
    );
}

#[test]
fn weird_policies_do_not_panic() {
    let weird = [
        json!({"metadata": {"name": "a", "namespace": "apps"},
               "spec": {"targetRefs": [], "validation": {"hostname": ""}}}),
        json!({"metadata": {"name": "b", "namespace": "apps"},
               "spec": {"targetRefs": [target("web", None)], "validation": {"hostname": ""}}}),
        json!({"metadata": {"name": "c", "namespace": "apps"},
               "spec": {"targetRefs": [{"group": "", "kind": "Service", "name": ""},
                                       target("web", Some(""))],
                        "validation": {"hostname": "h", "caCertificateRefs": [],
                                       "wellKnownCACertificates": "",
                                       "subjectAltNames": [{"type": "Hostname"}, {"type": "URI"}]}}}),
        json!({"metadata": {"name": "d", "namespace": "apps"},
               "spec": {"targetRefs": [target("web", None), target("web", None)],
                        "validation": {"hostname": "h", "caCertificateRefs": ca_ref("ca"),
                                       "wellKnownCACertificates": "System"}}}),
        json!({"metadata": {}, "spec": {"targetRefs": [target("web", None)],
                                        "validation": {"hostname": "h", "caCertificateRefs": ca_ref("ca")}}}),
    ];
    let mut s = base(&ca_pem("ca"), vec![]);
    for w in weird {
        let p: BackendTlsPolicy = serde_json::from_value(w).unwrap();
        s.backend_tls_policies
            .insert(crate::snapshot::key_of(&p.metadata), p.into());
    }
    let settings = Settings::default();
    let r = resolve(&s, &settings);
    for k in ["a", "b", "c", "d"] {
        assert!(
            matches!(r.get(&key(k)), Some(PolicyOutcome::Invalid { .. })),
            "{k}: {:?}",
            r.get(&key(k))
        );
    }
    let updates = r.statuses(
        &s,
        &settings,
        &uses(&[("web", 443, "gw"), ("web", 0, "gw"), ("", -1, "")]),
        &at(1),
    );
    assert!(!updates.is_empty());
    for u in &updates {
        for a in &u.status.ancestors {
            assert_eq!(a.conditions.len(), 2, "{u:?}");
        }
    }
}
