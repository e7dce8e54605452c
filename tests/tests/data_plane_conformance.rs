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
    // The controller version the suite's translation is made for.
    let sim = AviSim::builder()
        .config(avi_sim::SimConfig {
            version: "30.2.1".into(),
            ..avi_sim::SimConfig::default()
        })
        .data_plane(true)
        .start()
        .await
        .unwrap();
    sync_into(&sim, t, backends).await;
    sim
}

/// Syncs `t`'s Avi objects into `sim` as the controller does, every pool's servers replaced by
/// the backend its Service names in `backends`; every write must succeed.
async fn sync_into(sim: &RunningSim, t: &Translation, backends: &BTreeMap<&str, SocketAddr>) {
    let mut config = AviConfig::new(
        sim.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    );
    config.api_version = "30.2.1".into();
    let client = AviClient::new(config).unwrap();
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
        .sync(
            &desired,
            &Settings::default().created_by(),
            // An object of ours the model no longer has is deleted, as the controller does.
            ako_runtime::gateway::OWNED_KINDS,
        )
        .await
        .unwrap();
    assert_eq!(report.failures(), 0, "{:?}", report.steps);
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

// ------------------------------------------------------------------ frontend client certificates

/// A CA and what it signs.
struct Ca {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Ca {
            issuer: rcgen::Issuer::new(params, key),
            pem,
        }
    }

    /// A leaf for `dns` names (server) or for a client named `client`: (cert PEM, key PEM).
    fn leaf(&self, dns: &[&str], client: Option<&str>) -> (String, String) {
        let mut params =
            rcgen::CertificateParams::new(dns.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>())
                .unwrap();
        if let Some(cn) = client {
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, cn);
            params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        }
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// Presents a certificate when the server asks for one, and remembers that it asked (the
/// suite checks that a CertificateRequest was sent).
#[derive(Debug)]
struct Presenting {
    key: std::sync::Arc<rustls::sign::CertifiedKey>,
    asked: std::sync::atomic::AtomicBool,
}

impl rustls::client::ResolvesClientCert for Presenting {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<std::sync::Arc<rustls::sign::CertifiedKey>> {
        self.asked.store(true, std::sync::atomic::Ordering::SeqCst);
        Some(self.key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn presenting((cert, key): &(String, String)) -> std::sync::Arc<Presenting> {
    use rustls_pki_types::pem::PemObject as _;
    let chain = rustls_pki_types::CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let provider = rustls::crypto::ring::default_provider();
    let certified = rustls::sign::CertifiedKey::from_der(chain, key, &provider).unwrap();
    std::sync::Arc::new(Presenting {
        key: std::sync::Arc::new(certified),
        asked: std::sync::atomic::AtomicBool::new(false),
    })
}

/// `GET /` over TLS to `at` with SNI and Host `host`, trusting `server_ca`, presenting
/// `client`'s certificate when asked: the status and body, or the transport error.
async fn https_get(
    at: SocketAddr,
    host: &str,
    server_ca: &str,
    client: Option<&std::sync::Arc<Presenting>>,
) -> Result<(u16, String), String> {
    use http_body_util::BodyExt as _;
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for der in rustls_pki_types::CertificateDer::pem_slice_iter(server_ca.as_bytes()) {
        roots.add(der.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = match client {
        Some(p) => builder.with_client_cert_resolver(p.clone()),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(at)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let name = rustls_pki_types::ServerName::try_from(host.to_owned()).unwrap();
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("http: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = hyper::Request::get("/")
        .header("host", host)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), sender.send_request(req))
        .await
        .map_err(|_| "no answer".to_owned())?
        .map_err(|e| format!("request: {}", chain(&e)))?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// An error with its sources (a refused handshake shows as the TLS alert behind hyper's
/// "connection error").
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The PKI material of the frontend tests: the listener certificate's CA, the default and the
/// per-port client CAs, and a client certificate from each.
struct FrontendPki {
    server_ca: Ca,
    server: (String, String),
    default_ca: Ca,
    per_port_ca: Ca,
}

impl FrontendPki {
    fn new() -> FrontendPki {
        let server_ca = Ca::new("tls-validity-checks-server-ca");
        let server = server_ca.leaf(&["example.org", "second-example.org"], None);
        FrontendPki {
            server_ca,
            server,
            default_ca: Ca::new("tls-validity-checks-ca"),
            per_port_ca: Ca::new("tls-validity-checks-per-port-ca"),
        }
    }

    /// `gateway-with-clientcertificate-validation[-insecure-fallback].yaml` with its CA
    /// ConfigMaps and listener Secret.
    fn manifest(&self, gw: &str, mode: &str) -> String {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let cm = |name: &str, pem: &str| {
            let indented: String = pem.lines().map(|l| format!("    {l}\n")).collect();
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {INFRA}}}\ndata:\n  ca.crt: |\n{indented}"
            )
        };
        let cert = r#"{certificateRefs: [{group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: gateway-conformance-infra}]}"#;
        format!(
            r#"{default_cm}{per_port_cm}---
apiVersion: v1
kind: Secret
metadata: {{name: tls-validity-checks-certificate, namespace: gateway-conformance-infra}}
type: kubernetes.io/tls
data: {{tls.crt: {crt}, tls.key: {key}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw}, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  tls:
    frontend:
      default:
        validation: {{mode: {mode}, caCertificateRefs: [{{kind: ConfigMap, group: "", name: tls-validity-checks-ca-certificate}}]}}
      perPort:
      - {{port: 8443, tls: {{validation: {{mode: {mode}, caCertificateRefs: [{{kind: ConfigMap, group: "", name: tls-validity-checks-per-port-ca-certificate}}]}}}}}}
  listeners:
  - {{name: https, port: 443, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {cert}}}
  - {{name: https-with-hostname, port: 8443, hostname: second-example.org, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {cert}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: client-certificate-validation-https-test, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}}}]
  hostnames: [example.org]
  rules: [{{backendRefs: [{{name: infra-backend-v1, port: 8080}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: client-certificate-validation-https-test-no-hostname, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}, sectionName: https-with-hostname}}]
  rules: [{{backendRefs: [{{name: infra-backend-v2, port: 8080}}]}}]
"#,
            default_cm = cm("tls-validity-checks-ca-certificate", &self.default_ca.pem),
            per_port_cm = cm(
                "tls-validity-checks-per-port-ca-certificate",
                &self.per_port_ca.pem
            ),
            crt = b64(&self.server.0),
            key = b64(&self.server.1),
        )
    }
}

/// GatewayFrontendClientCertificateValidation through the Service Engine: on each port the
/// certificate of that port's CA is served, the other CA's fails the handshake, and so does no
/// certificate; a CertificateRequest is sent every time.
#[tokio::test]
async fn a_port_that_requires_client_certificates_refuses_others_in_the_handshake() {
    let pki = FrontendPki::new();
    let gw = "client-validation-default";
    let t = translate(&pki.manifest(gw, "AllowValidOnly"));
    let (v1, v2) = (
        echo("infra-backend-v1").await,
        echo("infra-backend-v2").await,
    );
    let sim = programmed(
        &t,
        &BTreeMap::from([("infra-backend-v1", v1.addr), ("infra-backend-v2", v2.addr)]),
    )
    .await;
    let default_client = presenting(&pki.default_ca.leaf(&[], Some("default-client")));
    let per_port_client = presenting(&pki.per_port_ca.leaf(&[], Some("per-port-client")));
    for (port, host, good, bad, backend) in [
        (
            443,
            "example.org",
            &default_client,
            &per_port_client,
            "infra-backend-v1",
        ),
        (
            8443,
            "second-example.org",
            &per_port_client,
            &default_client,
            "infra-backend-v2",
        ),
    ] {
        let at = listener(&sim, gw, port);
        let (status, body) = https_get(at, host, &pki.server_ca.pem, Some(good))
            .await
            .unwrap_or_else(|e| panic!("{port}: {e}"));
        assert_eq!(status, 200, "{port}: {body}");
        assert!(body.contains(backend), "{port}: {body}");
        assert!(good.asked.swap(false, std::sync::atomic::Ordering::SeqCst));
        let refused = https_get(at, host, &pki.server_ca.pem, Some(bad)).await;
        let error = refused.expect_err("another CA's certificate is refused");
        assert!(error.contains("alert"), "{port}: {error}");
        assert!(bad.asked.swap(false, std::sync::atomic::Ordering::SeqCst));
        let refused = https_get(at, host, &pki.server_ca.pem, None).await;
        let error = refused.expect_err("no certificate is refused");
        assert!(error.contains("alert"), "{port}: {error}");
    }
}

/// GatewayFrontendClientCertificateValidationInsecureFallback through the Service Engine: the
/// certificate is still asked for, and the right one, the other CA's and none all get through.
#[tokio::test]
async fn a_port_with_insecure_fallback_asks_for_a_certificate_and_serves_everyone() {
    let pki = FrontendPki::new();
    let gw = "client-validation-insecure-fallback";
    let t = translate(&pki.manifest(gw, "AllowInsecureFallback"));
    let (v1, v2) = (
        echo("infra-backend-v1").await,
        echo("infra-backend-v2").await,
    );
    let sim = programmed(
        &t,
        &BTreeMap::from([("infra-backend-v1", v1.addr), ("infra-backend-v2", v2.addr)]),
    )
    .await;
    let default_client = presenting(&pki.default_ca.leaf(&[], Some("default-client")));
    let per_port_client = presenting(&pki.per_port_ca.leaf(&[], Some("per-port-client")));
    for (port, host, backend) in [
        (443, "example.org", "infra-backend-v1"),
        (8443, "second-example.org", "infra-backend-v2"),
    ] {
        let at = listener(&sim, gw, port);
        for client in [Some(&default_client), Some(&per_port_client), None] {
            let (status, body) = https_get(at, host, &pki.server_ca.pem, client)
                .await
                .unwrap_or_else(|e| panic!("{port}: {e}"));
            assert_eq!(status, 200, "{port}: {body}");
            assert!(body.contains(backend), "{port}: {body}");
            if let Some(c) = client {
                assert!(
                    c.asked.swap(false, std::sync::atomic::Ordering::SeqCst),
                    "{port}: no CertificateRequest"
                );
            }
        }
    }
}

// ------------------------------------------------------------------ backend protocols

/// The suite's h2c backend port: HTTP/2 with prior knowledge answers 200 naming the protocol;
/// HTTP/1.1 without `Upgrade: h2c` gets 400.
async fn h2c_echo(name: &'static str) -> Echo {
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
                        let h2 = req.version() == hyper::Version::HTTP_2;
                        let body = json!({"backend": name, "h2": h2, "path": req.uri().path()});
                        let mut resp =
                            hyper::Response::new(Full::new(Bytes::from(body.to_string())));
                        if !h2 {
                            *resp.status_mut() = hyper::StatusCode::BAD_REQUEST;
                        }
                        Ok::<_, std::convert::Infallible>(resp)
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(TokioIo::new(stream), service)
                .await;
            });
        }
    });
    Echo { addr, task }
}

/// HTTPRouteBackendProtocolH2C through the Service Engine: the client speaks h2c with prior
/// knowledge to the Gateway, and the pool speaks it to the backend (which refuses HTTP/1.1).
#[tokio::test]
async fn an_h2c_backend_is_reached_over_http2_with_prior_knowledge() {
    use http_body_util::BodyExt as _;
    let t = translate(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-protocol-h2c, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8081}]
"#,
    );
    let v1 = h2c_echo("infra-backend-v1").await;
    let sim = programmed(&t, &BTreeMap::from([("infra-backend-v1", v1.addr)])).await;
    let at = listener(&sim, "same-namespace", 80);
    let tcp = tokio::net::TcpStream::connect(at).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    for _ in 0..3 {
        let req = hyper::Request::get("http://example.com/h2c")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["backend"], "infra-backend-v1");
        assert_eq!(body["h2"], true);
        assert_eq!(body["path"], "/h2c");
    }
}

/// The suite's WebSocket backend port: answers the handshake with 101, then echoes every byte
/// (frames come back as they were sent).
async fn ws_echo() -> Echo {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                if !head.contains("upgrade: websocket") {
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n",
                    )
                    .await;
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    Echo { addr, task }
}

/// HTTPRouteBackendProtocolWebSocket through the Service Engine: the handshake reaches the
/// backend, and a text frame and a binary frame come back, three times on one connection.
#[tokio::test]
async fn a_websocket_is_tunnelled_to_its_backend() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let t = translate(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-protocol-ws, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /ws}}]
    backendRefs: [{name: infra-backend-v1, port: 8082}]
"#,
    );
    let v1 = ws_echo().await;
    let sim = programmed(&t, &BTreeMap::from([("infra-backend-v1", v1.addr)])).await;
    let at = listener(&sim, "same-namespace", 80);
    let mut s = tokio::net::TcpStream::connect(at).await.unwrap();
    s.write_all(
        b"GET /ws HTTP/1.1\r\nhost: example.com\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // Masked client frames: "hello" as text (0x81), four bytes as binary (0x82).
    let text = [
        0x81,
        0x85,
        1,
        2,
        3,
        4,
        b'h' ^ 1,
        b'e' ^ 2,
        b'l' ^ 3,
        b'l' ^ 4,
        b'o' ^ 1,
    ];
    let binary = [0x82, 0x84, 9, 9, 9, 9, 0, 1, 2, 3];
    for _ in 0..3 {
        for frame in [&text[..], &binary[..]] {
            s.write_all(frame).await.unwrap();
            let mut back = vec![0u8; frame.len()];
            tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut back))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(back, frame);
        }
    }
}

// ------------------------------------------------------------------ TLS passthrough

/// A TLS backend for `names`: terminates TLS itself (with a certificate from `ca`) and answers
/// JSON naming itself and the server name it saw.
async fn tls_echo(name: &'static str, ca: &Ca, names: &[&str]) -> Echo {
    use rustls_pki_types::pem::PemObject as _;
    let (cert, key) = ca.leaf(names, None);
    let chain = rustls_pki_types::CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let sni = tls.get_ref().1.server_name().map(str::to_owned);
                let service = hyper::service::service_fn(move |_req| {
                    let sni = sni.clone();
                    async move {
                        let body = json!({"backend": name, "sni": sni});
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(body.to_string()),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Echo { addr, task }
}

/// TLSRouteSimpleSameNamespace and the name rules of TLSRouteHostnameIntersection through the
/// Service Engine: the TLS session is the backend's own (its certificate, the client's server
/// name), the name chooses the backend, and a name no route serves is closed without an alert.
#[tokio::test]
async fn tls_is_passed_through_to_the_backend_the_server_name_chooses() {
    let t = translate(
        r#"
apiVersion: v1
kind: Service
metadata: {name: tls-backend, namespace: gateway-conformance-infra}
spec: {selector: {app: tls-backend}, ports: [{port: 443, targetPort: 8443}]}
---
apiVersion: v1
kind: Service
metadata: {name: tls-backend-2, namespace: gateway-conformance-infra}
spec: {selector: {app: tls-backend-2}, ports: [{port: 443, targetPort: 8443}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-tlsroute, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: tls, port: 443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: Same}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: abc, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: gateway-tlsroute}]
  hostnames: [abc.example.com]
  rules: [{backendRefs: [{name: tls-backend, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: wildcard, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: gateway-tlsroute}]
  hostnames: ["*.com"]
  rules: [{backendRefs: [{name: tls-backend-2, port: 443}]}]
"#,
    );
    // The Services have no EndpointSlices here: `programmed` points the pools at these.
    let ca = Ca::new("tls-checks-ca");
    let b1 = tls_echo("tls-backend", &ca, &["abc.example.com"]).await;
    let b2 = tls_echo("tls-backend-2", &ca, &["*.example.com"]).await;
    let sim = programmed(
        &t,
        &BTreeMap::from([("tls-backend", b1.addr), ("tls-backend-2", b2.addr)]),
    )
    .await;
    let vs = gateway_translate::names::passthrough_vs("cluster", INFRA, "gateway-tlsroute", 443);
    let at = sim
        .data_plane()
        .unwrap()
        .listeners()
        .into_iter()
        .find(|l| l.virtual_service == vs && l.port == 443)
        .and_then(|l| l.local)
        .unwrap_or_else(|| panic!("{vs} does not listen"));
    for (sni, backend) in [
        ("abc.example.com", "tls-backend"),
        ("other.example.com", "tls-backend-2"),
    ] {
        for _ in 0..2 {
            let (status, body) = https_get(at, sni, &ca.pem, None)
                .await
                .unwrap_or_else(|e| panic!("{sni}: {e}"));
            assert_eq!(status, 200, "{body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["backend"], backend, "{sni}");
            assert_eq!(body["sni"], sni);
        }
    }
    // Not served by any route (the listener is *.example.com): closed, no TLS alert.
    let error = https_get(at, "non.matching.com", &ca.pem, None)
        .await
        .expect_err("an unserved name is closed");
    assert!(!error.contains("alert"), "{error}");
}

// ------------------------------------------------------------------ gRPC

/// A gRPC backend over h2c: answers every call with a length-prefixed message naming itself and
/// the method, and `grpc-status: 0` in the trailers; refuses HTTP/1.1.
async fn grpc_echo(name: &'static str) -> Echo {
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
                        use http_body_util::BodyExt as _;
                        let path = req.uri().path().to_owned();
                        let grpc = req.version() == hyper::Version::HTTP_2
                            && req
                                .headers()
                                .get("content-type")
                                .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
                        let _ = req.into_body().collect().await;
                        let text = format!("{name} {path}");
                        let mut msg = vec![0u8];
                        msg.extend_from_slice(&u32::try_from(text.len()).unwrap().to_be_bytes());
                        msg.extend_from_slice(text.as_bytes());
                        let mut trailers = hyper::HeaderMap::new();
                        trailers.insert(
                            "grpc-status",
                            if grpc { "0" } else { "12" }.parse().unwrap(),
                        );
                        let body = http_body_util::StreamBody::new(futures_util::stream::iter([
                            Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(
                                Bytes::from(msg),
                            )),
                            Ok(hyper::body::Frame::trailers(trailers)),
                        ]));
                        let mut resp = hyper::Response::new(body);
                        resp.headers_mut()
                            .insert("content-type", "application/grpc".parse().unwrap());
                        Ok::<_, std::convert::Infallible>(resp)
                    },
                );
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
            });
        }
    });
    Echo { addr, task }
}

/// GRPCExactMethodMatching through the Service Engine: gRPC calls over h2c with prior
/// knowledge reach the backend their method selects, over HTTP/2 end to end, with the
/// `grpc-status` trailer passed back; an unknown method is not forwarded.
#[tokio::test]
async fn grpc_calls_reach_the_backend_their_method_selects() {
    use http_body_util::BodyExt as _;
    let t = translate(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: exact-matching, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{method: {service: gateway_api_conformance.echo_basic.grpcecho.GrpcEcho, method: Echo}}]
    backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]
  - matches: [{method: {service: gateway_api_conformance.echo_basic.grpcecho.GrpcEcho, method: EchoTwo}}]
    backendRefs: [{name: grpc-infra-backend-v2, port: 8080}]
"#,
    );
    let v1 = grpc_echo("grpc-infra-backend-v1").await;
    let v2 = grpc_echo("grpc-infra-backend-v2").await;
    let sim = programmed(
        &t,
        &BTreeMap::from([
            ("grpc-infra-backend-v1", v1.addr),
            ("grpc-infra-backend-v2", v2.addr),
        ]),
    )
    .await;
    let at = listener(&sim, "same-namespace", 80);
    let tcp = tokio::net::TcpStream::connect(at).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let service = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho";
    for (method, backend) in [
        ("Echo", Some("grpc-infra-backend-v1")),
        ("EchoTwo", Some("grpc-infra-backend-v2")),
        ("EchoThree", None),
    ] {
        let req = hyper::Request::post(format!("http://example.com/{service}/{method}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Full::new(Bytes::from_static(&[0, 0, 0, 0, 0])))
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        let collected = resp.into_body().collect().await.unwrap();
        let trailers = collected.trailers().cloned();
        let body = collected.to_bytes();
        match backend {
            Some(b) => {
                assert_eq!(status, 200, "{method}");
                let text = String::from_utf8_lossy(body.get(5..).unwrap_or_default()).into_owned();
                assert_eq!(text, format!("{b} /{service}/{method}"));
                assert_eq!(
                    trailers
                        .as_ref()
                        .and_then(|t| t.get("grpc-status"))
                        .map(|v| v.as_bytes()),
                    Some(&b"0"[..]),
                    "{method}"
                );
            }
            // No rule matches: the parent's default answers 404 locally (read by gRPC
            // clients as UNIMPLEMENTED); no backend is reached.
            None => assert_eq!(status, 404, "{method}"),
        }
    }
}

// ------------------------------------------------------------------ CORS

/// One request of the upstream HTTPRouteCORS and HTTPRouteCORSAllowCredentialsBehavior tests
/// and what the suite accepts of its answer.
struct CorsCase {
    path: &'static str,
    method: &'static str,
    headers: &'static [(&'static str, &'static str)],
    statuses: &'static [u16],
    /// Each header's accepted values (compared without whitespace, as the suite does).
    valid: &'static [(&'static str, &'static [&'static str])],
    absent: &'static [&'static str],
    /// The backend answers (a simple request), or the Service Engine does (a preflight).
    reaches_backend: bool,
}

const PREFLIGHT_1: &[(&str, &str)] = &[
    ("access-control-request-method", "GET"),
    ("access-control-request-headers", "x-header-1, x-header-2"),
];
const CORS_1_ALLOWED: &[(&str, &[&str])] = &[
    (
        "access-control-allow-methods",
        &["GET, OPTIONS", "OPTIONS, GET"],
    ),
    (
        "access-control-allow-headers",
        &["x-header-1, x-header-2", "x-header-2, x-header-1"],
    ),
    (
        "access-control-expose-headers",
        &["x-header-3, x-header-4", "x-header-4, x-header-3"],
    ),
    ("access-control-max-age", &["3600"]),
    ("access-control-allow-credentials", &["true"]),
];

fn cors_cases() -> Vec<CorsCase> {
    let preflight = |origin: &'static str, acao: &'static [&'static str]| CorsCase {
        path: "/cors-1",
        method: "OPTIONS",
        headers: Box::leak(
            [("origin", origin)]
                .into_iter()
                .chain(PREFLIGHT_1.iter().copied())
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        ),
        statuses: &[200, 204],
        valid: Box::leak(
            [("access-control-allow-origin", acao)]
                .into_iter()
                .chain(CORS_1_ALLOWED.iter().copied())
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        ),
        absent: &[],
        reaches_backend: false,
    };
    vec![
        preflight("https://www.foo.com", &["https://www.foo.com"]),
        preflight("https://www.bar.com", &["https://www.bar.com"]),
        preflight("https://xpto.www.bar.com", &["https://xpto.www.bar.com"]),
        CorsCase {
            path: "/cors-1",
            method: "OPTIONS",
            headers: &[
                ("origin", "https://foobar.com"),
                ("access-control-request-method", "GET"),
            ],
            statuses: &[200, 204, 403],
            valid: &[],
            absent: &["access-control-allow-origin"],
            reaches_backend: false,
        },
        CorsCase {
            path: "/cors-1",
            method: "GET",
            headers: &[
                ("origin", "https://www.foo.com"),
                ("access-control-request-method", "GET"),
            ],
            statuses: &[200],
            valid: &[("access-control-allow-origin", &["https://www.foo.com"])],
            absent: &[],
            reaches_backend: true,
        },
        CorsCase {
            path: "/cors-1",
            method: "GET",
            headers: &[
                ("origin", "https://www.bar.com"),
                ("access-control-request-method", "GET"),
            ],
            statuses: &[200],
            valid: &[("access-control-allow-origin", &["https://www.bar.com"])],
            absent: &[],
            reaches_backend: true,
        },
        CorsCase {
            path: "/cors-1",
            method: "GET",
            headers: &[
                ("origin", "https://foobar.com"),
                ("access-control-request-method", "GET"),
            ],
            statuses: &[200],
            valid: &[],
            absent: &["access-control-allow-origin"],
            reaches_backend: true,
        },
        CorsCase {
            path: "/cors-2",
            method: "OPTIONS",
            headers: &[
                ("origin", "https://www.foo.com"),
                ("access-control-request-method", "POST"),
            ],
            statuses: &[200, 204],
            valid: &[
                ("access-control-allow-methods", &["POST", "*"]),
                ("access-control-allow-origin", &["https://www.foo.com"]),
            ],
            absent: &["access-control-allow-credentials"],
            reaches_backend: false,
        },
        CorsCase {
            path: "/cors-wildcard-origin",
            method: "OPTIONS",
            headers: &[
                ("origin", "https://foobar.com"),
                ("access-control-request-method", "PUT"),
            ],
            statuses: &[200, 204],
            valid: &[
                ("access-control-allow-origin", &["https://foobar.com", "*"]),
                ("access-control-allow-methods", &["PUT"]),
            ],
            absent: &["access-control-allow-credentials"],
            reaches_backend: false,
        },
        CorsCase {
            path: "/cors-wildcard-origin",
            method: "OPTIONS",
            headers: &[
                ("origin", "https://foobar.com:12345"),
                ("access-control-request-method", "PUT"),
            ],
            statuses: &[200, 204],
            valid: &[
                (
                    "access-control-allow-origin",
                    &["https://foobar.com:12345", "*"],
                ),
                ("access-control-allow-methods", &["PUT"]),
            ],
            absent: &["access-control-allow-credentials"],
            reaches_backend: false,
        },
        CorsCase {
            path: "/cors-wildcard-origin",
            method: "PUT",
            headers: &[("origin", "https://foobar.com:12345")],
            statuses: &[200],
            valid: &[(
                "access-control-allow-origin",
                &["https://foobar.com:12345", "*"],
            )],
            absent: &[],
            reaches_backend: true,
        },
        CorsCase {
            path: "/cors-wildcard-origin",
            method: "PUT",
            headers: &[("origin", "https://foobar.com")],
            statuses: &[200],
            valid: &[("access-control-allow-origin", &["https://foobar.com", "*"])],
            absent: &["access-control-allow-credentials"],
            reaches_backend: true,
        },
        CorsCase {
            path: "/cors-wildcard-methods-headers",
            method: "OPTIONS",
            headers: &[
                ("origin", "https://other.foo.com"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "x-header-1, x-header-2"),
            ],
            statuses: &[200, 204],
            valid: &[
                ("access-control-allow-origin", &["https://other.foo.com"]),
                ("access-control-allow-methods", &["PUT"]),
                (
                    "access-control-allow-headers",
                    &["x-header-1, x-header-2", "x-header-2, x-header-1"],
                ),
                ("access-control-allow-credentials", &["true"]),
            ],
            absent: &[],
            reaches_backend: false,
        },
        CorsCase {
            path: "/cors-wildcard-methods-headers-unauth",
            method: "OPTIONS",
            headers: &[
                ("origin", "https://other.foo.com"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "x-header-1, x-header-2"),
            ],
            statuses: &[200, 204],
            valid: &[
                (
                    "access-control-allow-origin",
                    &["https://other.foo.com", "*"],
                ),
                ("access-control-allow-methods", &["PUT", "*"]),
                (
                    "access-control-allow-headers",
                    &["x-header-1, x-header-2", "x-header-2, x-header-1", "*"],
                ),
            ],
            absent: &["access-control-allow-credentials"],
            reaches_backend: false,
        },
        CorsCase {
            path: "/cors-wildcard-methods-headers",
            method: "GET",
            headers: &[("origin", "https://other.foo.com")],
            statuses: &[200],
            valid: &[
                ("access-control-allow-origin", &["https://other.foo.com"]),
                ("access-control-allow-credentials", &["true"]),
            ],
            absent: &[],
            reaches_backend: true,
        },
        CorsCase {
            path: "/cors-wildcard-methods-headers-unauth",
            method: "GET",
            headers: &[("origin", "https://other.foo.com")],
            statuses: &[200],
            valid: &[(
                "access-control-allow-origin",
                &["https://other.foo.com", "*"],
            )],
            absent: &["access-control-allow-credentials"],
            reaches_backend: true,
        },
        // HTTPRouteCORSAllowCredentialsBehavior: every request carries credentials.
        CorsCase {
            path: "/cors-behavior-creds-false",
            method: "GET",
            headers: &[
                ("origin", "https://app.example"),
                ("cookie", "session=1"),
                ("authorization", "Bearer x"),
            ],
            statuses: &[200],
            valid: &[("access-control-allow-origin", &["https://app.example"])],
            absent: &["access-control-allow-credentials"],
            reaches_backend: true,
        },
        CorsCase {
            path: "/cors-behavior-creds-true",
            method: "GET",
            headers: &[
                ("origin", "https://evil.example"),
                ("cookie", "session=1"),
                ("authorization", "Bearer x"),
            ],
            statuses: &[200],
            valid: &[],
            absent: &[
                "access-control-allow-credentials",
                "access-control-allow-origin",
            ],
            reaches_backend: true,
        },
        CorsCase {
            path: "/cors-behavior-creds-true",
            method: "GET",
            headers: &[
                ("origin", "https://app.example"),
                ("cookie", "session=1"),
                ("authorization", "Bearer x"),
            ],
            statuses: &[200],
            valid: &[
                ("access-control-allow-origin", &["https://app.example"]),
                ("access-control-allow-credentials", &["true"]),
            ],
            absent: &[],
            reaches_backend: true,
        },
    ]
}

/// HTTPRouteCORS and HTTPRouteCORSAllowCredentialsBehavior through the data plane: the
/// translation's DataScripts answer every preflight at the Service Engine (the backend never
/// sees it) and put the CORS headers on what the backend answers, exactly as the suite expects.
#[tokio::test]
async fn cors_preflights_are_answered_and_responses_decorated_by_the_service_engine() {
    let manifests = [
        include_str!("../../crates/gateway-translate/tests/conformance/upstream/httproute-cors.yaml"),
        include_str!(
            "../../crates/gateway-translate/tests/conformance/upstream/httproute-cors-allow-credentials-behavior.yaml"
        ),
    ]
    .join("\n---\n")
    .replace("{GATEWAY_CLASS_NAME}", "avi-lb");
    let t = translate(&manifests);
    assert_eq!(t.model.vs_datascript_sets.len(), 7, "one set per CORS rule");
    let v1 = echo("infra-backend-v1").await;
    let sim = programmed(&t, &BTreeMap::from([("infra-backend-v1", v1.addr)])).await;
    let at = listener(&sim, "same-namespace", 80);
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    for case in cors_cases() {
        let what = format!("{} {} {:?}", case.method, case.path, case.headers);
        let mut req = c.request(
            case.method.parse().unwrap(),
            format!("http://{at}{}", case.path),
        );
        for (k, v) in case.headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap();
        assert!(case.statuses.contains(&status), "{what}: {status} {body}");
        assert_eq!(
            body.contains("infra-backend-v1"),
            case.reaches_backend,
            "{what}: {body}"
        );
        for (name, accepted) in case.valid {
            let got = headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{what}: no {name} in {headers:?}"));
            assert!(
                accepted.iter().any(|a| squash(a) == squash(got)),
                "{what}: {name}: {got}"
            );
        }
        for name in case.absent {
            assert!(
                headers.get(*name).is_none(),
                "{what}: {name} in {headers:?}"
            );
        }
        // Allowed or not, an answer of a CORS rule varies with the origin (shared caches).
        assert!(
            headers
                .get_all("vary")
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.contains("Origin"))),
            "{what}: no Vary: Origin in {headers:?}"
        );
    }

    // The filter removed (the routes' other rules gone too): the child loses its DataScript
    // reference before the sets are deleted, every write succeeds, and a preflight is an
    // ordinary request again.
    let plain = translate(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cors-multiple-origins-methods-headers, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /cors-1}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
"#,
    );
    assert!(plain.model.vs_datascript_sets.is_empty());
    sync_into(
        &sim,
        &plain,
        &BTreeMap::from([("infra-backend-v1", v1.addr)]),
    )
    .await;
    assert_eq!(sim.with_store(|s| s.count("vsdatascriptset")), 0);
    let resp = c
        .request(reqwest::Method::OPTIONS, format!("http://{at}/cors-1"))
        .header("origin", "https://www.foo.com")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    assert!(resp.text().await.unwrap().contains("infra-backend-v1"));
}

/// HTTPRoute303Redirect through the data plane: the DataScript answers the POST with 303 and
/// the request's own URL as Location (the filter changes nothing else), and a prefix
/// replacement on another rule keeps what follows the prefix and the query.
#[tokio::test]
async fn a_303_redirect_is_answered_by_the_service_engine() {
    let t = translate(&format!(
        "{}\n---\n{}",
        include_str!(
            "../../crates/gateway-translate/tests/conformance/upstream/httproute-303-redirect.yaml"
        ),
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: prefix-303, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {statusCode: 303, hostname: moved.example, port: 8443, scheme: https, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
"#
    ));
    let v1 = echo("infra-backend-v1").await;
    let sim = programmed(&t, &BTreeMap::from([("infra-backend-v1", v1.addr)])).await;
    let at = listener(&sim, "same-namespace", 80);
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for (path, location) in [
        ("/see-other", "http://example.com/see-other"),
        ("/old/a/b?x=1", "https://moved.example:8443/new/a/b?x=1"),
        ("/old", "https://moved.example:8443/new"),
    ] {
        let resp = c
            .post(format!("http://{at}{path}"))
            .header("host", "example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 303, "{path}");
        assert_eq!(
            resp.headers().get("location").and_then(|v| v.to_str().ok()),
            Some(location),
            "{path}"
        );
    }
}
