//! The STRICT and ambient backends, driven by a real rustls client over loopback.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::AlertDescription;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::*;
use crate::backend::http::principal_matches;
use crate::{
    AmbientBackend, AmbientBackendOptions, Echo, KeyFormat, LeafProfile, RBAC_DENIED_BODY,
    SimError, StrictBackend, StrictBackendOptions, WorkloadCert, mesh_client_config,
};

const AKO_PRINCIPAL: &str = "cluster.local/ns/avi-system/sa/ako-sa";

fn web_opts(name: &str) -> StrictBackendOptions {
    StrictBackendOptions {
        name: name.to_owned(),
        namespace: "shop".to_owned(),
        service_account: "web".to_owned(),
        ..Default::default()
    }
}

fn connector(roots_pem: &str, client: Option<&WorkloadCert>, alpn: &[&[u8]]) -> TlsConnector {
    let mut config = mesh_client_config(roots_pem, client).unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

async fn tls_connect(addr: SocketAddr, tls: &TlsConnector) -> io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    // Any name: workload certificates have no DNS SAN and the client checks none.
    tls.connect(ServerName::try_from("web.shop.svc").unwrap(), tcp)
        .await
}

/// The serial (lowercase hex, no leading zeros) of the certificate the server presented.
fn served_serial(stream: &TlsStream<TcpStream>) -> String {
    let leaf = &stream.get_ref().1.peer_certificates().unwrap()[0];
    let cert = parse(leaf.as_ref());
    let raw = cert.raw_serial();
    let first = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
    raw[first..].iter().map(|b| format!("{b:02x}")).collect()
}

/// An HTTP/1.1 client on one TLS connection.
async fn http1(stream: TlsStream<TcpStream>) -> SendRequest<Full<Bytes>> {
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    send
}

async fn send(send: &mut SendRequest<Full<Bytes>>, path: &str) -> (StatusCode, Bytes) {
    let req = Request::get(path)
        .header("host", "web.shop.svc")
        .header("x-test", "yes")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

/// One GET on a fresh connection.
async fn get(addr: SocketAddr, tls: &TlsConnector, path: &str) -> (StatusCode, Bytes) {
    let stream = tls_connect(addr, tls).await.unwrap();
    send(&mut http1(stream).await, path).await
}

/// Connects and sends a request by hand, returning the first error the client sees. In TLS 1.3
/// the client finishes its side before the server checks the client certificate, so the
/// server's verdict arrives as an alert on the first read.
async fn refused(addr: SocketAddr, tls: &TlsConnector) -> io::Error {
    let mut stream = match tls_connect(addr, tls).await {
        Ok(s) => s,
        Err(e) => return e,
    };
    let req = b"GET / HTTP/1.1\r\nhost: web\r\nconnection: close\r\n\r\n";
    if let Err(e) = stream.write_all(req).await {
        return e;
    }
    let mut out = Vec::new();
    match stream.read_to_end(&mut out).await {
        Err(e) => e,
        Ok(_) => panic!(
            "expected a refused handshake, got {:?}",
            String::from_utf8_lossy(&out)
        ),
    }
}

fn alert(e: &io::Error) -> Option<AlertDescription> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(a) => Some(*a),
        _ => None,
    }
}

/// Waits (up to 2 s) until `cond` holds: the server counts a refused handshake after its
/// alert is on the wire, so the client can be faster.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn mesh_client_gets_an_echo_with_its_principal() {
    let ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let ako = ca.issue(&ec_req()).unwrap();
    let tls = connector(&ca.roots_pem(), Some(&ako), &[]);

    let stream = tls_connect(pod.addr(), &tls).await.unwrap();
    let req = Request::get("/hello?x=1&y=2")
        .header("host", "web.shop.svc")
        .header("x-test", "yes")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = http1(stream).await.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["server"], "istio-envoy");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let echo: Echo = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo.name, "web-0");
    assert_eq!(echo.spiffe_id, "spiffe://cluster.local/ns/shop/sa/web");
    assert_eq!(echo.principal.as_deref(), Some(AKO_PRINCIPAL));
    assert_eq!(echo.method, "GET");
    assert_eq!(echo.path, "/hello?x=1&y=2");
    assert_eq!(echo.host.as_deref(), Some("web.shop.svc"));
    assert_eq!(echo.protocol, "HTTP/1.1");
    assert_eq!(echo.headers["x-test"], "yes");
    // The application sees the sidecar's XFCC naming both ends.
    let xfcc = &echo.headers[crate::XFCC];
    assert!(
        xfcc.starts_with("By=spiffe://cluster.local/ns/shop/sa/web;Hash="),
        "{xfcc}"
    );
    assert!(
        xfcc.ends_with(";Subject=\"\";URI=spiffe://cluster.local/ns/avi-system/sa/ako-sa"),
        "{xfcc}"
    );

    assert!(pod.addr().ip().is_loopback());
    assert_ne!(pod.addr().port(), 0);
    assert_eq!(pod.name(), "web-0");
    let stats = pod.stats();
    assert_eq!(stats.handshakes_accepted, 1);
    assert_eq!(stats.handshakes_refused, 0);
    assert_eq!(stats.requests_served, 1);
    assert_eq!(stats.requests_denied, 0);
}

#[tokio::test]
async fn server_presents_its_workload_leaf_without_roots() {
    let ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let ako = ca.issue(&ec_req()).unwrap();
    let stream = tls_connect(pod.addr(), &connector(&ca.roots_pem(), Some(&ako), &[]))
        .await
        .unwrap();
    let presented = stream.get_ref().1.peer_certificates().unwrap();
    assert_eq!(
        presented.len(),
        1,
        "leaf only: a self-signed CA has no intermediate"
    );
    let leaf = parse(presented[0].as_ref());
    assert_eq!(
        served_serial(&stream),
        pod.serial_hex(),
        "the handle reports the served serial"
    );
    assert_eq!(pod.spiffe_id(), "spiffe://cluster.local/ns/shop/sa/web");
    assert!(leaf.subject().iter().next().is_none(), "empty subject");
}

#[tokio::test]
async fn no_client_certificate_fails_the_handshake() {
    let ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let err = refused(pod.addr(), &connector(&ca.roots_pem(), None, &[])).await;
    assert_eq!(
        alert(&err),
        Some(AlertDescription::CertificateRequired),
        "{err}"
    );
    eventually("a refused handshake", || {
        pod.stats().handshakes_refused == 1
    })
    .await;
    assert_eq!(pod.stats().handshakes_accepted, 0);
    assert_eq!(pod.stats().requests_served, 0);
}

#[tokio::test]
async fn client_certificate_from_another_ca_fails_the_handshake() {
    let mesh = ec_ca();
    let pod = StrictBackend::start(&mesh, web_opts("web-0"))
        .await
        .unwrap();
    let tls_with = |cert: &WorkloadCert| connector(&mesh.roots_pem(), Some(cert), &[]);

    // Another cluster's CA: its root has the same subject `O=cluster.local`, so the chain
    // builder finds "the" issuer by name and the signature does not verify.
    let twin = ec_ca().issue(&ec_req()).unwrap();
    let err = refused(pod.addr(), &tls_with(&twin)).await;
    assert_eq!(alert(&err), Some(AlertDescription::DecryptError), "{err}");

    // A CA of another trust domain: no issuer at all.
    let other = IstioCa::new(CaOptions {
        trust_domain: "other.example".to_owned(),
        key_alg: KeyAlg::EcdsaP256,
        ..Default::default()
    })
    .unwrap();
    let stranger = other.issue(&ec_req()).unwrap();
    let err = refused(pod.addr(), &tls_with(&stranger)).await;
    assert_eq!(alert(&err), Some(AlertDescription::UnknownCA), "{err}");

    eventually("two refused handshakes", || {
        pod.stats().handshakes_refused == 2
    })
    .await;
    assert_eq!(pod.stats().handshakes_accepted, 0);
    assert_eq!(pod.stats().requests_served, 0);
}

#[tokio::test]
async fn client_spiffe_id_outside_the_trust_domain_fails_the_handshake() {
    let ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let foreign = |uri_sans: Vec<String>| {
        ca.issue(&WorkloadRequest {
            leaf: LeafProfile {
                uri_sans: Some(uri_sans),
                ..Default::default()
            },
            ..ec_req()
        })
        .unwrap()
    };
    // Chains to the mesh root, but Istio's SAN matcher wants `spiffe://cluster.local/`.
    for cert in [
        foreign(vec![
            "spiffe://evil.example/ns/avi-system/sa/ako-sa".to_owned(),
        ]),
        foreign(vec![]),
    ] {
        let err = refused(pod.addr(), &connector(&ca.roots_pem(), Some(&cert), &[])).await;
        assert_eq!(alert(&err), Some(AlertDescription::BadCertificate), "{err}");
    }
    eventually("two refused handshakes", || {
        pod.stats().handshakes_refused == 2
    })
    .await;
}

#[tokio::test]
async fn plain_http_is_refused() {
    let ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let mut tcp = TcpStream::connect(pod.addr()).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nhost: web\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out))
        .await
        .expect("the sidecar closes the connection");
    // Closed (EOF or reset), at most with a TLS alert record: never an HTTP answer.
    assert!(read.is_err() || out.is_empty() || out[0] == 0x15, "{out:?}");
    assert!(!out.starts_with(b"HTTP/"));
    eventually("a refused handshake", || {
        pod.stats().handshakes_refused == 1
    })
    .await;
    assert_eq!(pod.stats().requests_served, 0);
}

#[tokio::test]
async fn principal_not_allowed_gets_rbac_403() {
    let ca = ec_ca();
    let pod = StrictBackend::start(
        &ca,
        StrictBackendOptions {
            allowed_principals: Some(vec!["cluster.local/ns/shop/sa/frontend".to_owned()]),
            ..web_opts("web-0")
        },
    )
    .await
    .unwrap();
    let ako = ca.issue(&ec_req()).unwrap();
    let tls = connector(&ca.roots_pem(), Some(&ako), &[]);

    let stream = tls_connect(pod.addr(), &tls).await.unwrap();
    let mut client = http1(stream).await;
    let (status, body) = send(&mut client, "/").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, RBAC_DENIED_BODY);
    assert_eq!(pod.stats().requests_denied, 1);
    assert_eq!(pod.stats().requests_served, 0);
    assert_eq!(
        pod.stats().handshakes_accepted,
        1,
        "RBAC is after the handshake"
    );

    // The policy is read per request: allowing AKO takes effect on the same connection.
    pod.set_allowed_principals(Some(vec![AKO_PRINCIPAL.to_owned()]));
    let (status, body) = send(&mut client, "/").await;
    assert_eq!(status, StatusCode::OK);
    let echo: Echo = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo.principal.as_deref(), Some(AKO_PRINCIPAL));
    assert_eq!(pod.stats().requests_served, 1);
}

#[test]
fn handles_and_start_futures_can_cross_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let ca = ec_ca();
    let start = StrictBackend::start(&ca, StrictBackendOptions::default());
    send(&start);
    let ambient = AmbientBackend::start(AmbientBackendOptions::default());
    send(&ambient);
    fn handles(strict: &StrictBackend, ambient: &AmbientBackend) {
        send_sync(strict);
        send_sync(ambient);
    }
    let _ = handles;
}

#[test]
fn principal_rules_follow_istio() {
    let ako = "cluster.local/ns/avi-system/sa/ako-sa";
    assert!(principal_matches(ako, ako, Some("cluster.local")));
    assert!(principal_matches("*", ako, None));
    assert!(principal_matches(
        "cluster.local/ns/avi-system/*",
        ako,
        None
    ));
    assert!(principal_matches("*/sa/ako-sa", ako, None));
    assert!(!principal_matches(
        "cluster.local/ns/avi-system/sa/other",
        ako,
        None
    ));
    // `cluster.local` in a rule means the local trust domain, whatever it is.
    let corp = "corp.example/ns/avi-system/sa/ako-sa";
    assert!(principal_matches(ako, corp, Some("corp.example")));
    assert!(!principal_matches(ako, corp, Some("other.example")));
    assert!(!principal_matches(corp, ako, Some("cluster.local")));
}

#[tokio::test]
async fn rotation_serves_a_new_certificate_to_new_connections() {
    let ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let ako = ca.issue(&ec_req()).unwrap();
    // The client keeps the roots it had before the rotation.
    let tls = connector(&ca.roots_pem(), Some(&ako), &[]);

    let before = tls_connect(pod.addr(), &tls).await.unwrap();
    let old_serial = served_serial(&before);
    let mut old_conn = http1(before).await;

    let renewed = ca.issue(&web_opts("web-0").workload_request()).unwrap();
    pod.rotate(&renewed).unwrap();
    assert_eq!(pod.serial_hex(), renewed.serial_hex);
    assert_eq!(pod.stats().rotations, 1);

    let after = tls_connect(pod.addr(), &tls).await.unwrap();
    assert_eq!(served_serial(&after), renewed.serial_hex);
    assert_ne!(renewed.serial_hex, old_serial);
    let (status, _) = send(&mut http1(after).await, "/").await;
    assert_eq!(status, StatusCode::OK);
    // The connection opened before the rotation keeps working.
    let (status, _) = send(&mut old_conn, "/").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn root_rotation_trusts_old_clients_until_the_old_root_is_dropped() {
    let mut ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let old_ako = ca.issue(&ec_req()).unwrap();

    ca.rotate_root().unwrap();
    pod.rotate(&ca.issue(&web_opts("web-0").workload_request()).unwrap())
        .unwrap();
    // The client learned the new bundle (both roots) but still holds its old certificate.
    let tls = connector(&ca.roots_pem(), Some(&old_ako), &[]);
    assert_eq!(get(pod.addr(), &tls, "/").await.0, StatusCode::OK);

    ca.drop_old_roots();
    pod.rotate(&ca.issue(&web_opts("web-0").workload_request()).unwrap())
        .unwrap();
    // The dropped root has the same subject as the new one: the signature check fails.
    let err = refused(pod.addr(), &tls).await;
    assert_eq!(alert(&err), Some(AlertDescription::DecryptError), "{err}");
    let new_ako = ca.issue(&ec_req()).unwrap();
    let tls = connector(&ca.roots_pem(), Some(&new_ako), &[]);
    assert_eq!(get(pod.addr(), &tls, "/").await.0, StatusCode::OK);
}

#[tokio::test]
async fn renewer_reissues_periodically_and_counts_failures() {
    let ca = Arc::new(ec_ca());
    let opts = web_opts("web-0");
    let req = opts.workload_request();
    let pod = StrictBackend::start(&ca, opts).await.unwrap();
    let first = pod.serial_hex();
    let issuer = ca.clone();
    pod.spawn_renewer(Duration::from_millis(30), move || issuer.issue(&req));
    eventually("two renewals", || pod.stats().rotations >= 2).await;
    assert_ne!(pod.serial_hex(), first);

    let ako = ca.issue(&ec_req()).unwrap();
    let stream = tls_connect(pod.addr(), &connector(&ca.roots_pem(), Some(&ako), &[]))
        .await
        .unwrap();
    assert_ne!(served_serial(&stream), first);

    // A failing renewal keeps the current certificate.
    pod.spawn_renewer(Duration::from_millis(30), || {
        Err(SimError::TimeOutOfRange { field: "test" })
    });
    eventually("a failed renewal", || pod.stats().renewal_failures >= 1).await;
    let rotations = pod.stats().rotations;
    let serial = pod.serial_hex();
    pod.stop_renewer();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pod.stats().rotations, rotations);
    assert_eq!(pod.serial_hex(), serial);
}

#[tokio::test]
async fn intermediate_ca_chains_verify_both_ways() {
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        intermediate: true,
        ..Default::default()
    })
    .unwrap();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let ako = ca.issue(&ec_req()).unwrap();
    // The client trusts the root only: the server must send its intermediate, and the
    // server must accept the client's.
    let tls = connector(&ca.root_pem(), Some(&ako), &[]);
    let stream = tls_connect(pod.addr(), &tls).await.unwrap();
    assert_eq!(stream.get_ref().1.peer_certificates().unwrap().len(), 2);
    let (status, body) = send(&mut http1(stream).await, "/").await;
    assert_eq!(status, StatusCode::OK);
    let echo: Echo = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo.principal.as_deref(), Some(AKO_PRINCIPAL));
}

#[tokio::test]
async fn rsa_keys_in_every_format_serve_and_authenticate() {
    let ca = IstioCa::new(CaOptions::default()).unwrap();
    for key_format in [KeyFormat::Traditional, KeyFormat::Pkcs8] {
        let server = ca
            .issue(&WorkloadRequest {
                namespace: "shop".to_owned(),
                service_account: "web".to_owned(),
                key_format,
                ..Default::default()
            })
            .unwrap();
        let pod = StrictBackend::start_with_cert(&server, web_opts("web-rsa"))
            .await
            .unwrap();
        let ako = ca
            .issue(&WorkloadRequest {
                key_format,
                ..Default::default()
            })
            .unwrap();
        let tls = connector(&ca.roots_pem(), Some(&ako), &[]);
        let (status, body) = get(pod.addr(), &tls, "/").await;
        assert_eq!(status, StatusCode::OK, "{key_format:?}");
        let echo: Echo = serde_json::from_slice(&body).unwrap();
        assert_eq!(echo.principal.as_deref(), Some(AKO_PRINCIPAL));
        assert_eq!(echo.name, "web-rsa");
    }
}

#[tokio::test]
async fn alpn_istio_only_still_handshakes_and_h2_is_served() {
    let ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let ako = ca.issue(&ec_req()).unwrap();

    // Envoy completes the handshake without ALPN when the offer does not overlap.
    let istio = connector(&ca.roots_pem(), Some(&ako), &[b"istio"]);
    let stream = tls_connect(pod.addr(), &istio).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), None);
    assert_eq!(send(&mut http1(stream).await, "/").await.0, StatusCode::OK);

    let h2 = connector(&ca.roots_pem(), Some(&ako), &[b"h2", b"http/1.1"]);
    let stream = tls_connect(pod.addr(), &h2).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut send2, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = Request::get("https://web.shop.svc/h2?z=1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = send2.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let echo: Echo =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(echo.protocol, "HTTP/2.0");
    assert_eq!(echo.path, "/h2?z=1");
    assert_eq!(echo.host.as_deref(), Some("web.shop.svc"));
}

#[tokio::test]
async fn two_pods_are_told_apart_by_name() {
    let ca = ec_ca();
    let a = StrictBackend::start(&ca, web_opts("web-a")).await.unwrap();
    let b = StrictBackend::start(&ca, web_opts("web-b")).await.unwrap();
    assert_ne!(a.addr(), b.addr());
    let ako = ca.issue(&ec_req()).unwrap();
    let tls = connector(&ca.roots_pem(), Some(&ako), &[]);
    for (pod, name) in [(&a, "web-a"), (&b, "web-b")] {
        let (_, body) = get(pod.addr(), &tls, "/").await;
        let echo: Echo = serde_json::from_slice(&body).unwrap();
        assert_eq!(echo.name, name);
    }
}

#[tokio::test]
async fn shutdown_closes_the_port_and_open_connections() {
    let ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let addr = pod.addr();
    let ako = ca.issue(&ec_req()).unwrap();
    let tls = connector(&ca.roots_pem(), Some(&ako), &[]);
    let mut open = tls_connect(addr, &tls).await.unwrap();
    open.write_all(b"GET / HTTP/1.1\r\nhost: web\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = open.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));

    pod.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err(), "port still open");
    // The kept-alive connection is closed too (EOF or reset, no more answers).
    let read = tokio::time::timeout(Duration::from_secs(5), open.read(&mut buf))
        .await
        .expect("connection closed");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test]
async fn dropping_the_handle_stops_the_backend() {
    let ca = ec_ca();
    let pod = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let addr = pod.addr();
    drop(pod);
    let mut closed = false;
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(closed, "port still open after drop");
}

#[tokio::test]
async fn ambient_backend_refuses_direct_tls() {
    let ca = ec_ca();
    let pod = AmbientBackend::start(AmbientBackendOptions::default())
        .await
        .unwrap();
    assert!(pod.addr().ip().is_loopback());
    let ako = ca.issue(&ec_req()).unwrap();
    let tls = connector(&ca.roots_pem(), Some(&ako), &[]);
    let err = tls_connect(pod.addr(), &tls)
        .await
        .expect_err("no TLS handshake with an ambient pod");
    // Reset or EOF: the peer never sent a TLS record.
    assert!(alert(&err).is_none(), "{err}");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
        ),
        "{err:?}"
    );

    // Plain TCP is refused too, but not counted as a TLS ClientHello.
    let mut tcp = TcpStream::connect(pod.addr()).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    assert!(matches!(tcp.read(&mut buf).await, Ok(0) | Err(_)));

    let stats = pod.stats();
    assert_eq!(stats.tls_hellos_refused, 1);
    assert_eq!(stats.connections_refused, 2);
    pod.shutdown().await;
}

#[tokio::test]
async fn bind_errors_name_the_backend() {
    let ca = ec_ca();
    let first = StrictBackend::start(&ca, web_opts("web-0")).await.unwrap();
    let err = StrictBackend::start(
        &ca,
        StrictBackendOptions {
            listen: first.addr(),
            ..web_opts("web-1")
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SimError::Bind { .. }), "{err:?}");
    assert!(err.to_string().contains("\"web-1\""), "{err}");
}

/// The key of `cert` as one PEM line: the armour and the base64 body run together, which
/// some tools write and the PEM parser reports by quoting the line.
fn one_line_key(cert: &WorkloadCert) -> (WorkloadCert, String) {
    let body: String = cert
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let label = cert
        .key_pem
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .unwrap_or("PRIVATE KEY")
        .to_owned();
    let mut broken = cert.clone();
    broken.key_pem = format!("-----BEGIN {label}-----{body}-----END {label}-----\n");
    (broken, body)
}

#[tokio::test]
async fn unreadable_keys_are_reported_without_their_bytes() {
    let ca = ec_ca();
    let (broken, body) = one_line_key(&ca.issue(&ec_req()).unwrap());
    let started = StrictBackend::start_with_cert(&broken, web_opts("web-0"))
        .await
        .err()
        .unwrap();
    let client = mesh_client_config(&ca.roots_pem(), Some(&broken))
        .err()
        .unwrap();
    for err in [started, client] {
        let shown = format!("{err} {err:?}");
        assert_eq!(err.to_string(), "key.pem: private key cannot be parsed");
        // Not even a fragment of the key: any 8 characters of its base64 body, as text or as
        // the byte list the PEM parser prints (`[77, 72, 99, ...]`).
        let leaked = body.as_bytes().windows(8).find(|w| {
            let bytes: Vec<String> = w.iter().map(u8::to_string).collect();
            shown.contains(&*String::from_utf8_lossy(w)) || shown.contains(&bytes.join(", "))
        });
        assert_eq!(leaked, None, "{shown}");
    }
}

#[tokio::test]
async fn a_renewer_asked_for_from_any_thread_with_any_period_runs() {
    let ca = Arc::new(ec_ca());
    let opts = web_opts("web-0");
    let req = opts.workload_request();
    let pod = StrictBackend::start(&ca, opts).await.unwrap();
    let issuer = ca.clone();
    // From a thread outside the runtime, with a period tokio's interval refuses.
    std::thread::scope(|s| {
        s.spawn(|| pod.spawn_renewer(Duration::ZERO, move || issuer.issue(&req)));
    });
    eventually("two renewals", || pod.stats().rotations >= 2).await;
    pod.stop_renewer();
}

#[test]
fn a_backend_started_outside_a_runtime_says_so() {
    let ca = ec_ca();
    let cert = ca.issue(&ec_req()).unwrap();
    // Polled by a bare executor: no tokio runtime around.
    let started = std::thread::spawn(move || {
        let fut = StrictBackend::start_with_cert(&cert, web_opts("web-0"));
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(fut);
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => r.err().map(|e| e.to_string()),
            std::task::Poll::Pending => None,
        }
    })
    .join()
    .unwrap();
    assert_eq!(
        started.as_deref(),
        Some("backend \"web-0\": must be started from within a tokio runtime")
    );
}
