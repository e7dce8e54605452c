//! The Service Engine data plane over real sockets: objects are created through the REST API
//! as a client would, traffic goes through the virtual services' loopback listeners to local
//! hyper backends (plain and TLS, with and without client certificates).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use avi_sim::{AviSim, RunningSim};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use reqwest::{Method, StatusCode};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;

fn provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

// ------------------------------------------------------------------ certificates

/// A certificate authority made with rcgen.
struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl Ca {
    fn new(cn: &str) -> Ca {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, cn);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { params, key, pem }
    }

    /// A leaf for `sans` (DNS names or IPs), usable by servers and clients: (cert PEM, key PEM).
    fn issue(&self, cn: &str, sans: &[&str]) -> (String, String) {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params =
            CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

impl Ca {
    /// An Istio-style workload certificate: no subject, one SPIFFE URI SAN.
    fn workload(&self, spiffe: &str) -> (String, String) {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .subject_alt_names
            .push(rcgen::SanType::URI(spiffe.try_into().unwrap()));
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn der_chain(pem: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap()
}

// ------------------------------------------------------------------ backends

/// A local HTTP(S) server answering with what it saw, as JSON.
struct Backend {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// TLS settings of a backend: its certificate, and the CA its clients must be signed by.
struct BackendTls {
    cert: (String, String),
    client_ca: Option<String>,
}

async fn backend(name: &'static str, tls: Option<BackendTls>) -> Backend {
    provider();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tls.map(|t| {
        let builder = rustls::ServerConfig::builder();
        let builder = match t.client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in der_chain(&ca) {
                    roots.add(c).unwrap();
                }
                builder.with_client_cert_verifier(
                    rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                        .build()
                        .unwrap(),
                )
            }
            None => builder.with_no_client_auth(),
        };
        let key = PrivateKeyDer::from_pem_slice(t.cert.1.as_bytes()).unwrap();
        Arc::new(builder.with_single_cert(der_chain(&t.cert.0), key).unwrap())
    });
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let config = config.clone();
            tokio::spawn(async move {
                match config {
                    None => serve_echo(TokioIo::new(stream), name, None, None).await,
                    Some(c) => {
                        let Ok(tls) = tokio_rustls::TlsAcceptor::from(c).accept(stream).await
                        else {
                            return;
                        };
                        let (_, conn) = tls.get_ref();
                        let sni = conn.server_name().map(str::to_owned);
                        let client = conn
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .and_then(|der| common_name(der.as_ref()));
                        serve_echo(TokioIo::new(tls), name, Some(sni), client).await;
                    }
                }
            });
        }
    });
    Backend { addr, task }
}

/// The client certificate's common name, else its first URI SAN (a SPIFFE ID).
fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    if let Some(cn) = cert.subject().iter_common_name().next() {
        return cn.as_str().ok().map(str::to_owned);
    }
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|n| match n {
        x509_parser::extensions::GeneralName::URI(u) => Some((*u).to_owned()),
        _ => None,
    })
}

async fn serve_echo<I>(
    io: I,
    name: &'static str,
    sni: Option<Option<String>>,
    client_cert: Option<String>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let sni = sni.clone();
        let client_cert = client_cert.clone();
        async move {
            let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (k, v) in req.headers() {
                headers
                    .entry(k.as_str().to_owned())
                    .or_default()
                    .push(v.to_str().unwrap_or_default().to_owned());
            }
            let body = json!({
                "backend": name,
                "method": req.method().as_str(),
                "path": req.uri().path(),
                "query": req.uri().query(),
                "headers": headers,
                "tls": sni.is_some(),
                "sni": sni.flatten(),
                "client_cert": client_cert,
            });
            let mut resp = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
            resp.headers_mut()
                .insert("x-backend", hyper::header::HeaderValue::from_static(name));
            resp.headers_mut().insert(
                "x-internal",
                hyper::header::HeaderValue::from_static("secret"),
            );
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

// ------------------------------------------------------------------ the controller

/// A logged-in REST client, as every Avi SDK is.
struct Api {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

impl Api {
    async fn login(sim: &RunningSim) -> Api {
        provider();
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let base = sim.base_url();
        let resp = http
            .post(format!("{base}/login"))
            .json(&json!({"username": "admin", "password": "avi123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let csrf = resp
            .cookies()
            .find(|c| c.name() == "csrftoken")
            .map(|c| c.value().to_owned())
            .unwrap();
        Api { http, base, csrf }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-CSRFToken", &self.csrf)
            .header("Referer", &self.base);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates an object; returns its uuid.
    async fn create(&self, ty: &str, body: Value) -> String {
        let (status, answer) = self
            .call(Method::POST, &format!("/api/{ty}"), Some(body))
            .await;
        assert_eq!(status, 201, "{ty}: {answer}");
        answer["uuid"].as_str().unwrap().to_owned()
    }

    async fn patch(&self, ty: &str, uuid: &str, body: Value) {
        let (status, answer) = self
            .call(Method::PATCH, &format!("/api/{ty}/{uuid}"), Some(body))
            .await;
        assert_eq!(status, 200, "{ty}: {answer}");
    }

    /// A pool with one server, and a pool group with that pool alone.
    async fn pool(&self, name: &str, server: SocketAddr, extra: Value) -> String {
        let mut body = json!({"name": name, "servers": [
            {"ip": {"addr": server.ip().to_string(), "type": "V4"}, "port": server.port()}]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let uuid = self.create("pool", body).await;
        self.create(
            "poolgroup",
            json!({"name": name, "members": [{"pool_ref": format!("/api/pool/?name={name}"), "ratio": 1}]}),
        )
        .await;
        uuid
    }
}

async fn sim() -> RunningSim {
    provider();
    AviSim::builder().data_plane(true).start().await.unwrap()
}

/// The default-backend policy the translator puts on every parent.
async fn default_backend(api: &Api) {
    api.create(
        "httppolicyset",
        json!({"name": "default-backend", "http_request_policy": {"rules": [{
            "name": "default-backend-rule", "index": 0, "enable": true,
            "match": {"path": {"match_criteria": "BEGINS_WITH", "match_case": "SENSITIVE", "match_str": ["/"]}},
            "switching_action": {"action": "HTTP_SWITCHING_SELECT_LOCAL",
                                 "status_code": "HTTP_LOCAL_RESPONSE_STATUS_CODE_404"}}]}}),
    )
    .await;
}

/// An EVH parent on HTTP 80 and HTTPS 443 with a certificate for `*.example.com`, as the
/// translator writes it; returns the frontend CA.
async fn parent(api: &Api) -> Ca {
    let ca = Ca::new("frontend CA");
    let (cert, key) = ca.issue("gateway", &["*.example.com"]);
    api.create(
        "sslkeyandcertificate",
        json!({"name": "gateway-cert", "certificate": {"certificate": cert}, "key": key}),
    )
    .await;
    default_backend(api).await;
    api.create(
        "vsvip",
        json!({"name": "gw", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
    )
    .await;
    api.create(
        "virtualservice",
        json!({"name": "gw", "type": "VS_TYPE_VH_PARENT", "vh_type": "VS_TYPE_VH_ENHANCED",
               "services": [{"port": 80}, {"port": 443, "enable_ssl": true}],
               "vsvip_ref": "/api/vsvip/?name=gw",
               "ssl_key_and_certificate_refs": ["/api/sslkeyandcertificate/?name=gateway-cert"],
               "http_policies": [{"index": 0, "http_policy_set_ref": "/api/httppolicyset/?name=default-backend"}],
               "application_profile_ref": "/api/applicationprofile/?name=System-HTTP",
               "network_profile_ref": "/api/networkprofile/?name=System-TCP-Proxy"}),
    )
    .await;
    ca
}

/// An EVH child of `gw` serving `host` with the given rule targets, sending to the pool
/// group named `pool_group`.
async fn child(
    api: &Api,
    name: &str,
    host: &str,
    targets: Vec<Value>,
    pool_group: &str,
    policy: Option<&str>,
) {
    let rules: Vec<Value> = targets
        .into_iter()
        .enumerate()
        .map(|(i, t)| json!({"name": format!("rule-{i}"), "matches": t}))
        .collect();
    let mut body = json!({"name": name, "type": "VS_TYPE_VH_CHILD", "vh_type": "VS_TYPE_VH_ENHANCED",
        "vh_parent_vs_ref": "/api/virtualservice/?name=gw",
        "vh_matches": [{"host": host, "rules": rules}],
        "pool_group_ref": format!("/api/poolgroup/?name={pool_group}"),
        "application_profile_ref": "/api/applicationprofile/?name=System-HTTP"});
    if let Some(p) = policy {
        body["http_policies"] =
            json!([{"index": 0, "http_policy_set_ref": format!("/api/httppolicyset/?name={p}")}]);
    }
    api.create("virtualservice", body).await;
}

fn path(criteria: &str, s: &str) -> Value {
    json!({"match_criteria": criteria, "match_case": "SENSITIVE", "match_str": [s]})
}

fn ports() -> Value {
    json!({"match_criteria": "IS_IN", "ports": [80, 443]})
}

/// A client of the data plane that resolves `hosts` to loopback and trusts `ca`.
fn client(hosts: &[&str], ca: Option<&Ca>) -> reqwest::Client {
    provider();
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    for h in hosts {
        b = b.resolve(h, SocketAddr::from(([127, 0, 0, 1], 0)));
    }
    if let Some(ca) = ca {
        b = b.tls_certs_only([reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap()]);
    }
    b.build().unwrap()
}

/// `scheme://host:<local port of vs:port>path`.
fn url(sim: &RunningSim, vs: &str, port: u16, host: &str, path: &str) -> String {
    let l = sim
        .data_plane()
        .unwrap()
        .listeners()
        .into_iter()
        .find(|l| l.virtual_service == vs && l.port == port)
        .unwrap_or_else(|| panic!("no listener for {vs}:{port}"));
    let scheme = if l.tls { "https" } else { "http" };
    format!("{scheme}://{host}:{}{path}", l.local.unwrap().port())
}

async fn get(c: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let resp = c.get(url).send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn off_unless_asked_for() {
    let sim = AviSim::builder().start().await.unwrap();
    assert!(sim.data_plane().is_none());
    let body: Value = reqwest::get(format!("{}/_sim/data-plane", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"enabled": false, "listeners": [], "pools": []})
    );
}

#[tokio::test]
async fn a_grouped_child_sends_each_request_to_the_first_member_that_matches() {
    // What the translator writes for routes that overlap on one host and path when negating
    // them would cost too much: one child whose targets are the members' conditions, and a
    // policy set listing them in precedence order, each switching to its member's pool group.
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let ca = parent(&api).await;
    let mut backends = Vec::new();
    for name in ["a", "b", "c"] {
        let b = backend(name, None).await;
        api.pool(name, b.addr, json!({})).await;
        backends.push(b);
    }
    let hdr = |name: &str| {
        json!({"path": path("BEGINS_WITH", "/"), "vs_port": ports(),
               "hdrs": [{"hdr": name, "match_criteria": "HDR_EQUALS", "match_case": "SENSITIVE", "value": ["1"]}]})
    };
    let switch = |i: u32, name: &str, pg: &str| {
        json!({"name": name, "index": i, "enable": true, "match": hdr(&format!("x-{pg}")),
               "switching_action": {"action": "HTTP_SWITCHING_SELECT_POOLGROUP",
                                    "pool_group_ref": format!("/api/poolgroup/?name={pg}")}})
    };
    let mut filter = switch(0, "a-filter", "a");
    filter.as_object_mut().unwrap().remove("switching_action");
    filter["hdr_action"] = json!([{"action": "HTTP_ADD_HDR",
        "hdr": {"name": "x-added", "value": {"val": "by-a"}}}]);
    api.create(
        "httppolicyset",
        json!({"name": "grouped", "http_request_policy": {"rules": [
            filter, switch(1, "a", "a"), switch(2, "b", "b"), switch(3, "c", "c"),
            {"name": "none", "index": 4, "enable": true, "switching_action": {
                "action": "HTTP_SWITCHING_SELECT_LOCAL", "status_code": "HTTP_LOCAL_RESPONSE_STATUS_CODE_404"}}]}}),
    )
    .await;
    api.create(
        "virtualservice",
        json!({"name": "grouped", "type": "VS_TYPE_VH_CHILD", "vh_type": "VS_TYPE_VH_ENHANCED",
               "vh_parent_vs_ref": "/api/virtualservice/?name=gw",
               "vh_matches": [{"host": "app.example.com", "rules": [
                   {"name": "rule-0", "matches": hdr("x-a")},
                   {"name": "rule-1", "matches": hdr("x-b")},
                   {"name": "rule-2", "matches": hdr("x-c")}]}],
               "http_policies": [{"index": 0, "http_policy_set_ref": "/api/httppolicyset/?name=grouped"}],
               "application_profile_ref": "/api/applicationprofile/?name=System-HTTP"}),
    )
    .await;
    let c = client(&["app.example.com"], Some(&ca));
    for port in [80, 443] {
        let u = url(&sim, "gw", port, "app.example.com", "/any");
        let send = |headers: &'static [&'static str]| {
            let mut req = c.get(&u);
            for h in headers {
                req = req.header(*h, "1");
            }
            async move {
                let resp = req.send().await.unwrap();
                let status = resp.status();
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                (status, body)
            }
        };
        for (headers, want, added) in [
            (&["x-c"][..], "c", false),
            (&["x-b", "x-c"][..], "b", false),
            (&["x-c", "x-a"][..], "a", true),
            (&["x-a", "x-b", "x-c"][..], "a", true),
        ] {
            let (status, body) = send(headers).await;
            assert_eq!(status, StatusCode::OK, "{headers:?}");
            assert_eq!(body["backend"], want, "{headers:?}: {body}");
            assert_eq!(
                body["headers"].get("x-added").is_some(),
                added,
                "{headers:?}: {body}"
            );
        }
        // No member matches: the child is not chosen and the parent's default answers.
        let (status, _) = send(&["x-d"]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    drop(backends);
}

#[tokio::test]
async fn enhanced_virtual_hosting_routes_by_host_path_header_method_and_query() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let ca = parent(&api).await;
    let mut backends = Vec::new();
    for name in ["root", "v2", "canary", "post", "query", "wild"] {
        let b = backend(name, None).await;
        api.pool(name, b.addr, json!({})).await;
        backends.push(b);
    }
    // What the translator writes, precedence pass included: the header rule's negation on
    // the plain root rule.
    child(&api, "root", "app.example.com", vec![
        json!({"path": path("BEGINS_WITH", "/"), "vs_port": ports(),
               "hdrs": [{"hdr": "x-canary", "match_criteria": "HDR_DOES_NOT_EQUAL", "match_case": "SENSITIVE", "value": ["yes"]}],
               "method": {"match_criteria": "IS_NOT_IN", "methods": ["HTTP_METHOD_POST"]}}),
    ], "root", None).await;
    child(
        &api,
        "v2",
        "app.example.com",
        vec![
            json!({"path": path("EQUALS", "/v2"), "vs_port": ports()}),
            json!({"path": path("BEGINS_WITH", "/v2/"), "vs_port": ports()}),
        ],
        "v2",
        None,
    )
    .await;
    child(&api, "canary", "app.example.com", vec![
        json!({"path": path("BEGINS_WITH", "/"), "vs_port": ports(),
               "hdrs": [{"hdr": "x-canary", "match_criteria": "HDR_EQUALS", "match_case": "SENSITIVE", "value": ["yes"]}]}),
    ], "canary", None).await;
    child(&api, "post", "app.example.com", vec![
        json!({"path": path("BEGINS_WITH", "/"), "vs_port": ports(),
               "hdrs": [{"hdr": "x-canary", "match_criteria": "HDR_DOES_NOT_EQUAL", "match_case": "SENSITIVE", "value": ["yes"]}],
               "method": {"match_criteria": "IS_IN", "methods": ["HTTP_METHOD_POST"]}}),
    ], "post", None).await;
    child(
        &api,
        "query",
        "app.example.com",
        vec![
            json!({"path": path("BEGINS_WITH", "/search"), "vs_port": ports(),
               "query": {"match_criteria": "QUERY_MATCH_REGEX_MATCH", "match_case": "SENSITIVE",
                         "match_str": [r"^(?=(?:.*&)?animal=whale(?:&|$))"]}}),
        ],
        "query",
        None,
    )
    .await;
    child(
        &api,
        "wild",
        "*.example.com",
        vec![json!({"path": path("BEGINS_WITH", "/"), "vs_port": ports()})],
        "wild",
        None,
    )
    .await;

    let c = client(
        &["app.example.com", "other.example.com", "nothing.test"],
        Some(&ca),
    );
    let backend_of = |v: &Value| v["backend"].as_str().unwrap_or_default().to_owned();
    for port in [80, 443] {
        let u = |host: &str, p: &str| url(&sim, "gw", port, host, p);
        let (s, b) = get(&c, &u("app.example.com", "/")).await;
        assert_eq!(
            (s, backend_of(&b).as_str()),
            (StatusCode::OK, "root"),
            "{b}"
        );
        assert_eq!(
            backend_of(&get(&c, &u("app.example.com", "/v2")).await.1),
            "v2"
        );
        assert_eq!(
            backend_of(&get(&c, &u("app.example.com", "/v2/users")).await.1),
            "v2"
        );
        assert_eq!(
            backend_of(&get(&c, &u("app.example.com", "/v2example")).await.1),
            "root"
        );
        assert_eq!(
            backend_of(
                &get(&c, &u("app.example.com", "/search?animal=whale"))
                    .await
                    .1
            ),
            "query"
        );
        assert_eq!(
            backend_of(
                &get(&c, &u("app.example.com", "/search?a=1&animal=whale"))
                    .await
                    .1
            ),
            "query"
        );
        assert_eq!(
            backend_of(
                &get(&c, &u("app.example.com", "/search?animal=whaledolphin"))
                    .await
                    .1
            ),
            "root"
        );
        assert_eq!(
            backend_of(&get(&c, &u("other.example.com", "/v2")).await.1),
            "wild"
        );
        let canary: Value = c
            .get(u("app.example.com", "/"))
            .header("x-canary", "yes")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(backend_of(&canary), "canary");
        let post: Value = c
            .post(u("app.example.com", "/form"))
            .body("x=1")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(backend_of(&post), "post");
        assert_eq!(post["method"], "POST");
    }
    // No child for the host: the parent's default backend answers 404.
    let (s, _) = get(&c, &url(&sim, "gw", 80, "nothing.test", "/")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The backend saw the client's Host, and who the client is.
    let (_, b) = get(&c, &url(&sim, "gw", 443, "app.example.com", "/")).await;
    assert_eq!(
        b["headers"]["host"][0].as_str().unwrap().split(':').next(),
        Some("app.example.com")
    );
    assert_eq!(b["headers"]["x-forwarded-for"], json!(["127.0.0.1"]));
    assert_eq!(b["tls"], false);
    let pools = sim.data_plane().unwrap().pools();
    assert!(pools.iter().all(|p| p.errors == 0), "{pools:?}");
    assert!(sim.data_plane().unwrap().pool("root").requests >= 4);
}

#[tokio::test]
async fn sni_chooses_among_the_parent_and_children_certificates() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let ca = parent(&api).await;
    let b = backend("b", None).await;
    api.pool("b", b.addr, json!({})).await;
    // A child with its own certificate for a host outside *.example.com.
    let (cert, key) = ca.issue("shop", &["shop.test"]);
    api.create(
        "sslkeyandcertificate",
        json!({"name": "shop-cert", "certificate": {"certificate": cert}, "key": key}),
    )
    .await;
    child(
        &api,
        "shop",
        "shop.test",
        vec![json!({"path": path("BEGINS_WITH", "/")})],
        "b",
        None,
    )
    .await;
    let uuid = sim.with_store(|s| {
        s.find_by_name("virtualservice", "shop", &avi_sim::store::TenantScope::All)
            .unwrap()
            .uuid
            .clone()
    });
    api.patch("virtualservice", &uuid, json!({"replace": {"ssl_key_and_certificate_refs": ["/api/sslkeyandcertificate/?name=shop-cert"]}})).await;
    child(
        &api,
        "app",
        "app.example.com",
        vec![json!({"path": path("BEGINS_WITH", "/")})],
        "b",
        None,
    )
    .await;

    // rustls checks the name: a wrong certificate would fail the request.
    let c = client(&["app.example.com", "shop.test"], Some(&ca));
    let (s, _) = get(&c, &url(&sim, "gw", 443, "shop.test", "/")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = get(&c, &url(&sim, "gw", 443, "app.example.com", "/")).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn policies_change_headers_rewrite_and_redirect() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let ca = parent(&api).await;
    let b = backend("b", None).await;
    api.pool("b", b.addr, json!({})).await;
    let hdr = |action: &str, name: &str, val: Option<&str>| match val {
        Some(v) => {
            json!({"action": action, "hdr": {"name": name, "value": {"val": v, "is_sensitive": false}}})
        }
        None => json!({"action": action, "hdr": {"name": name}}),
    };
    // What the translator writes for RequestHeaderModifier + URLRewrite (ReplacePrefixMatch)
    // + ResponseHeaderModifier.
    api.create("httppolicyset", json!({"name": "api-policy",
        "http_request_policy": {"rules": [{"name": "api-policy", "index": 0, "enable": true,
            "hdr_action": [hdr("HTTP_ADD_HDR", "x-added", Some("a")),
                           hdr("HTTP_REPLACE_HDR", "x-set", Some("new")),
                           hdr("HTTP_REMOVE_HDR", "x-gone", None)],
            "rewrite_url_action": {
                "host_hdr": {"type": "URI_PARAM_TYPE_TOKENIZED", "tokens": [{"type": "URI_TOKEN_TYPE_STRING", "str_value": "backend.internal"}]},
                "path": {"type": "URI_PARAM_TYPE_TOKENIZED", "tokens": [
                    {"type": "URI_TOKEN_TYPE_STRING", "str_value": "v2"},
                    {"type": "URI_TOKEN_TYPE_PATH", "start_index": 1, "end_index": 65535}]},
                "query": {"keep_query": true}}}]},
        "http_response_policy": {"rules": [{"name": "api-policy", "index": 0, "enable": true,
            "hdr_action": [hdr("HTTP_ADD_HDR", "x-served-by", Some("avi")), hdr("HTTP_REMOVE_HDR", "x-internal", None)]}]}})).await;
    child(
        &api,
        "api",
        "app.example.com",
        vec![
            json!({"path": path("EQUALS", "/api"), "vs_port": ports()}),
            json!({"path": path("BEGINS_WITH", "/api/"), "vs_port": ports()}),
        ],
        "b",
        Some("api-policy"),
    )
    .await;
    // What the translator writes for a RequestRedirect whose defaults differ per listener.
    api.create("httppolicyset", json!({"name": "redirect-policy",
        "http_request_policy": {"rules": [
            {"name": "redirect-policy-0", "index": 0, "enable": true,
             "match": {"vs_port": {"match_criteria": "IS_IN", "ports": [80]}},
             "redirect_action": {"protocol": "HTTPS", "port": 443, "keep_query": true,
                                 "host": {"type": "URI_PARAM_TYPE_TOKENIZED", "tokens": [{"type": "URI_TOKEN_TYPE_STRING", "str_value": "secure.example.com"}]},
                                 "status_code": "HTTP_REDIRECT_STATUS_CODE_301"}},
            {"name": "redirect-policy-1", "index": 1, "enable": true,
             "match": {"vs_port": {"match_criteria": "IS_IN", "ports": [443]}},
             "redirect_action": {"protocol": "HTTPS", "port": 8443, "keep_query": false,
                                 "path": {"type": "URI_PARAM_TYPE_TOKENIZED", "tokens": [{"type": "URI_TOKEN_TYPE_STRING", "str_value": "moved/here"}]},
                                 "status_code": "HTTP_REDIRECT_STATUS_CODE_302"}}]}})).await;
    child(
        &api,
        "old",
        "app.example.com",
        vec![json!({"path": path("BEGINS_WITH", "/old"), "vs_port": ports()})],
        "b",
        Some("redirect-policy"),
    )
    .await;

    let c = client(&["app.example.com"], Some(&ca));
    let resp = c
        .get(url(&sim, "gw", 80, "app.example.com", "/api/users/7?x=1"))
        .header("x-set", "old")
        .header("x-gone", "1")
        .header("x-kept", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-served-by"], "avi");
    assert!(resp.headers().get("x-internal").is_none());
    assert_eq!(resp.headers()["x-backend"], "b");
    let seen: Value = resp.json().await.unwrap();
    assert_eq!(seen["path"], "/v2/users/7");
    assert_eq!(seen["query"], "x=1");
    assert_eq!(seen["headers"]["host"], json!(["backend.internal"]));
    assert_eq!(seen["headers"]["x-added"], json!(["a"]));
    assert_eq!(seen["headers"]["x-set"], json!(["new"]));
    assert_eq!(seen["headers"]["x-kept"], json!(["k"]));
    assert!(seen["headers"].get("x-gone").is_none());
    let (_, seen) = get(&c, &url(&sim, "gw", 80, "app.example.com", "/api")).await;
    assert_eq!(seen["path"], "/v2");

    let resp = c
        .get(url(&sim, "gw", 80, "app.example.com", "/old/page?q=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(
        resp.headers()["location"],
        "https://secure.example.com/old/page?q=1"
    );
    let resp = c
        .get(url(&sim, "gw", 443, "app.example.com", "/old/page?q=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(
        resp.headers()["location"],
        "https://app.example.com:8443/moved/here"
    );
}

#[tokio::test]
async fn pool_group_ratios_split_traffic() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let (a, b, z) = (
        backend("a", None).await,
        backend("b", None).await,
        backend("z", None).await,
    );
    for (name, be) in [("a", &a), ("b", &b), ("z", &z)] {
        api.create("pool", json!({"name": name, "servers": [{"ip": {"addr": "127.0.0.1", "type": "V4"}, "port": be.addr.port()}]})).await;
    }
    api.create(
        "poolgroup",
        json!({"name": "split", "members": [
        {"pool_ref": "/api/pool/?name=a", "ratio": 3},
        {"pool_ref": "/api/pool/?name=b", "ratio": 1},
        {"pool_ref": "/api/pool/?name=z", "ratio": 0}]}),
    )
    .await;
    api.create(
        "vsvip",
        json!({"name": "v", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
    )
    .await;
    api.create(
        "virtualservice",
        json!({"name": "split", "services": [{"port": 80}],
        "vsvip_ref": "/api/vsvip/?name=v", "pool_group_ref": "/api/poolgroup/?name=split"}),
    )
    .await;
    let c = client(&[], None);
    let u = url(&sim, "split", 80, "127.0.0.1", "/");
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    for _ in 0..200 {
        let (s, b) = get(&c, &u).await;
        assert_eq!(s, 200);
        *counts
            .entry(b["backend"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let n = |k: &str| counts.get(k).copied().unwrap_or(0);
    assert_eq!(n("a") + n("b"), 200, "{counts:?}");
    assert_eq!(n("z"), 0);
    assert!((120..=180).contains(&n("a")), "{counts:?}");
    let dp = sim.data_plane().unwrap();
    assert_eq!(dp.pool("a").requests, u64::from(n("a")));
    assert_eq!(dp.pool("a").responses, u64::from(n("a")));
    assert_eq!(dp.pool("z").requests, 0);
}

#[tokio::test]
async fn nothing_to_route_is_404_and_an_empty_pool_group_503() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    api.create(
        "vsvip",
        json!({"name": "v", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
    )
    .await;
    api.create(
        "virtualservice",
        json!({"name": "bare", "services": [{"port": 80}], "vsvip_ref": "/api/vsvip/?name=v"}),
    )
    .await;
    api.create("poolgroup", json!({"name": "empty"})).await;
    api.create(
        "virtualservice",
        json!({"name": "empty", "services": [{"port": 81}], "vsvip_ref": "/api/vsvip/?name=v",
        "pool_group_ref": "/api/poolgroup/?name=empty"}),
    )
    .await;
    let c = client(&[], None);
    assert_eq!(
        get(&c, &url(&sim, "bare", 80, "127.0.0.1", "/")).await.0,
        404
    );
    assert_eq!(
        get(&c, &url(&sim, "empty", 81, "127.0.0.1", "/")).await.0,
        503
    );
}

#[tokio::test]
async fn a_dead_server_is_a_counted_502() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    // A port nothing listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    api.pool("dead", dead, json!({})).await;
    api.create(
        "vsvip",
        json!({"name": "v", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
    )
    .await;
    api.create(
        "virtualservice",
        json!({"name": "vs", "services": [{"port": 80}], "vsvip_ref": "/api/vsvip/?name=v",
        "pool_group_ref": "/api/poolgroup/?name=dead"}),
    )
    .await;
    let c = client(&[], None);
    let (s, body) = get(&c, &url(&sim, "vs", 80, "127.0.0.1", "/")).await;
    assert_eq!(s, 502);
    assert!(body.as_str().unwrap().contains("connect failed"), "{body}");
    let stats = sim.data_plane().unwrap().pool("dead");
    assert_eq!((stats.requests, stats.responses, stats.errors), (1, 0, 1));
    let last = stats.last_error.unwrap();
    assert!(
        last.starts_with(&format!("{dead}: connect failed")),
        "{last}"
    );
    // The admin endpoint shows the same.
    let admin: Value = reqwest::get(format!("{}/_sim/data-plane", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["enabled"], true);
    let pool = admin["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pool"] == "dead")
        .unwrap();
    assert_eq!(pool["errors"], 1);
    assert_eq!(pool["last_error"], json!(last));
    let listener = &admin["listeners"][0];
    assert_eq!(listener["virtual_service"], "vs");
    assert_eq!(listener["vip"], "10.250.250.1");
    assert_eq!(listener["port"], 80);
    assert_eq!(listener["tls"], false);
    assert!(
        listener["local"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    let resp = reqwest::Client::new()
        .delete(format!("{}/_sim/data-plane/stats", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(sim.data_plane().unwrap().pool("dead").errors, 0);
}

/// The mesh setup the product writes: re-encryption with a client certificate, the server
/// verified against a PKI profile; and every way it can fail.
#[tokio::test]
async fn upstream_tls_as_the_pool_configures_it() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let mesh = Ca::new("mesh root");
    let other = Ca::new("someone else");
    let server_cert = mesh.issue("backend", &["backend.mesh.internal", "127.0.0.1"]);
    let strict = backend(
        "strict",
        Some(BackendTls {
            cert: server_cert.clone(),
            client_ca: Some(mesh.pem.clone()),
        }),
    )
    .await;
    let (client_cert, client_key) = mesh.issue("ako-workload", &["ako.avi-system.svc"]);
    api.create(
        "sslkeyandcertificate",
        json!({"name": "workload", "certificate": {"certificate": client_cert}, "key": client_key}),
    )
    .await;
    let (stranger_cert, stranger_key) = other.issue("stranger", &["stranger.test"]);
    api.create("sslkeyandcertificate", json!({"name": "stranger", "certificate": {"certificate": stranger_cert}, "key": stranger_key})).await;
    api.create(
        "pkiprofile",
        json!({"name": "mesh-pki", "crl_check": false, "ca_certs": [{"certificate": mesh.pem}]}),
    )
    .await;
    api.create(
        "pkiprofile",
        json!({"name": "other-pki", "crl_check": false, "ca_certs": [{"certificate": other.pem}]}),
    )
    .await;
    api.create(
        "pkiprofile",
        json!({"name": "crl-pki", "ca_certs": [{"certificate": mesh.pem}]}),
    )
    .await;
    let mtls = json!({"ssl_profile_ref": "/api/sslprofile/?name=System-Standard",
                      "ssl_key_and_certificate_ref": "/api/sslkeyandcertificate/?name=workload",
                      "pki_profile_ref": "/api/pkiprofile/?name=mesh-pki"});
    let with = |changes: Value| {
        let mut p = mtls.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                p.as_object_mut().unwrap().remove(k);
            } else {
                p[k] = v.clone();
            }
        }
        p
    };
    let plain = backend("plain", None).await;
    let cases: Vec<(&str, SocketAddr, Value)> = vec![
        (
            "mtls",
            strict.addr,
            with(json!({"server_name": "backend.mesh.internal"})),
        ),
        (
            "no-client-cert",
            strict.addr,
            with(json!({"ssl_key_and_certificate_ref": null})),
        ),
        (
            "wrong-client-cert",
            strict.addr,
            with(
                json!({"ssl_key_and_certificate_ref": "/api/sslkeyandcertificate/?name=stranger"}),
            ),
        ),
        (
            "untrusted-server",
            strict.addr,
            with(json!({"pki_profile_ref": "/api/pkiprofile/?name=other-pki"})),
        ),
        (
            "crl-without-crls",
            strict.addr,
            with(json!({"pki_profile_ref": "/api/pkiprofile/?name=crl-pki"})),
        ),
        (
            "no-verification",
            strict.addr,
            with(json!({"pki_profile_ref": null})),
        ),
        (
            "host-check-ok",
            strict.addr,
            with(json!({"host_check_enabled": true, "domain_name": ["backend.mesh.internal"]})),
        ),
        (
            "host-check-bad",
            strict.addr,
            with(json!({"host_check_enabled": true, "domain_name": ["elsewhere.internal"]})),
        ),
        ("plain", plain.addr, json!({})),
        ("tls-to-plain", plain.addr, with(json!({}))),
    ];
    api.create(
        "vsvip",
        json!({"name": "v", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
    )
    .await;
    let mut services = Vec::new();
    for (i, (name, addr, extra)) in cases.iter().enumerate() {
        api.pool(name, *addr, extra.clone()).await;
        let port = 8000 + u16::try_from(i).unwrap();
        api.create(
            "httppolicyset",
            json!({"name": name, "http_request_policy": {"rules": [{
            "name": name, "index": 0, "enable": true,
            "match": {"vs_port": {"match_criteria": "IS_IN", "ports": [port]}},
            "switching_action": {"action": "HTTP_SWITCHING_SELECT_POOLGROUP",
                                 "pool_group_ref": format!("/api/poolgroup/?name={name}")}}]}}),
        )
        .await;
        services.push(json!({"port": port}));
    }
    let policies: Vec<Value> = cases.iter().enumerate()
        .map(|(i, (name, _, _))| json!({"index": i, "http_policy_set_ref": format!("/api/httppolicyset/?name={name}")}))
        .collect();
    api.create(
        "virtualservice",
        json!({"name": "mesh", "services": services, "vsvip_ref": "/api/vsvip/?name=v",
        "http_policies": policies}),
    )
    .await;

    let c = client(&["httpbin.example.com"], None);
    let mut results = BTreeMap::new();
    for (i, (name, _, _)) in cases.iter().enumerate() {
        let port = 8000 + u16::try_from(i).unwrap();
        let (status, body) = get(&c, &url(&sim, "mesh", port, "httpbin.example.com", "/get")).await;
        results.insert(*name, (status, body));
    }
    let dp = sim.data_plane().unwrap();
    let ok = |name: &str| {
        let (status, body) = &results[name];
        assert_eq!(*status, 200, "{name}: {body}");
        body.clone()
    };
    let failed = |name: &str, expected: &str| {
        let (status, body) = &results[name];
        assert_eq!(*status, 502, "{name}: {body}");
        let stats = dp.pool(name);
        assert_eq!(stats.errors, 1, "{name}: {stats:?}");
        let last = stats.last_error.unwrap_or_default();
        assert!(last.contains(expected), "{name}: {last}");
    };
    let seen = ok("mtls");
    assert_eq!(seen["tls"], true);
    assert_eq!(seen["client_cert"], "ako-workload");
    assert_eq!(seen["sni"], "backend.mesh.internal");
    failed(
        "no-client-cert",
        "TLS handshake failed: peer rejected our certificate",
    );
    failed(
        "wrong-client-cert",
        "TLS handshake failed: peer rejected our certificate",
    );
    failed(
        "untrusted-server",
        "TLS handshake failed: server certificate not trusted",
    );
    failed("crl-without-crls", "holds no CRL");
    // Without a PKI profile nothing is verified; SNI defaults to the request's host.
    let seen = ok("no-verification");
    assert_eq!(seen["sni"], "httpbin.example.com");
    ok("host-check-ok");
    failed("host-check-bad", "the pool checks elsewhere.internal");
    let seen = ok("plain");
    assert_eq!(seen["tls"], false);
    failed("tls-to-plain", "TLS handshake failed");
}

#[tokio::test]
async fn configuration_changes_apply_at_once() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let (one, two) = (backend("one", None).await, backend("two", None).await);
    let pool = api.pool("p", one.addr, json!({})).await;
    api.create(
        "vsvip",
        json!({"name": "v", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
    )
    .await;
    let vs = api
        .create(
            "virtualservice",
            json!({"name": "vs", "services": [{"port": 80}],
        "vsvip_ref": "/api/vsvip/?name=v", "pool_group_ref": "/api/poolgroup/?name=p"}),
        )
        .await;
    let dp = sim.data_plane().unwrap();
    let c = client(&[], None);
    let u = url(&sim, "vs", 80, "127.0.0.1", "/");
    assert_eq!(get(&c, &u).await.1["backend"], "one");

    // A new server replaces the old one: the next request goes there.
    api.call(
        Method::PUT,
        &format!("/api/pool/{pool}"),
        Some(json!({"name": "p", "servers": [
        {"ip": {"addr": "127.0.0.1", "type": "V4"}, "port": two.addr.port()}]})),
    )
    .await;
    assert_eq!(get(&c, &u).await.1["backend"], "two");

    // Disabled: the listener closes.
    let local = dp.local_addr("10.250.250.1".parse().unwrap(), 80).unwrap();
    api.patch(
        "virtualservice",
        &vs,
        json!({"replace": {"enabled": false}}),
    )
    .await;
    assert!(dp.listeners().is_empty());
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(local).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "{local} still accepts connections");

    // Enabled again, on a new port; then deleted.
    api.patch("virtualservice", &vs, json!({"replace": {"enabled": true}}))
        .await;
    assert_eq!(
        get(&c, &url(&sim, "vs", 80, "127.0.0.1", "/")).await.1["backend"],
        "two"
    );
    api.call(Method::DELETE, &format!("/api/virtualservice/{vs}"), None)
        .await;
    assert!(dp.listeners().is_empty());
}

#[tokio::test]
async fn a_loopback_vip_is_served_on_itself() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let b = backend("b", None).await;
    api.pool("p", b.addr, json!({})).await;
    // A port that is free on loopback right now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    api.create("vsvip", json!({"name": "lo", "vip": [{"vip_id": "0", "ip_address": {"addr": "127.0.0.77", "type": "V4"}}]})).await;
    api.create(
        "virtualservice",
        json!({"name": "lo", "services": [{"port": port}],
        "vsvip_ref": "/api/vsvip/?name=lo", "pool_group_ref": "/api/poolgroup/?name=p"}),
    )
    .await;
    let l = &sim.data_plane().unwrap().listeners()[0];
    assert_eq!(
        l.local,
        Some(SocketAddr::from(([127, 0, 0, 77], port))),
        "{l:?}"
    );
    assert_eq!(l.note, None);
    let (s, body) = get(&client(&[], None), &format!("http://127.0.0.77:{port}/")).await;
    assert_eq!((s, body["backend"].as_str()), (StatusCode::OK, Some("b")));
}

#[tokio::test]
async fn the_chain_uploaded_with_a_certificate_is_presented() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    // A leaf signed by an intermediate; the client trusts only the root.
    let root = Ca::new("root");
    let inter_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut inter_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    inter_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    inter_params
        .distinguished_name
        .push(DnType::CommonName, "intermediate");
    inter_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let inter_pem = inter_params
        .signed_by(&inter_key, &Issuer::from_params(&root.params, &root.key))
        .unwrap()
        .pem();
    let inter = Ca {
        params: inter_params,
        key: inter_key,
        pem: inter_pem,
    };
    let (leaf, key) = inter.issue("app", &["app.example.com"]);
    api.create(
        "sslkeyandcertificate",
        json!({"name": "chained",
        "certificate": {"certificate": format!("{leaf}{}", inter.pem)}, "key": key}),
    )
    .await;
    // The controller shows only the leaf.
    let (_, shown) = api
        .call(Method::GET, "/api/sslkeyandcertificate?name=chained", None)
        .await;
    assert_eq!(
        shown["results"][0]["certificate"]["certificate"],
        json!(leaf)
    );
    let b = backend("b", None).await;
    api.pool("p", b.addr, json!({})).await;
    api.create(
        "vsvip",
        json!({"name": "v", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
    )
    .await;
    api.create(
        "virtualservice",
        json!({"name": "vs", "services": [{"port": 443, "enable_ssl": true}],
        "vsvip_ref": "/api/vsvip/?name=v", "pool_group_ref": "/api/poolgroup/?name=p",
        "ssl_key_and_certificate_refs": ["/api/sslkeyandcertificate/?name=chained"]}),
    )
    .await;
    let c = client(&["app.example.com"], Some(&root));
    let (s, body) = get(&c, &url(&sim, "vs", 443, "app.example.com", "/")).await;
    assert_eq!(s, 200, "{body}");
}

/// The translator's own output for `examples/manifests/istio-guide.yaml` with `--istio`
/// (`cargo run -p ako-gateway-api -- translate -f examples/manifests/istio-guide.yaml --istio`,
/// the `avi` part), loaded as the product would: the parent, the child, the default backend
/// policy, and a pool that speaks mTLS with the objects the `ako` container publishes.
#[tokio::test]
async fn the_translators_istio_guide_output_serves_a_strict_mtls_backend() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let model: Value = serde_json::from_str(include_str!("fixtures/istio-guide-avi.json")).unwrap();
    let mesh = Ca::new("istio root");
    // What the ako container publishes: the roots and the AKO pod's workload certificate.
    let (cert, key) = mesh.workload("spiffe://cluster.local/ns/avi-system/sa/ako");
    let workload = api
        .create(
            "sslkeyandcertificate",
            json!({"name": "istio-workload-cluster-avi-system",
            "certificate": {"certificate": cert}, "key": key}),
        )
        .await;
    api.create(
        "pkiprofile",
        json!({"name": "istio-pki-cluster-avi-system", "crl_check": false,
        "ca_certs": [{"certificate": mesh.pem}]}),
    )
    .await;
    // The httpbin pod's sidecar: STRICT mTLS with the mesh's certificates.
    let sidecar = backend(
        "httpbin",
        Some(BackendTls {
            cert: mesh.workload("spiffe://cluster.local/ns/httpbin/sa/httpbin"),
            client_ca: Some(mesh.pem.clone()),
        }),
    )
    .await;
    let port = |v: &Value| v["port"].as_u64().unwrap();
    for ty in [
        "pool",
        "poolgroup",
        "httppolicyset",
        "vsvip",
        "virtualservice",
    ] {
        let mut objects = model[ty].as_array().unwrap().clone();
        // Parents before children.
        objects.sort_by_key(|o| o["type"] == "VS_TYPE_VH_CHILD");
        for mut o in objects {
            if ty == "pool" {
                assert_eq!(port(&o["servers"][0]), 8080);
                o["servers"][0]["ip"]["addr"] = json!("127.0.0.1");
                o["servers"][0]["port"] = json!(sidecar.addr.port());
            }
            api.create(ty, o).await;
        }
    }
    let c = client(&["httpbin.example.com", "other.example.com"], None);
    let parent = "ako-gw-cluster--httpbin-avi-gateway-EVH";
    let (status, seen) = get(&c, &url(&sim, parent, 80, "httpbin.example.com", "/get")).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(
        seen["client_cert"],
        "spiffe://cluster.local/ns/avi-system/sa/ako"
    );
    assert_eq!(seen["path"], "/get");
    let (status, _) = get(&c, &url(&sim, parent, 80, "other.example.com", "/get")).await;
    assert_eq!(status, 404);

    // The workload certificate rotates to one the mesh does not trust: the next request fails,
    // and the pool says why.
    let stranger = Ca::new("not the mesh");
    let (cert, key) = stranger.workload("spiffe://cluster.local/ns/avi-system/sa/ako");
    let (s, answer) = api
        .call(
            Method::PUT,
            &format!("/api/sslkeyandcertificate/{workload}"),
            Some(json!({"name": "istio-workload-cluster-avi-system",
                        "certificate": {"certificate": cert}, "key": key})),
        )
        .await;
    assert_eq!(s, 200, "{answer}");
    let (status, _) = get(&c, &url(&sim, parent, 80, "httpbin.example.com", "/get")).await;
    assert_eq!(status, 502);
    let pool = &sim.data_plane().unwrap().pools()[0];
    assert_eq!((pool.requests, pool.errors), (2, 1));
    assert!(
        pool.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("TLS handshake failed: peer rejected our certificate"),
        "{pool:?}"
    );
}

// ------------------------------------------------------------------ lifetimes and timeouts

/// A server that accepts connections and never answers; sends a message whenever one of its
/// connections is closed by the peer.
struct Silent {
    addr: SocketAddr,
    closed: tokio::sync::mpsc::UnboundedReceiver<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Silent {
    /// Waits until the data plane closes a connection to this server.
    async fn wait_closed(&mut self, what: &str) {
        tokio::time::timeout(Duration::from_secs(5), self.closed.recv())
            .await
            .unwrap_or_else(|_| panic!("{what}: the upstream connection stayed open"));
    }
}

async fn silent() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, closed) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let tx = tx.clone();
            connections.spawn(async move {
                // Reads (and ignores) the request until the peer closes.
                let mut buf = [0u8; 4096];
                loop {
                    if stream.readable().await.is_err() {
                        break;
                    }
                    match stream.try_read(&mut buf) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => break,
                    }
                }
                let _ = tx.send(());
            });
        }
    });
    Silent { addr, closed, task }
}

/// A plain virtual service `vs` on port 80 of an auto-allocated VIP, sending to `server`.
async fn plain_vs(api: &Api, server: SocketAddr) {
    api.pool("p", server, json!({})).await;
    api.create(
        "vsvip",
        json!({"name": "v", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
    )
    .await;
    api.create(
        "virtualservice",
        json!({"name": "vs", "services": [{"port": 80}], "vsvip_ref": "/api/vsvip/?name=v",
        "pool_group_ref": "/api/poolgroup/?name=p"}),
    )
    .await;
}

/// One HTTP/1.1 keep-alive connection to `addr`, and the task driving it (it ends when the
/// data plane closes the connection).
async fn keep_alive(
    addr: SocketAddr,
) -> (
    hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    tokio::task::JoinHandle<()>,
) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    (sender, driver)
}

async fn send(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
) -> Result<u16, hyper::Error> {
    use http_body_util::BodyExt as _;
    let req = hyper::Request::get("/")
        .header("host", "app.example.com")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    resp.into_body().collect().await?;
    Ok(status)
}

async fn closed_by_the_data_plane(driver: tokio::task::JoinHandle<()>, what: &str) {
    tokio::time::timeout(Duration::from_secs(5), driver)
        .await
        .unwrap_or_else(|_| panic!("{what}: the client connection stayed open"))
        .unwrap();
}

#[tokio::test]
async fn dropping_the_emulator_closes_open_keep_alive_connections() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let b = backend("b", None).await;
    plain_vs(&api, b.addr).await;
    let local = sim.data_plane().unwrap().listeners()[0].local.unwrap();
    let (mut sender, driver) = keep_alive(local).await;
    assert_eq!(send(&mut sender).await.unwrap(), 200);
    assert_eq!(send(&mut sender).await.unwrap(), 200, "kept alive");

    drop(sim);
    closed_by_the_data_plane(driver, "after the emulator was dropped").await;
    assert!(send(&mut sender).await.is_err());
    assert!(tokio::net::TcpStream::connect(local).await.is_err());
}

#[tokio::test]
async fn a_deleted_virtual_service_closes_its_connections_and_a_recreated_one_gets_its_vip() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let b = backend("b", None).await;
    api.pool("p", b.addr, json!({})).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    api.create("vsvip", json!({"name": "lo", "vip": [{"vip_id": "0", "ip_address": {"addr": "127.0.0.78", "type": "V4"}}]})).await;
    let body = json!({"name": "lo", "services": [{"port": port}],
        "vsvip_ref": "/api/vsvip/?name=lo", "pool_group_ref": "/api/poolgroup/?name=p"});
    let vs = api.create("virtualservice", body.clone()).await;
    let on_vip = SocketAddr::from(([127, 0, 0, 78], port));
    let dp = sim.data_plane().unwrap();
    assert_eq!(dp.listeners()[0].local, Some(on_vip));
    let (mut sender, driver) = keep_alive(on_vip).await;
    assert_eq!(send(&mut sender).await.unwrap(), 200);

    // Deleted and re-created in one go, as a controller resync does: the old socket must be
    // closed by the time the new listener binds, or it lands on a mapped port for good.
    use avi_sim::store::{ADMIN, TenantScope, WriteOptions};
    let scope = TenantScope::One(ADMIN.into());
    sim.with_store_mut(|s| s.delete("virtualservice", &vs, &scope))
        .unwrap();
    sim.with_store_mut(|s| {
        s.create(
            "virtualservice",
            body.clone(),
            &scope,
            None,
            &WriteOptions::default(),
        )
        .map(|_| ())
    })
    .unwrap();
    let l = &dp.listeners()[0];
    assert_eq!((l.local, l.note.as_deref()), (Some(on_vip), None), "{l:?}");

    // The old virtual service's connection is closed at once, not at its next request.
    closed_by_the_data_plane(driver, "after the virtual service was deleted").await;
    assert!(send(&mut sender).await.is_err());
    let (s, body) = get(&client(&[], None), &format!("http://{on_vip}/")).await;
    assert_eq!((s, body["backend"].as_str()), (StatusCode::OK, Some("b")));
}

#[tokio::test]
async fn a_silent_server_is_a_counted_504_and_its_connection_is_closed() {
    provider();
    let sim = AviSim::builder()
        .data_plane(true)
        .upstream_timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let api = Api::login(&sim).await;
    let mut server = silent().await;
    plain_vs(&api, server.addr).await;
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let (s, body) = get(&c, &url(&sim, "vs", 80, "127.0.0.1", "/")).await;
    assert_eq!(s, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(
        body.as_str().unwrap(),
        format!("avi-sim: {}: no response within 300ms\n", server.addr)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let stats = sim.data_plane().unwrap().pool("p");
    assert_eq!(
        (
            stats.requests,
            stats.responses,
            stats.errors,
            stats.cancelled
        ),
        (1, 0, 1, 0)
    );
    assert!(
        stats
            .last_error
            .unwrap_or_default()
            .ends_with("no response within 300ms")
    );
    server.wait_closed("after the timeout").await;
}

#[tokio::test]
async fn a_pools_server_timeout_replaces_the_default_one() {
    provider();
    let sim = AviSim::builder()
        .data_plane(true)
        .upstream_timeout(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let api = Api::login(&sim).await;
    let mut server = silent().await;
    plain_vs(&api, server.addr).await;
    let (s, pools) = api.call(Method::GET, "/api/pool?name=p", None).await;
    assert_eq!(s, 200);
    let uuid = pools["results"][0]["uuid"].as_str().unwrap().to_owned();
    api.patch("pool", &uuid, json!({"replace": {"server_timeout": 250}}))
        .await;
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let (s, body) = get(&c, &url(&sim, "vs", 80, "127.0.0.1", "/")).await;
    let took = started.elapsed();
    assert_eq!(s, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(
        body.as_str().unwrap(),
        format!("avi-sim: {}: no response within 250ms\n", server.addr)
    );
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    server.wait_closed("after the pool's timeout").await;

    // 0 is Avi's default: the emulator's own timeout applies again (the client gives up first).
    api.patch("pool", &uuid, json!({"replace": {"server_timeout": 0}}))
        .await;
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(600))
        .build()
        .unwrap();
    let err = quick
        .get(url(&sim, "vs", 80, "127.0.0.1", "/"))
        .send()
        .await
        .expect_err("no 504 before the default timeout");
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn a_client_that_goes_away_mid_request_is_counted_as_cancelled() {
    let sim = sim().await;
    let api = Api::login(&sim).await;
    let mut server = silent().await;
    plain_vs(&api, server.addr).await;
    let c = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let gave_up = c
        .get(url(&sim, "vs", 80, "127.0.0.1", "/"))
        .send()
        .await
        .err()
        .unwrap();
    assert!(gave_up.is_timeout(), "{gave_up}");
    // The request is dropped with the client's connection, and its upstream connection too.
    server.wait_closed("after the client went away").await;
    let dp = sim.data_plane().unwrap();
    for _ in 0..100 {
        if dp.pool("p").cancelled == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = dp.pool("p");
    assert_eq!(
        (
            stats.requests,
            stats.responses,
            stats.errors,
            stats.cancelled
        ),
        (1, 0, 0, 1)
    );
}
