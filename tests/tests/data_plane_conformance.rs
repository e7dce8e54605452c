//! Conformance tests whose outcome depends on time or on TLS: the translator's output for the
//! suite's manifests, synced into avi-sim by avi-client as the controller syncs it, with real
//! backends behind the pools, and the suite's requests sent through avi-sim's Service Engine
//! data plane. The model-level halves of these tests are in
//! `crates/gateway-translate/tests/conformance_*.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use avi_client::models::{IpAddr, Server};
use avi_client::{AviClient, AviConfig, Credentials};
use avi_sim::{AviSim, RunningSim};
use bytes::Bytes;
use gateway_translate::{Settings, Snapshot, Translation};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// The suite's base manifests, as the conformance harness uses them.
const BASE: &str = include_str!("../../crates/gateway-translate/tests/conformance/base.yaml");
const INFRA: &str = "gateway-conformance-infra";

fn provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The base manifests plus `extra`, translated as the suite's controller (30.2.1).
fn translate(extra: &str) -> Translation {
    let mut snapshot = Snapshot::default();
    for text in [BASE, extra] {
        let docs: Vec<Value> = serde_saphyr::from_multiple(text).unwrap();
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            snapshot.insert_json(doc).unwrap();
        }
    }
    let settings = Settings {
        controller_version: "30.2.1".into(),
        ..Settings::default()
    };
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap(),
    );
    gateway_translate::translate(&snapshot, &settings, &now)
}

/// A conformance echo backend: answers JSON naming itself and the path, after the request's
/// `?delay=` (a Gateway API duration), as the suite's echo server does.
struct Echo {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn echo(name: &'static str) -> Echo {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| async move {
                        let delay = req
                            .uri()
                            .query()
                            .unwrap_or_default()
                            .split('&')
                            .find_map(|kv| kv.strip_prefix("delay="))
                            .and_then(gateway_translate::timeouts::parse_duration)
                            .unwrap_or(0);
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        let body = json!({"backend": name, "path": req.uri().path()});
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(body.to_string()),
                        )))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Echo { addr, task }
}

/// avi-sim with its data plane, holding `t`'s Avi objects as avi-client syncs them; every pool's
/// servers are replaced by the backend its Service names in `backends`.
async fn programmed(t: &Translation, backends: &BTreeMap<&str, SocketAddr>) -> RunningSim {
    provider();
    let sim = AviSim::builder().data_plane(true).start().await.unwrap();
    let client = AviClient::new(AviConfig::new(
        sim.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    ))
    .unwrap();
    let mut model = t.model.clone();
    for pool in &mut model.pools {
        let service = pool
            .markers
            .iter()
            .find(|m| m.key == "BackendName")
            .and_then(|m| m.values.first())
            .cloned()
            .unwrap_or_default();
        let addr = backends
            .get(service.as_str())
            .unwrap_or_else(|| panic!("no backend for {service} (pool {})", pool.name));
        pool.servers = vec![Server::new(IpAddr::v4(addr.ip().to_string())).with_port(addr.port())];
    }
    let desired = model.desired().unwrap();
    let report = client
        .sync(&desired, &Settings::default().created_by(), &[])
        .await
        .unwrap();
    assert_eq!(report.failures(), 0, "{:?}", report.steps);
    sim
}

/// Where avi-sim serves port `port` of the parent virtual service of Gateway `gw`.
fn listener(sim: &RunningSim, gw: &str, port: u16) -> SocketAddr {
    let parent = gateway_translate::names::parent_vs("cluster", INFRA, gw);
    sim.data_plane()
        .unwrap()
        .listeners()
        .into_iter()
        .find(|l| l.virtual_service == parent && l.port == port)
        .and_then(|l| l.local)
        .unwrap_or_else(|| panic!("{parent} does not listen on {port}"))
}

/// Status, body and time taken of `GET path` through `at`.
async fn get(at: SocketAddr, path: &str) -> (u16, String, Duration) {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let started = Instant::now();
    let resp = c.get(format!("http://{at}{path}")).send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    (status, body, started.elapsed())
}

/// HTTPRouteTimeoutRequest and HTTPRouteTimeoutBackendRequest through the data plane: a backend
/// slower than the rule's timeout is answered 504 once the timeout has run out; with `0s` the
/// slow answer arrives.
#[tokio::test]
async fn rule_timeouts_answer_504_from_the_service_engine() {
    let t = translate(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: request-timeout, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /request-timeout}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
    timeouts: {request: 500ms}
  - matches: [{path: {type: PathPrefix, value: /disable-request-timeout}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
    timeouts: {request: "0s"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-request-timeout, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /backend-timeout}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
    timeouts: {backendRequest: 500ms}
"#,
    );
    let v1 = echo("infra-backend-v1").await;
    let sim = programmed(&t, &BTreeMap::from([("infra-backend-v1", v1.addr)])).await;
    let at = listener(&sim, "same-namespace", 80);

    for path in ["/request-timeout", "/backend-timeout"] {
        let (status, body, _) = get(at, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains("infra-backend-v1"), "{body}");
        let (status, body, took) = get(at, &format!("{path}?delay=1s")).await;
        assert_eq!(status, 504, "{path}: {body}");
        assert!(
            took >= Duration::from_millis(500) && took < Duration::from_millis(1_000),
            "{path}: answered after {took:?}"
        );
    }
    let (status, body, took) = get(at, "/disable-request-timeout?delay=1s").await;
    assert_eq!(status, 200, "{body}");
    assert!(took >= Duration::from_secs(1), "{took:?}");
}
