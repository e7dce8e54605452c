//! Embeds `avi-client`: ensures a PKI profile, a pool that uses it, and a pool group, prints
//! the sync plan for a change as a dry run, applies it, and shows that a second run is a no-op.
//! Runs against an in-process emulated controller (avi-sim).
//!
//! `cargo run -p avi-client --example sync`

use avi_client::models::{
    IpAddr, PkiProfile, Pool, PoolGroup, PoolGroupMember, Server, SslCertificate,
};
use avi_client::{AviClient, AviConfig, AviRef, Credentials, Desired, Kind};

const OWNER: &str = "ako-example";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = avi_sim::AviSim::builder().tls(true).start().await?;
    let mut config = AviConfig::new(
        sim.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    );
    config.tls = avi_client::TlsVerification::Ca(sim.ca_pem().unwrap_or_default().to_owned());
    let client = AviClient::new(config)?;

    // The mesh root as an Avi PKI profile.
    let ca = istio_sim::IstioCa::new(istio_sim::CaOptions {
        key_alg: istio_sim::KeyAlg::EcdsaP256,
        ..Default::default()
    })?;
    let pki = PkiProfile {
        name: "istio-pki-demo-avi-system".into(),
        created_by: Some(OWNER.into()),
        crl_check: Some(false),
        ca_certs: vec![SslCertificate::from_pem(ca.root_pem())],
        ..PkiProfile::default()
    };
    println!("ensure pkiprofile: {:?}", client.ensure(&pki).await?);
    println!("ensure again:      {:?}", client.ensure(&pki).await?);

    let pool = |port: u16| Pool {
        name: "demo--default-web-80".into(),
        created_by: Some(OWNER.into()),
        pki_profile_ref: Some(AviRef::by_name("istio-pki-demo-avi-system")),
        ssl_profile_ref: Some(AviRef::by_name("System-Standard")),
        servers: vec![Server::new(IpAddr::v4("10.244.1.7")).with_port(port)],
        ..Pool::default()
    };
    let group = PoolGroup {
        name: "demo--default-web".into(),
        created_by: Some(OWNER.into()),
        members: vec![PoolGroupMember::new(AviRef::by_name(
            "demo--default-web-80",
        ))],
        ..PoolGroup::default()
    };
    let desired = |port| -> Result<Vec<Desired>, avi_client::AviError> {
        Ok(vec![
            Desired::of(&pki)?,
            Desired::of(&pool(port))?,
            Desired::of(&group)?,
        ])
    };
    let kinds = [Kind::PkiProfile, Kind::Pool, Kind::PoolGroup];

    let plan = client.plan(&desired(8080)?, OWNER, &kinds).await?;
    print!("plan (dry run):\n{plan}");
    let report = client.apply(&plan).await;
    println!(
        "applied: {} done, {} failed",
        report.done(),
        report.failures()
    );

    // The backend moved to another port: only the pool is updated.
    let plan = client.plan(&desired(9090)?, OWNER, &kinds).await?;
    print!("plan after a port change:\n{plan}");
    client.apply(&plan).await;
    let plan = client.plan(&desired(9090)?, OWNER, &kinds).await?;
    print!("plan once converged:\n{plan}");
    println!("requests sent: {:?}", client.stats());
    Ok(())
}
