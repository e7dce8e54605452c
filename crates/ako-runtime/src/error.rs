//! What can go wrong at startup and while running, in words for operators.
//!
//! No error here ever carries a password, token or key: the Avi secret's values never reach a
//! message, only the Secret's namespace, name and key names.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A setting that is missing or malformed. Each names the environment variable and the flag.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required setting was given neither as an environment variable nor as a flag.
    #[error("{env} is not set: set the environment variable {env} or pass {flag}")]
    Missing {
        /// Environment variable, e.g. `CLUSTER_NAME`.
        env: &'static str,
        /// Flag, e.g. `--cluster-name`.
        flag: &'static str,
    },
    /// A setting has a value we cannot use.
    #[error("{env} ({flag}) is {value:?}: {reason}")]
    Invalid {
        /// Environment variable, e.g. `SERVICE_TYPE`.
        env: &'static str,
        /// Flag, e.g. `--service-type`.
        flag: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it and what would be right.
        reason: String,
    },
    /// More than one setting is wrong; all are listed so one restart fixes them all.
    #[error("{}", join(.0))]
    Several(Vec<ConfigError>),
}

fn join(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Errors of the runtime: reading the cluster, serving health, electing a leader.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A setting is missing or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A kubeconfig file could not be read or used.
    #[error("kubeconfig {path}: {source}")]
    Kubeconfig {
        /// The file (or `KUBECONFIG` list) that was read.
        path: PathBuf,
        /// What kube-rs said.
        #[source]
        source: Box<kube::config::KubeconfigError>,
    },
    /// The Kubernetes client could not be built (no kubeconfig and not in a cluster, bad TLS...).
    #[error("cannot build a Kubernetes client: {0}")]
    KubeClient(#[source] Box<kube::Error>),
    /// The Secret `avi-secret` does not exist.
    #[error(
        "Secret {namespace}/{name} not found: create it with the Avi username and a password or authtoken"
    )]
    AviSecretNotFound {
        /// AKO's namespace.
        namespace: String,
        /// The Secret's name (`avi-secret`).
        name: String,
    },
    /// The Secret `avi-secret` could not be read.
    #[error("cannot read Secret {namespace}/{name}: {source}")]
    AviSecretRead {
        /// AKO's namespace.
        namespace: String,
        /// The Secret's name.
        name: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },
    /// The Secret `avi-secret` is there but unusable. Never includes a secret value.
    #[error("Secret {namespace}/{name}: {problem}")]
    AviSecretInvalid {
        /// AKO's namespace.
        namespace: String,
        /// The Secret's name.
        name: String,
        /// Which key is wrong and how.
        problem: String,
    },
    /// The health and metrics server could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// The health and metrics server stopped with an error.
    #[error("health and metrics server: {0}")]
    Serve(#[source] std::io::Error),
    /// An Event could not be published.
    #[error("cannot publish Event {reason}: {source}")]
    Event {
        /// The Event's reason.
        reason: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },
    /// Leader election was set up with values that cannot work.
    #[error("leader election: {0}")]
    LeaderElection(String),
    /// The log subscriber could not be set up.
    #[error("logging: {0}")]
    Logging(String),
}

/// One line for an error and its causes, each cause once: our errors name their source in
/// their message and also expose it as `source()`, so a plain walk of the chain (anyhow's
/// `{:#}`) would repeat it.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line
}

#[cfg(test)]
mod describe_tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = RuntimeError::Bind {
            addr: "127.0.0.1:1".parse().unwrap(),
            source: io,
        };
        let line = describe(&e);
        assert_eq!(line.matches("no such file").count(), 1, "{line}");
        assert!(line.starts_with("cannot listen on 127.0.0.1:1"), "{line}");
    }
}
