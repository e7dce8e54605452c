//! The Gateway API conformance tests a translator can answer (gateway-api.md §6), each against
//! the suite's base manifests (`conformance/base.yaml`): the statuses it asserts, and every
//! request it sends resolved through the produced Avi model (`support::resolve`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use gateway_api::httproutes::HttpRouteStatus;
use gateway_translate::{Settings, Snapshot, StatusUpdate, Translation, names, translate};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde_json::Value;
use support::resolve::{Outcome, Request, resolve};

const INFRA: &str = "gateway-conformance-infra";

/// The base manifests plus `extra` (multi-document YAML), translated with a controller that
/// can answer any status (30.2.1).
fn run(extra: &str) -> Translation {
    let mut snapshot = Snapshot::default();
    for text in [include_str!("conformance/base.yaml"), extra] {
        let docs: Vec<Value> = serde_saphyr::from_multiple(text).unwrap();
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            snapshot.insert_json(doc).unwrap();
        }
    }
    let settings = Settings {
        controller_version: "30.2.1".into(),
        ..Settings::default()
    };
    let now = Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap());
    translate(&snapshot, &settings, &now)
}

fn parent(gw: &str) -> String {
    names::parent_vs("cluster", INFRA, gw)
}

fn route_status(t: &Translation, ns: &str, name: &str) -> HttpRouteStatus {
    t.statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::HttpRoute { key, status } if key.0 == ns && key.1 == name => {
                Some(status.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no status for HTTPRoute {ns}/{name}"))
}

fn condition<'a>(conditions: &'a [Condition], type_: &str) -> &'a Condition {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} condition in {conditions:?}"))
}

/// Each parent entry is Accepted=True/Accepted and ResolvedRefs=True.
fn assert_accepted(t: &Translation, ns: &str, name: &str, parents: usize) {
    let s = route_status(t, ns, name);
    assert_eq!(s.parents.len(), parents, "{s:?}");
    for p in &s.parents {
        let a = condition(&p.conditions, "Accepted");
        assert_eq!(
            (a.status.as_str(), a.reason.as_str()),
            ("True", "Accepted"),
            "{p:?}"
        );
        let r = condition(&p.conditions, "ResolvedRefs");
        assert_eq!(r.status, "True", "{p:?}");
        assert_eq!(p.controller_name, "ako.vmware.com/avi-lb");
    }
}

/// `(host, path, headers) → backend name in the infra namespace` on the `same-namespace`
/// Gateway; `None` means 404.
fn expect(t: &Translation, gw: &str, cases: &[(Request, Option<&str>)]) {
    for (req, want) in cases {
        let got = resolve(&t.model, &parent(gw), req);
        match want {
            Some(backend) => {
                let want = if backend.contains('/') {
                    (*backend).to_owned()
                } else {
                    format!("{INFRA}/{backend}")
                };
                assert_eq!(
                    got.backend().as_deref(),
                    Some(want.as_str()),
                    "{req:?} → {got:?}"
                );
            }
            None => assert_eq!(got, Outcome::Local(404), "{req:?}"),
        }
    }
}

fn get(path: &str) -> Request {
    Request::get(80, "example.com", path)
}

#[test]
fn http_route_simple_same_namespace() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gateway-conformance-infra-test, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "gateway-conformance-infra-test", 1);
    expect(
        &t,
        "same-namespace",
        &[(get("/"), Some("infra-backend-v1"))],
    );
}

#[test]
fn http_route_matching() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matching, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    - headers: [{name: version, value: one}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /v2}
    - headers: [{name: version, value: two}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "matching", 1);
    let v1 = Some("infra-backend-v1");
    let v2 = Some("infra-backend-v2");
    expect(
        &t,
        "same-namespace",
        &[
            (get("/"), v1),
            (get("/example"), v1),
            (get("/").header("Version", "one"), v1),
            (get("/v2"), v2),
            (get("/v2/example"), v2),
            (get("/").header("Version", "two"), v2),
            (get("/v2/"), v2),
            (get("/v2example"), v1),
            (get("/foo/v2/example"), v1),
        ],
    );
}

#[test]
fn http_route_header_matching() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: header-matching, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{headers: [{name: version, value: one}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: version, value: two}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "header-matching", 1);
    let v1 = Some("infra-backend-v1");
    let v2 = Some("infra-backend-v2");
    expect(
        &t,
        "same-namespace",
        &[
            (get("/").header("Version", "one"), v1),
            (get("/").header("Version", "two"), v2),
            (
                get("/").header("Version", "two").header("Color", "orange"),
                v1,
            ),
            (
                get("/").header("Version", "two").header("Color", "blue"),
                v2,
            ),
            (get("/").header("Color", "orange"), None),
            (get("/").header("Some-Other-Header", "one"), None),
            (get("/").header("Color", "blue"), v1),
            (get("/").header("Color", "green"), v1),
            (get("/").header("Color", "red"), v2),
            (get("/").header("Color", "yellow"), v2),
            (get("/").header("Color", "purple"), None),
        ],
    );
}
