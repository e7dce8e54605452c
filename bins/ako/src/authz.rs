//! `ako istio authz-policy`: the AuthorizationPolicy that lets the Service Engines (which
//! present AKO's own workload certificate) into a namespace whose workloads are otherwise
//! locked down.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use istio_certs::IstioBundle;
use serde_json::{Value, json};

/// The policy's name.
pub const POLICY_NAME: &str = "allow-avi-service-engines";

/// An ALLOW AuthorizationPolicy for `namespace` naming `principal`.
pub fn policy(namespace: &str, principal: &str) -> Value {
    json!({
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {
            "name": POLICY_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "ako"},
        },
        "spec": {
            "action": "ALLOW",
            "rules": [{"from": [{"source": {"principals": [principal]}}]}],
        },
    })
}

/// A namespace name as Kubernetes takes it: a DNS-1123 label (1 to 63 lowercase letters, digits
/// and `-`, starting and ending with a letter or digit).
pub fn check_namespace(ns: &str) -> Result<(), &'static str> {
    if ns.is_empty() || ns.len() > 63 {
        return Err("a namespace name is 1 to 63 characters");
    }
    let ok = ns
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(
            "a namespace name is lowercase letters, digits and '-', starting and ending with a letter or digit",
        )
    }
}

/// Prints the policy for `namespace` with the principal of the set in `dir`.
pub fn print(namespace: &str, dir: &Path) -> ExitCode {
    if let Err(why) = check_namespace(namespace) {
        ako_runtime::cli::stderr_line(format_args!(
            "error: --namespace {}: {why}",
            crate::certs::printable(&format!("{namespace:?}"))
        ));
        return ExitCode::from(2);
    }
    let bundle = match IstioBundle::load(dir, SystemTime::now()) {
        Ok(b) => b,
        Err(e) => {
            ako_runtime::cli::stderr_line(format_args!(
                "invalid Istio certificate set in {}: {e}",
                dir.display()
            ));
            return ExitCode::from(1);
        }
    };
    let doc = policy(namespace, bundle.facts().principal.as_ref());
    let text = match serde_saphyr::to_string(&doc) {
        Ok(t) => t,
        Err(e) => {
            ako_runtime::cli::stderr_line(format_args!("error: cannot render the policy: {e}"));
            return ExitCode::from(2);
        }
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            ako_runtime::cli::stderr_line(format_args!("error: cannot write output: {e}"));
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}

#[cfg(test)]
mod namespace_tests {
    #[test]
    fn namespaces_are_dns_labels() {
        for good in ["a", "team-a", "x1", &"a".repeat(63)] {
            assert!(super::check_namespace(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "A", "-a", "a-", "a\nb", "a.b", &"a".repeat(64)] {
            assert!(super::check_namespace(bad).is_err(), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_principal() {
        let p = policy("shop", "cluster.local/ns/avi-system/sa/ako-sa");
        assert_eq!(p["metadata"]["namespace"], "shop");
        assert_eq!(
            p["spec"]["rules"][0]["from"][0]["source"]["principals"],
            json!(["cluster.local/ns/avi-system/sa/ako-sa"])
        );
        assert_eq!(p["spec"]["action"], "ALLOW");
    }
}
