//! The start of either container, in the order a failure is easiest to read: configuration,
//! logging, the Kubernetes client, `avi-secret`, the Avi client, the health and metrics
//! server, then leadership. Each step fails with an error that says what to fix.

use avi_client::AviClient;
use k8s_openapi::api::core::v1::ObjectReference;

use crate::avi_secret::{avi_config, load_avi_credentials};
use crate::config::{Component, RuntimeConfig};
use crate::error::RuntimeError;
use crate::events::Events;
use crate::health::{self, HealthServer, Readiness};
use crate::leader::{LeaderElector, Leadership, LeaseTiming};
use crate::metrics::Metrics;

/// Everything a started container holds.
pub struct Process {
    /// The validated configuration.
    pub config: RuntimeConfig,
    /// Kubernetes.
    pub kube: kube::Client,
    /// The Avi controller.
    pub avi: AviClient,
    /// Metrics.
    pub metrics: Metrics,
    /// Readiness (`/readyz`).
    pub readiness: Readiness,
    /// The health and metrics server.
    pub server: HealthServer,
    /// Whether this replica may write.
    pub leadership: Leadership,
    /// Events.
    pub events: Events,
}

impl Process {
    /// The translation settings of this container: its configuration, with the controller API
    /// version the Avi client uses when `CTRL_VERSION` is unset. Both containers take them
    /// from here, so a setting is read the same way in each.
    pub fn settings(
        &self,
        component: translate_core::settings::Component,
        istio_backends: translate_core::settings::IstioBackends,
    ) -> Result<translate_core::Settings, crate::error::ConfigError> {
        use translate_core::settings::ServiceType;
        let c = &self.config;
        Ok(translate_core::Settings {
            component,
            cluster_name: c.cluster_name()?.to_owned(),
            ako_namespace: c.namespace()?.to_owned(),
            tenant: c.tenant().to_owned(),
            service_type: match c.service_type {
                crate::ServiceType::ClusterIP => ServiceType::ClusterIP,
                crate::ServiceType::NodePort => ServiceType::NodePort,
            },
            istio_enabled: c.istio_enabled,
            istio_backends,
            controller_version: c
                .controller_version()?
                .map_or_else(|| self.avi.config().api_version.clone(), str::to_owned),
            vip_networks: c.vip_networks()?,
            ..translate_core::Settings::default()
        })
    }

    /// Starts the shared parts of `component`.
    pub async fn start(
        config: RuntimeConfig,
        component: Component,
    ) -> Result<Process, RuntimeError> {
        config.validate()?;
        crate::logging::init(config.log_format)?;
        let kube = crate::kube_client::client(config.kubeconfig.as_deref()).await?;
        let namespace = config.namespace()?.to_owned();
        let secret = load_avi_credentials(&kube, &namespace).await?;
        let metrics = Metrics::new();
        let mut avi_cfg = avi_config(&config, &secret)?;
        avi_cfg.observer = Some(avi_observer(&metrics));
        let avi = AviClient::new(avi_cfg).map_err(|e| {
            RuntimeError::Config(crate::error::ConfigError::Invalid {
                env: "CTRL_IPADDRESS",
                flag: "--ctrl-ipaddress",
                value: config.ctrl_ipaddress.clone().unwrap_or_default(),
                reason: e.to_string(),
            })
        })?;
        let readiness = Readiness::new();
        let listener = health::bind(config.metrics_addr_for(component)).await?;
        let server = health::serve(listener, metrics.clone(), readiness.clone()).await?;
        tracing::info!(addr = %server.local_addr(), "serving /healthz, /readyz and /metrics");
        let leadership = if config.leader_election {
            LeaderElector::new(
                kube.clone(),
                &namespace,
                config.lease_name_for(component),
                config.identity()?,
                LeaseTiming::default(),
            )?
            .with_metrics(metrics.clone())
            .spawn()
        } else {
            metrics.leader(true);
            Leadership::always()
        };
        let events = Events::new(kube.clone(), component, config.pod_name.clone());
        Ok(Process {
            config,
            kube,
            avi,
            metrics,
            readiness,
            server,
            leadership,
            events,
        })
    }

    /// The container's own Pod, the object its Events are about (when `POD_NAME` is set).
    pub fn pod(&self) -> Option<ObjectReference> {
        Some(ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: Some(self.config.pod_name.clone()?),
            namespace: self.config.pod_namespace.clone(),
            ..ObjectReference::default()
        })
    }
}

/// Feeds `ako_avi_requests_total` and `ako_avi_request_duration_seconds` from every exchange
/// of an [`AviClient`].
pub fn avi_observer(metrics: &Metrics) -> avi_client::RequestObserver {
    let metrics = metrics.clone();
    avi_client::RequestObserver(std::sync::Arc::new(move |r| {
        metrics.avi_request(r.method, r.kind.path(), r.status, r.duration);
    }))
}

/// Resolves on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the process");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Aborts a task when dropped: work started under [`crate::Leadership::run_while_leading`]
/// holds its helpers' handles in these, so losing the leadership stops all of them.
#[derive(Debug)]
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn avi_exchanges_are_counted_by_method_type_and_code() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = avi_sim::AviSim::builder().start().await.unwrap();
        let metrics = Metrics::new();
        let mut cfg = avi_client::AviConfig::new(
            sim.base_url(),
            avi_client::Credentials::Password {
                username: "admin".into(),
                password: "avi123".into(),
            },
        );
        cfg.observer = Some(avi_observer(&metrics));
        let client = AviClient::new(cfg).unwrap();
        assert!(
            client
                .find_raw(avi_client::Kind::Pool, "nothing")
                .await
                .unwrap()
                .is_none()
        );
        let text = metrics.encode();
        assert!(
            text.lines().any(|l| l.starts_with("ako_avi_requests_total")
                && l.contains("method=\"GET\"")
                && l.contains("type=\"pool\"")
                && l.contains("code=\"200\"")
                && l.ends_with(" 1")),
            "{text}"
        );
        assert!(text.contains("ako_avi_request_duration_seconds"));
    }
}
