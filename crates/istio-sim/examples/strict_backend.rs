//! A STRICT-mTLS "pod with a sidecar" and one request to it, the way an Avi Service Engine
//! makes it: presenting the AKO pod's workload certificate and checking the pod's chain
//! against the mesh root, without a host-name check.
//!
//! ```text
//! cargo run -p istio-sim --example strict_backend
//! ```

use std::error::Error;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use istio_sim::rustls::pki_types::ServerName;
use istio_sim::{
    CaOptions, Echo, IstioCa, KeyAlg, StrictBackend, StrictBackendOptions, WorkloadRequest,
    mesh_client_config,
};
use tokio_rustls::TlsConnector;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    // istiod's CA and a pod `httpbin-0` (ns `shop`, sa `httpbin`) that only lets AKO in.
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        ..Default::default()
    })?;
    let pod = StrictBackend::start(
        &ca,
        StrictBackendOptions {
            name: "httpbin-0".into(),
            namespace: "shop".into(),
            service_account: "httpbin".into(),
            allowed_principals: Some(vec!["cluster.local/ns/avi-system/sa/ako-sa".into()]),
            ..Default::default()
        },
    )
    .await?;
    println!(
        "pod {} ({}) listening on {}",
        pod.name(),
        pod.spiffe_id(),
        pod.addr()
    );

    // The AKO pod's certificate, as istio-agent writes it to OUTPUT_CERTS.
    let ako = ca.issue(&WorkloadRequest {
        key_alg: KeyAlg::EcdsaP256,
        ..Default::default()
    })?;
    let tls = TlsConnector::from(Arc::new(mesh_client_config(&ca.roots_pem(), Some(&ako))?));
    let tcp = tokio::net::TcpStream::connect(pod.addr()).await?;
    // SNI only; the pod's certificate has no DNS name and the client checks none.
    let stream = tls
        .connect(ServerName::try_from("httpbin.shop.svc.cluster.local")?, tcp)
        .await?;

    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let req = http::Request::get("/get?show_env=1")
        .header("host", "httpbin.shop.svc.cluster.local")
        .body(Empty::<Bytes>::new())?;
    let resp = send.send_request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    println!("HTTP {status}");
    println!("{}", String::from_utf8_lossy(&body));

    let echo: Echo = serde_json::from_slice(&body)?;
    assert_eq!(
        echo.principal.as_deref(),
        Some("cluster.local/ns/avi-system/sa/ako-sa")
    );
    println!("stats: {:?}", pod.stats());
    pod.shutdown().await;
    Ok(())
}
