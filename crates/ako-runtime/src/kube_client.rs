//! The Kubernetes client: from a kubeconfig when one is given, else in-cluster.
//!
//! kube-rs talks TLS through rustls with the `ring` provider, which the binary must install
//! once, first thing in `main`, before calling [`client`]:
//!
//! ```
//! let _ = rustls::crypto::ring::default_provider().install_default();
//! ```
//!
//! (`install_default` fails only if a provider is already installed.) Without it, building the
//! client fails, or panics inside rustls when more than one provider is compiled in.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::error::RuntimeError;

/// A client for `kubeconfig` (a file, or a `:`-separated list as in `KUBECONFIG`, merged in
/// order) with its current context; without one, kube's inference: `$KUBECONFIG`,
/// `~/.kube/config`, then the pod's service account (in-cluster).
pub async fn client(kubeconfig: Option<&Path>) -> Result<kube::Client, RuntimeError> {
    let Some(path) = kubeconfig else {
        return kube::Client::try_default()
            .await
            .map_err(|e| RuntimeError::KubeClient(Box::new(e)));
    };
    let bad = |source| RuntimeError::Kubeconfig {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let mut merged: Option<Kubeconfig> = None;
    for file in std::env::split_paths(path.as_os_str()).filter(|p| !p.as_os_str().is_empty()) {
        let next = Kubeconfig::read_from(&file).map_err(|source| RuntimeError::Kubeconfig {
            path: file.clone(),
            source: Box::new(source),
        })?;
        merged = Some(match merged {
            None => next,
            Some(m) => m.merge(next).map_err(bad)?,
        });
    }
    let Some(kubeconfig) = merged else {
        return kube::Client::try_default()
            .await
            .map_err(|e| RuntimeError::KubeClient(Box::new(e)));
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(bad)?;
    kube::Client::try_from(config).map_err(|e| RuntimeError::KubeClient(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Namespace;
    use kube::Api;
    use kube::api::ListParams;

    #[tokio::test]
    async fn a_kube_sim_kubeconfig_gives_a_working_client() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = kube_sim::KubeSim::start(kube_sim::SimConfig::default())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kubeconfig");
        std::fs::write(&file, sim.kubeconfig()).unwrap();

        let client = client(Some(&file)).await.unwrap();
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let names: Vec<String> = namespaces
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect();
        assert!(names.iter().any(|n| n == "kube-system"), "{names:?}");
        assert_eq!(client.default_namespace(), "default");

        // A KUBECONFIG-style list works too.
        let list = std::env::join_paths([file.as_path(), dir.path().join("kubeconfig").as_path()])
            .unwrap();
        client_from(&list).await;
    }

    async fn client_from(list: &std::ffi::OsStr) {
        let c = client(Some(Path::new(list))).await.unwrap();
        let namespaces: Api<Namespace> = Api::all(c);
        assert!(namespaces.get("default").await.is_ok());
    }

    #[tokio::test]
    async fn a_missing_kubeconfig_names_the_file() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nope.yaml");
        let Err(err) = client(Some(&file)).await else {
            panic!("a client from a missing or broken kubeconfig")
        };
        assert!(matches!(err, RuntimeError::Kubeconfig { .. }), "{err:?}");
        assert!(err.to_string().contains("nope.yaml"), "{err}");

        std::fs::write(&file, "this: [is not a kubeconfig").unwrap();
        let Err(err) = client(Some(&file)).await else {
            panic!("a client from a missing or broken kubeconfig")
        };
        assert!(err.to_string().contains("nope.yaml"), "{err}");
    }
}
