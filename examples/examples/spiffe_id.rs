//! Parse an Istio workload SPIFFE ID, print the principal an Istio
//! `AuthorizationPolicy` would use for it, and show how a malformed ID is
//! rejected.
//!
//! Run with `cargo run -p examples --example spiffe_id`.

use spiffe_id::{SpiffeId, SpiffeIdError, TrustDomain};

fn main() -> anyhow::Result<()> {
    let id: SpiffeId = "spiffe://cluster.local/ns/avi-system/sa/ako-sa".parse()?;
    println!("SPIFFE ID:       {id}");
    println!("trust domain:    {}", id.trust_domain());
    println!("namespace:       {}", id.namespace().unwrap_or("-"));
    println!("service account: {}", id.service_account().unwrap_or("-"));
    println!("principal:       {}", id.principal());

    // The same identity built from its parts.
    let td = TrustDomain::new("cluster.local")?;
    let built = SpiffeId::for_service_account(&td, "avi-system", "ako-sa")?;
    anyhow::ensure!(built == id, "built {built} differs from parsed {id}");

    // Nothing is normalised: an uppercase trust domain is an error, not lowercased.
    let bad = "spiffe://Cluster.local/ns/avi-system/sa/ako-sa";
    match SpiffeId::new(bad) {
        Ok(id) => anyhow::bail!("{bad} was unexpectedly accepted as {id}"),
        Err(err @ SpiffeIdError::UppercaseTrustDomain { .. }) => println!("rejected:        {err}"),
        Err(err) => return Err(err.into()),
    }
    Ok(())
}
