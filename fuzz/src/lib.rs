//! Fuzz targets of the workspace's parsers and translators. Each takes arbitrary bytes and must
//! return without panicking; the translation targets also report their output size, which the
//! harness holds to a budget proportional to the input.
//!
//! `tests/targets.rs` runs every target with bolero: a short random pass in `cargo test`, long
//! runs with `cargo xtask fuzz --seconds N` (a release build, `BOLERO_RANDOM_TEST_TIME_MS` per
//! target). Inputs that once failed, and seeds, live in `corpus/<target>/` and are replayed by
//! `cargo test` as regression tests.

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use ako_runtime::dry_run::{document, load_text};
use bytes::Bytes;
use gateway_translate::GatewayApiTranslator;
use http::{HeaderMap, HeaderValue, Method, header};
use ingress_translate::{IngressSettings, IngressTranslator};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};
use translate_core::Translator;
use translate_core::settings::{Component, IstioRefs, Settings};

/// The targets, by name (the names of `corpus/` directories and of `cargo xtask fuzz --target`).
pub const TARGETS: &[&str] = &[
    "istio_bundle",
    "spiffe_id",
    "manifests",
    "mutated_manifests",
    "kube_request",
    "kube_protobuf",
    "avi_request",
];

/// Runs target `name` on `data`; the translation targets return their output size in bytes.
pub fn run(name: &str, data: &[u8]) -> usize {
    match name {
        "istio_bundle" => istio_bundle(data),
        "spiffe_id" => spiffe_id(data),
        "manifests" => return manifests(data),
        "mutated_manifests" => return mutated_manifests(data),
        "kube_request" => kube_request(data),
        "kube_protobuf" => kube_protobuf(data),
        "avi_request" => avi_request(data),
        _ => {}
    }
    0
}

/// `data` split at `0xFF` bytes into exactly `n` parts (missing ones empty).
fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |b| *b == 0xFF).collect();
    out.resize(n, &[]);
    out
}

/// The PEM loader of the Istio set: three files' bytes.
pub fn istio_bundle(data: &[u8]) {
    let p = parts(data, 3);
    if let Err(e) = istio_certs::IstioBundle::from_pem(p[0], p[1], p[2], SystemTime::now()) {
        // Every error is shown to operators: it must render, and never quote key.pem.
        let shown = e.to_string();
        if let Ok(key) = std::str::from_utf8(p[1])
            && key.len() > 16
        {
            assert!(!shown.contains(key), "an error quotes key.pem: {shown}");
        }
    }
}

/// SPIFFE ID parsing: what parses prints back to the same ID.
pub fn spiffe_id(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = spiffe_id::SpiffeId::new(text) {
        let printed = id.to_string();
        let again = spiffe_id::SpiffeId::new(printed.as_str());
        assert_eq!(again.as_ref().ok(), Some(&id), "{text:?}");
    }
}

fn settings(component: Component) -> Settings {
    Settings {
        component,
        istio_enabled: true,
        istio_refs: Some(IstioRefs::for_cluster("cluster", "avi-system")),
        controller_version: "30.2.1".into(),
        ..Settings::default()
    }
}

/// Manifests as text through the dry-run loader and both translators; the output's size.
pub fn manifests(data: &[u8]) -> usize {
    match std::str::from_utf8(data) {
        Ok(text) => translate_text(text),
        Err(_) => 0,
    }
}

fn translate_text(text: &str) -> usize {
    let gateway = GatewayApiTranslator;
    let ingress = IngressTranslator::new(IngressSettings::default());
    let mut kinds = gateway.kinds();
    kinds.extend(ingress.kinds());
    let mut snapshot = translate_core::Snapshot::default();
    let (mut skipped, mut seen) = (Vec::new(), BTreeSet::new());
    if load_text(
        text,
        Path::new("fuzz.yaml"),
        &kinds,
        &mut snapshot,
        &mut skipped,
        &mut seen,
    )
    .is_err()
    {
        return 0;
    }
    let now = Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
    let mut size = 0;
    for (t, component) in [
        (&gateway as &dyn Translator, Component::GatewayApi),
        (&ingress as &dyn Translator, Component::Ako),
    ] {
        let out = t.translate(&snapshot, &settings(component), &now);
        let doc = document(&out);
        size += serde_json::to_string(&doc).map_or(0, |s| s.len());
    }
    size
}

/// The seed scenarios the mutations start from.
const SEEDS: &[&str] = &[
    include_str!("../../examples/manifests/istio-guide.yaml"),
    include_str!("../../examples/manifests/shared-gateway.yaml"),
    include_str!("../../examples/manifests/ingress-istio.yaml"),
    include_str!("../../examples/manifests/grpc-route.yaml"),
    include_str!("../../examples/manifests/platform-gateway.yaml"),
];

/// Values a hostile user puts in a field.
fn hostile(i: u8) -> Value {
    match i % 24 {
        0 => json!(""),
        1 => json!(" "),
        2 => json!("a".repeat(300)),
        3 => json!("x\r\ny: z"),
        4 => json!("nul\u{0}byte"),
        5 => json!(-1),
        6 => json!(0),
        7 => json!(65536),
        8 => json!(4_294_967_296_i64),
        9 => json!(1e300),
        10 => json!(true),
        11 => Value::Null,
        12 => json!([]),
        13 => json!({}),
        14 => json!("*"),
        15 => json!("*."),
        16 => json!("/"),
        17 => json!("((("),
        18 => json!("(a+)+$"),
        19 => json!("\u{202e}evil\u{1b}[31m"),
        20 => json!("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"),
        21 => json!("10.0.0.300"),
        22 => json!({"nested": {"deeper": [1, "two", {"three": null}]}}),
        _ => json!("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example.com"),
    }
}

/// JSON pointers of every value under `v` (objects, lists and scalars alike).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

/// A seed scenario with fields replaced by hostile values, chosen by `data`: byte 0 picks the
/// seed, then each pair of bytes picks a field and a value. Structured, so that the
/// translators see objects that parse and must still refuse or survive what they hold.
pub fn mutated_manifests(data: &[u8]) -> usize {
    let Some((&first, edits)) = data.split_first() else {
        return 0;
    };
    let seed = SEEDS[usize::from(first) % SEEDS.len()];
    let Ok(mut docs) = serde_saphyr::from_multiple::<Value>(seed) else {
        return 0;
    };
    docs.retain(|d| !d.is_null());
    for pair in edits.chunks(3).take(64) {
        let (doc_pick, field_pick, value_pick) = (
            usize::from(pair[0]),
            usize::from(*pair.get(1).unwrap_or(&0)),
            *pair.get(2).unwrap_or(&0),
        );
        let n = docs.len();
        let Some(doc) = docs.get_mut(doc_pick % n.max(1)) else {
            continue;
        };
        let mut ps = Vec::new();
        pointers(doc, String::new(), &mut ps);
        if ps.is_empty() {
            continue;
        }
        let p = &ps[field_pick * 31 % ps.len()];
        if let Some(slot) = doc.pointer_mut(p) {
            *slot = hostile(value_pick);
        }
    }
    let text = docs
        .iter()
        .filter_map(|d| serde_json::to_string(d).ok())
        .collect::<Vec<_>>()
        .join("\n---\n");
    translate_text(&text)
}

/// The method a byte picks.
fn method(b: usize) -> Method {
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ][b % 5]
        .clone()
}

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

fn block_on<F: std::future::Future>(f: F) -> Option<F::Output> {
    RUNTIME.with(|r| {
        let mut r = r.borrow_mut();
        if r.is_none() {
            *r = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok();
        }
        r.as_ref().map(|rt| rt.block_on(f))
    })
}

const KUBE_PATHS: &[&str] = &[
    "/api/v1/namespaces/default/configmaps",
    "/api/v1/namespaces/default/configmaps/a",
    "/api/v1/namespaces/default/secrets/s",
    "/api/v1/namespaces",
    "/apis/networking.k8s.io/v1/namespaces/default/ingresses",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    "/apis/coordination.k8s.io/v1/namespaces/default/leases/l",
    "/api/v1/namespaces/default/services/web/status",
    "/",
];

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/vnd.kubernetes.protobuf",
    "text/plain",
];

/// One request to kube-sim's API: method, path, content type, query and body from `data`.
pub fn kube_request(data: &[u8]) {
    let p = parts(data, 4);
    let pick = |b: &[u8], i: usize| usize::from(b.get(i).copied().unwrap_or(0));
    let method = method(pick(p[0], 0));
    let path = format!(
        "{}{}",
        KUBE_PATHS[pick(p[0], 1) % KUBE_PATHS.len()],
        String::from_utf8_lossy(p[1])
    );
    let query = String::from_utf8_lossy(p[2])
        .replace("watch", "w")
        .to_string();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPES[pick(p[0], 2) % CONTENT_TYPES.len()]),
    );
    if pick(p[0], 3) % 2 == 1 {
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.kubernetes.protobuf, */*"),
        );
    }
    let shared = Arc::new(kube_sim::api::Shared::with_store(
        kube_sim::SimConfig::default(),
        kube_sim::store::Store::new(100),
    ));
    let body = Bytes::copy_from_slice(p[3]);
    block_on(async move {
        let resp = kube_sim::api::handle(shared, method, &path, &query, &headers, body).await;
        assert!(resp.status().as_u16() < 600);
    });
}

/// kube-sim's protobuf converter: whatever it reads, it writes back, and reads the same again.
pub fn kube_protobuf(data: &[u8]) {
    for (api_version, kind) in [
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "Service"),
        ("v1", "Pod"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ] {
        let mut body = b"k8s\0".to_vec();
        body.extend_from_slice(data);
        for input in [data, body.as_slice()] {
            if let Ok(v) = kube_sim::protobuf::decode(input, api_version, kind)
                && let Ok(again) = kube_sim::protobuf::encode(&v)
            {
                let back = kube_sim::protobuf::decode(&again, api_version, kind);
                assert_eq!(back.as_ref().ok(), Some(&v), "{kind}");
            }
        }
    }
}

const AVI_TYPES: &[&str] = &[
    "pool",
    "poolgroup",
    "virtualservice",
    "vsvip",
    "httppolicyset",
    "sslkeyandcertificate",
    "pkiprofile",
    "cloud",
    "network",
    "ipamdnsproviderprofile",
    "tenant",
    "stringgroup",
];

/// One request to avi-sim's API, authenticated, with method, path, query and body from `data`.
pub fn avi_request(data: &[u8]) {
    use base64::Engine as _;
    let p = parts(data, 4);
    let pick = |b: &[u8], i: usize| usize::from(b.get(i).copied().unwrap_or(0));
    let config = avi_sim::config::SimConfig {
        basic_auth: true,
        ..avi_sim::config::SimConfig::default()
    };
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", config.username, config.password))
    );
    let Ok(sim) = avi_sim::api::Sim::in_memory(config) else {
        return;
    };
    let method = method(pick(p[0], 0));
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&auth) {
        headers.insert(header::AUTHORIZATION, v);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("x-avi-version", HeaderValue::from_static("22.1.3"));
    let req = avi_sim::api::Req {
        method,
        path: format!(
            "/api/{}{}",
            AVI_TYPES[pick(p[0], 1) % AVI_TYPES.len()],
            String::from_utf8_lossy(p[1])
        ),
        query: String::from_utf8_lossy(p[2]).to_string(),
        headers,
        body: Bytes::copy_from_slice(p[3]),
    };
    let resp = avi_sim::api::dispatch(&sim, &req);
    assert!(resp.status().as_u16() < 600);
}
