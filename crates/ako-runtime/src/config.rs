//! Settings from AKO's environment variables, with command-line flags over them.
//!
//! Every setting is both an environment variable with AKO's name (as the Helm chart's ConfigMap
//! `avi-k8s-config` sets them) and a flag; a flag wins over the variable. Avi credentials are not
//! here: they come only from the Secret `avi-secret` (see [`crate::avi_secret`]).
//!
//! The binaries flatten [`RuntimeConfig`] into their own `clap` parser and call
//! [`RuntimeConfig::validate`] before anything else, so a missing or malformed setting stops the
//! process at once with one message naming the variable and the flag:
//!
//! ```
//! use ako_runtime::config::RuntimeConfig;
//!
//! let env = |name: &str| match name {
//!     "CLUSTER_NAME" => Some("prod".to_owned()),
//!     "POD_NAMESPACE" => Some("avi-system".to_owned()),
//!     "CTRL_IPADDRESS" => Some("10.10.10.10".to_owned()),
//!     "POD_NAME" => Some("ako-0".to_owned()),
//!     _ => None,
//! };
//! let cfg = RuntimeConfig::from_lookup(["ako", "--service-type", "NodePort"], env).unwrap();
//! cfg.validate().unwrap();
//! assert_eq!(cfg.cluster_name().unwrap(), "prod");
//! assert_eq!(cfg.tenant(), "admin");
//! assert_eq!(cfg.controller_url().unwrap(), "https://10.10.10.10");
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, FromArgMatches};

use crate::error::ConfigError;
use crate::logging::LogFormat;

/// Tenant when `TENANT` is unset or empty, as in AKO.
pub const DEFAULT_TENANT: &str = "admin";
/// Cloud when `CLOUD_NAME` is unset or empty (the Helm chart's default).
pub const DEFAULT_CLOUD_NAME: &str = "Default-Cloud";
/// Service Engine group when `SEG_NAME` is unset or empty (the Helm chart's default).
pub const DEFAULT_SEG_NAME: &str = "Default-Group";

/// Which of the two containers is running. It picks the defaults that must differ between the
/// two, because they share one pod (one network namespace) and one namespace of Leases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    /// The `ako` container: the Istio certificate pipeline.
    Ako,
    /// The `ako-gateway-api` container.
    GatewayApi,
}

impl Component {
    /// Its name: `ako` or `ako-gateway-api`. Also the Events' reporting controller.
    pub fn name(self) -> &'static str {
        match self {
            Component::Ako => "ako",
            Component::GatewayApi => "ako-gateway-api",
        }
    }

    /// Where health and metrics are served unless `--metrics-addr` says otherwise:
    /// `0.0.0.0:8080` for `ako` (AKO's API port), `0.0.0.0:8081` for `ako-gateway-api`.
    pub fn default_metrics_addr(self) -> SocketAddr {
        let port = match self {
            Component::Ako => 8080,
            Component::GatewayApi => 8081,
        };
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)
    }

    /// The Lease elected on unless `--lease-name` says otherwise: `ako-leader` or
    /// `ako-gateway-api-leader`.
    pub fn default_lease_name(self) -> &'static str {
        match self {
            Component::Ako => "ako-leader",
            Component::GatewayApi => "ako-gateway-api-leader",
        }
    }
}

/// How pool members are reached (AKO's `SERVICE_TYPE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ServiceType {
    /// Pod IPs and target ports (the default).
    #[default]
    ClusterIP,
    /// Node IPs and the Service's nodePort.
    NodePort,
}

impl ServiceType {
    /// AKO's spelling: `ClusterIP` or `NodePort`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
        }
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServiceType {
    type Err = ConfigError;

    /// `ClusterIP` or `NodePort`, spelled exactly as AKO spells them; empty means `ClusterIP`.
    fn from_str(value: &str) -> Result<Self, ConfigError> {
        match value {
            "" | "ClusterIP" => Ok(ServiceType::ClusterIP),
            "NodePort" => Ok(ServiceType::NodePort),
            other => Err(invalid(
                "SERVICE_TYPE",
                "--service-type",
                other,
                if other == "NodePortLocal" {
                    "NodePortLocal is not supported; use ClusterIP or NodePort".to_owned()
                } else {
                    "expected ClusterIP or NodePort (case-sensitive)".to_owned()
                },
            )),
        }
    }
}

/// The settings both binaries share. Flatten it into a binary's parser with
/// `#[command(flatten)]`; each field is a flag and, where AKO has one, an environment variable.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Name of this cluster; prefixes and marks every Avi object (required; letters, digits, '-', '_').
    #[arg(long, env = "CLUSTER_NAME", value_name = "NAME")]
    pub cluster_name: Option<String>,

    /// Give mesh backends Istio mTLS (true/false, 1/0, t/f as Go's ParseBool; empty is false).
    #[arg(
        long,
        env = "ISTIO_ENABLED",
        value_name = "BOOL",
        value_parser = parse_istio_enabled,
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true"
    )]
    pub istio_enabled: bool,

    /// Namespace AKO runs in: holds avi-secret, istio-secret and the leader Lease (required).
    #[arg(long, env = "POD_NAMESPACE", value_name = "NAMESPACE")]
    pub pod_namespace: Option<String>,

    /// Name of this pod: the leader-election identity (required with leader election).
    #[arg(long, env = "POD_NAME", value_name = "NAME")]
    pub pod_name: Option<String>,

    /// Avi Controller: an IP, a host, host:port or an https:// URL (required).
    #[arg(long, env = "CTRL_IPADDRESS", value_name = "ADDRESS")]
    pub ctrl_ipaddress: Option<String>,

    /// Avi API version sent as X-Avi-Version, e.g. 22.1.3 [default: avi-client's].
    #[arg(long, env = "CTRL_VERSION", value_name = "VERSION")]
    pub ctrl_version: Option<String>,

    /// Avi tenant of every object [default: admin].
    #[arg(long, env = "TENANT", value_name = "TENANT")]
    pub tenant: Option<String>,

    /// How pool members are reached: ClusterIP (pod IPs) or NodePort (node IPs).
    #[arg(
        long,
        env = "SERVICE_TYPE",
        value_name = "TYPE",
        value_parser = ServiceType::from_str,
        default_value = "ClusterIP"
    )]
    pub service_type: ServiceType,

    /// Avi cloud [default: Default-Cloud].
    #[arg(long, env = "CLOUD_NAME", value_name = "CLOUD")]
    pub cloud_name: Option<String>,

    /// Avi Service Engine group [default: Default-Group].
    #[arg(long, env = "SEG_NAME", value_name = "SEG")]
    pub seg_name: Option<String>,

    /// The network VIPs are allocated from, as AKO takes it: a JSON list of {networkName, cidr, v6cidr} (the first is used) [default: the cloud's IPAM picks].
    #[arg(long, env = "VIP_NETWORK_LIST", value_name = "JSON")]
    pub vip_network_list: Option<String>,

    /// Kubeconfig file (or a ':'-separated list); without it, ~/.kube/config or the in-cluster service account.
    #[arg(long, env = "KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Address of the /healthz, /readyz and /metrics server [default: 0.0.0.0:8080 for ako, 0.0.0.0:8081 for ako-gateway-api].
    #[arg(long, env = "METRICS_ADDR", value_name = "ADDR", value_parser = parse_socket_addr)]
    pub metrics_addr: Option<SocketAddr>,

    /// Log format: text or json. The filter is RUST_LOG (default info).
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_name = "FORMAT",
        value_parser = LogFormat::from_str,
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// Elect a leader on a Lease so that replicas can run side by side; only the leader writes.
    #[arg(
        long,
        env = "LEADER_ELECTION",
        value_name = "BOOL",
        value_parser = parse_leader_election,
        num_args = 0..=1,
        default_value = "true",
        default_missing_value = "true"
    )]
    pub leader_election: bool,

    /// Name of the coordination.k8s.io Lease [default: ako-leader or ako-gateway-api-leader].
    #[arg(long, env = "LEASE_NAME", value_name = "NAME")]
    pub lease_name: Option<String>,
}

impl RuntimeConfig {
    /// Parses `args` (the first is the program name) with `lookup` standing in for the process
    /// environment: flags still win over variables, and defaults apply as in a real run. Tests
    /// use it to inject variables without touching the process environment.
    pub fn from_lookup<I, T>(
        args: I,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<RuntimeConfig, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let cmd = RuntimeConfig::augment_args(clap::Command::new("ako-runtime"));
        let matches = with_env_lookup(cmd, &lookup).try_get_matches_from(args)?;
        RuntimeConfig::from_arg_matches(&matches)
    }

    /// Checks every setting and reports all problems at once (one [`ConfigError`], or
    /// [`ConfigError::Several`]). Call it before anything else at startup.
    ///
    /// Required: `CLUSTER_NAME`, `POD_NAMESPACE`, `CTRL_IPADDRESS`, and `POD_NAME` when leader
    /// election is on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if let Err(e) = self.cluster_name() {
            problems.push(e);
        }
        if let Err(e) = self.namespace() {
            problems.push(e);
        }
        if let Err(e) = self.controller_url() {
            problems.push(e);
        }
        if let Err(e) = self.controller_version() {
            problems.push(e);
        }
        if self.leader_election {
            if let Err(e) = self.identity() {
                problems.push(e);
            }
            if let Some(name) = non_empty(&self.lease_name)
                && let Err(reason) = check_dns_subdomain(name)
            {
                problems.push(invalid("LEASE_NAME", "--lease-name", name, reason));
            }
        }
        match problems.len() {
            0 => Ok(()),
            1 => Err(problems.remove(0)),
            _ => Err(ConfigError::Several(problems)),
        }
    }

    /// `CLUSTER_NAME`: non-empty, letters, digits, `-` and `_` only (AKO's rule).
    pub fn cluster_name(&self) -> Result<&str, ConfigError> {
        let name = required(&self.cluster_name, "CLUSTER_NAME", "--cluster-name")?;
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(invalid(
                "CLUSTER_NAME",
                "--cluster-name",
                name,
                format!("{bad:?} is not allowed: use letters, digits, '-' and '_' only"),
            ));
        }
        Ok(name)
    }

    /// `POD_NAMESPACE`: AKO's namespace, a DNS label.
    pub fn namespace(&self) -> Result<&str, ConfigError> {
        let ns = required(&self.pod_namespace, "POD_NAMESPACE", "--pod-namespace")?;
        check_dns_label(ns)
            .map_err(|reason| invalid("POD_NAMESPACE", "--pod-namespace", ns, reason))?;
        Ok(ns)
    }

    /// `POD_NAME`: this replica's identity in leader election.
    pub fn identity(&self) -> Result<&str, ConfigError> {
        required(&self.pod_name, "POD_NAME", "--pod-name")
    }

    /// The controller's base URL from `CTRL_IPADDRESS`: `https://<address>` unless it already
    /// has a scheme, without a trailing slash. IPv6 addresses may be given bare or in brackets.
    pub fn controller_url(&self) -> Result<String, ConfigError> {
        const ENV: &str = "CTRL_IPADDRESS";
        const FLAG: &str = "--ctrl-ipaddress";
        let raw = required(&self.ctrl_ipaddress, ENV, FLAG)?;
        let candidate = if raw.contains("://") {
            raw.to_owned()
        } else if raw.parse::<Ipv6Addr>().is_ok() {
            format!("https://[{raw}]")
        } else {
            format!("https://{raw}")
        };
        let url = url::Url::parse(&candidate)
            .map_err(|e| invalid(ENV, FLAG, raw, format!("not an address or URL: {e}")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(invalid(
                ENV,
                FLAG,
                raw,
                "the scheme must be https".to_owned(),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid(ENV, FLAG, raw, "no host".to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                ENV,
                FLAG,
                raw,
                "credentials belong in the Secret avi-secret, not in the address".to_owned(),
            ));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                ENV,
                FLAG,
                raw,
                "give only the scheme, host and port, without a path".to_owned(),
            ));
        }
        Ok(url.as_str().trim_end_matches('/').to_owned())
    }

    /// `VIP_NETWORK_LIST`, parsed (empty when unset).
    pub fn vip_networks(&self) -> Result<Vec<translate_core::vip::VipNetwork>, ConfigError> {
        let raw = self.vip_network_list.as_deref().unwrap_or_default();
        translate_core::vip::parse_vip_network_list(raw)
            .map_err(|e| invalid("VIP_NETWORK_LIST", "--vip-network-list", raw, e.to_string()))
    }

    /// `CTRL_VERSION` when set: dot-separated numbers such as `22.1.3`.
    pub fn controller_version(&self) -> Result<Option<&str>, ConfigError> {
        let Some(version) = non_empty(&self.ctrl_version) else {
            return Ok(None);
        };
        let well_formed = version
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if !well_formed || !version.contains('.') {
            return Err(invalid(
                "CTRL_VERSION",
                "--ctrl-version",
                version,
                "expected a version such as 22.1.3".to_owned(),
            ));
        }
        Ok(Some(version))
    }

    /// `TENANT`, or `admin` when unset or empty.
    pub fn tenant(&self) -> &str {
        non_empty(&self.tenant).unwrap_or(DEFAULT_TENANT)
    }

    /// `CLOUD_NAME`, or `Default-Cloud` when unset or empty.
    pub fn cloud_name(&self) -> &str {
        non_empty(&self.cloud_name).unwrap_or(DEFAULT_CLOUD_NAME)
    }

    /// `SEG_NAME`, or `Default-Group` when unset or empty.
    pub fn seg_name(&self) -> &str {
        non_empty(&self.seg_name).unwrap_or(DEFAULT_SEG_NAME)
    }

    /// `--metrics-addr`, or the component's default.
    pub fn metrics_addr_for(&self, component: Component) -> SocketAddr {
        self.metrics_addr
            .unwrap_or_else(|| component.default_metrics_addr())
    }

    /// `--lease-name`, or the component's default.
    pub fn lease_name_for(&self, component: Component) -> &str {
        non_empty(&self.lease_name).unwrap_or_else(|| component.default_lease_name())
    }
}

/// Returns `cmd` (and its subcommands) with every argument's environment variable answered by
/// `lookup` instead of the process environment. Flags still win, and a variable the lookup does
/// not know falls back to the argument's default. Binaries use it to test their full parser:
///
/// ```
/// use clap::{CommandFactory, FromArgMatches, Parser};
/// use ako_runtime::config::{with_env_lookup, RuntimeConfig};
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     runtime: RuntimeConfig,
/// }
///
/// let env = |name: &str| (name == "TENANT").then(|| "blue".to_owned());
/// let matches = with_env_lookup(Cli::command(), &env)
///     .try_get_matches_from(["ako"])
///     .unwrap();
/// let cli = Cli::from_arg_matches(&matches).unwrap();
/// assert_eq!(cli.runtime.tenant(), "blue");
/// ```
pub fn with_env_lookup(
    cmd: clap::Command,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> clap::Command {
    cmd.mut_args(|arg| {
        let Some(name) = arg.get_env().and_then(|n| n.to_str()).map(str::to_owned) else {
            return arg;
        };
        let arg = arg.env(None::<&'static str>);
        match lookup(&name) {
            // A value from the environment is applied like a default: below any flag.
            Some(value) => arg.default_value(value),
            None => arg,
        }
    })
    .mut_subcommands(|sub| with_env_lookup(sub, lookup))
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn required<'a>(
    value: &'a Option<String>,
    env: &'static str,
    flag: &'static str,
) -> Result<&'a str, ConfigError> {
    non_empty(value).ok_or(ConfigError::Missing { env, flag })
}

fn invalid(env: &'static str, flag: &'static str, value: &str, reason: String) -> ConfigError {
    ConfigError::Invalid {
        env,
        flag,
        value: value.to_owned(),
        reason,
    }
}

/// Go's `strconv.ParseBool` set, which AKO uses for its boolean variables.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn parse_istio_enabled(value: &str) -> Result<bool, ConfigError> {
    // AKO reads anything ParseBool refuses as false; silently dropping mTLS is worse than a
    // startup error, so only the empty value (an unset Helm value) means false here.
    match value.trim() {
        "" => Ok(false),
        v => parse_go_bool(v).ok_or_else(|| {
            invalid(
                "ISTIO_ENABLED",
                "--istio-enabled",
                value,
                "expected true or false".to_owned(),
            )
        }),
    }
}

fn parse_leader_election(value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "" => Ok(true),
        v => parse_go_bool(v).ok_or_else(|| {
            invalid(
                "LEADER_ELECTION",
                "--leader-election",
                value,
                "expected true or false".to_owned(),
            )
        }),
    }
}

fn parse_socket_addr(value: &str) -> Result<SocketAddr, ConfigError> {
    value.trim().parse().map_err(|_| {
        invalid(
            "METRICS_ADDR",
            "--metrics-addr",
            value,
            "expected IP:PORT such as 0.0.0.0:8080 or [::]:8080".to_owned(),
        )
    })
}

/// RFC 1123 label: what a namespace name must be.
fn check_dns_label(name: &str) -> Result<(), String> {
    if name.len() > 63 {
        return Err("longer than 63 characters".to_owned());
    }
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok_chars || name.starts_with('-') || name.ends_with('-') {
        return Err(
            "use lowercase letters, digits and '-', starting and ending with a letter or digit"
                .to_owned(),
        );
    }
    Ok(())
}

/// RFC 1123 subdomain: what most object names must be.
fn check_dns_subdomain(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err("longer than 253 characters".to_owned());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty part between dots".to_owned());
        }
        check_dns_label(label)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const GOOD: &[(&str, &str)] = &[
        ("CLUSTER_NAME", "prod-1"),
        ("POD_NAMESPACE", "avi-system"),
        ("POD_NAME", "ako-0"),
        ("CTRL_IPADDRESS", "10.10.10.10"),
    ];

    fn parse(args: &[&str], vars: &[(&str, &str)]) -> Result<RuntimeConfig, clap::Error> {
        let mut argv = vec!["ako"];
        argv.extend_from_slice(args);
        RuntimeConfig::from_lookup(argv, env(vars))
    }

    fn parse_good(extra: &[(&str, &str)]) -> RuntimeConfig {
        let vars: HashMap<String, String> = GOOD
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        RuntimeConfig::from_lookup(["ako"], move |k| vars.get(k).cloned()).unwrap()
    }

    #[test]
    fn ako_variables_are_read_and_defaults_are_akos() {
        let cfg = parse(
            &[],
            &[
                ("CLUSTER_NAME", "prod-1"),
                ("ISTIO_ENABLED", "true"),
                ("POD_NAMESPACE", "avi-system"),
                ("POD_NAME", "ako-0"),
                ("CTRL_IPADDRESS", "10.10.10.10"),
                ("CTRL_VERSION", "22.1.3"),
                ("SERVICE_TYPE", "NodePort"),
                ("CLOUD_NAME", "vcenter"),
                ("SEG_NAME", "seg-a"),
            ],
        )
        .unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.cluster_name().unwrap(), "prod-1");
        assert!(cfg.istio_enabled);
        assert_eq!(cfg.namespace().unwrap(), "avi-system");
        assert_eq!(cfg.controller_url().unwrap(), "https://10.10.10.10");
        assert_eq!(cfg.controller_version().unwrap(), Some("22.1.3"));
        assert_eq!(cfg.service_type, ServiceType::NodePort);
        assert_eq!(cfg.cloud_name(), "vcenter");
        assert_eq!(cfg.seg_name(), "seg-a");
        assert_eq!(cfg.tenant(), "admin", "TENANT defaults to admin");
        assert!(cfg.leader_election, "leader election is on by default");
        assert_eq!(cfg.log_format, LogFormat::Text);

        let defaults = parse_good(&[]);
        assert!(!defaults.istio_enabled);
        assert_eq!(defaults.service_type, ServiceType::ClusterIP);
        assert_eq!(defaults.cloud_name(), "Default-Cloud");
        assert_eq!(defaults.seg_name(), "Default-Group");
        assert_eq!(defaults.controller_version().unwrap(), None);
    }

    #[test]
    fn flags_win_over_environment_variables() {
        let cfg = parse(
            &[
                "--cluster-name",
                "from-flag",
                "--tenant",
                "blue",
                "--service-type",
                "ClusterIP",
                "--istio-enabled",
                "false",
                "--log-format",
                "json",
            ],
            &[
                ("CLUSTER_NAME", "from-env"),
                ("TENANT", "red"),
                ("SERVICE_TYPE", "NodePort"),
                ("ISTIO_ENABLED", "true"),
                ("LOG_FORMAT", "text"),
            ],
        )
        .unwrap();
        assert_eq!(cfg.cluster_name().unwrap(), "from-flag");
        assert_eq!(cfg.tenant(), "blue");
        assert_eq!(cfg.service_type, ServiceType::ClusterIP);
        assert!(!cfg.istio_enabled);
        assert_eq!(cfg.log_format, LogFormat::Json);

        // A bare boolean flag means true.
        let cfg = parse(&["--istio-enabled"], &[("ISTIO_ENABLED", "false")]).unwrap();
        assert!(cfg.istio_enabled);
    }

    #[test]
    fn go_booleans_are_accepted_and_junk_is_an_error() {
        for (value, expected) in [("1", true), ("True", true), ("F", false), ("", false)] {
            let cfg = parse(&[], &[("ISTIO_ENABLED", value)]).unwrap();
            assert_eq!(cfg.istio_enabled, expected, "ISTIO_ENABLED={value:?}");
        }
        let err = parse(&[], &[("ISTIO_ENABLED", "yes please")]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("ISTIO_ENABLED") && msg.contains("yes please"),
            "{msg}"
        );
    }

    #[test]
    fn missing_required_settings_are_all_named() {
        let cfg = parse(&[], &[]).unwrap();
        let err = cfg.validate().unwrap_err();
        let msg = err.to_string();
        for needle in [
            "CLUSTER_NAME is not set",
            "--cluster-name",
            "POD_NAMESPACE is not set",
            "CTRL_IPADDRESS is not set",
            "POD_NAME is not set",
        ] {
            assert!(msg.contains(needle), "{needle:?} missing from {msg}");
        }
        assert!(
            matches!(err, ConfigError::Several(ref v) if v.len() == 4),
            "{err:?}"
        );

        // Without leader election POD_NAME is not needed; an empty value counts as unset.
        let cfg = parse(
            &["--leader-election", "false"],
            &[
                ("CLUSTER_NAME", "c"),
                ("POD_NAMESPACE", "avi-system"),
                ("CTRL_IPADDRESS", " "),
            ],
        )
        .unwrap();
        assert_eq!(
            cfg.validate(),
            Err(ConfigError::Missing {
                env: "CTRL_IPADDRESS",
                flag: "--ctrl-ipaddress"
            })
        );
    }

    #[test]
    fn bad_service_type_is_a_clear_parse_error() {
        for (value, needle) in [
            ("LoadBalancer", "expected ClusterIP or NodePort"),
            ("nodeport", "case-sensitive"),
            ("NodePortLocal", "NodePortLocal is not supported"),
        ] {
            let err = parse(&[], &[("SERVICE_TYPE", value)]).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains("SERVICE_TYPE") && msg.contains(needle) && msg.contains(value),
                "{msg}"
            );
        }
        assert_eq!("".parse::<ServiceType>(), Ok(ServiceType::ClusterIP));
    }

    #[test]
    fn bad_cluster_name_and_namespace_are_rejected() {
        let cfg = parse_good(&[("CLUSTER_NAME", "prod cluster")]);
        let msg = cfg.validate().unwrap_err().to_string();
        assert!(msg.contains("CLUSTER_NAME") && msg.contains("' '"), "{msg}");

        let cfg = parse_good(&[("POD_NAMESPACE", "Avi_System")]);
        let msg = cfg.validate().unwrap_err().to_string();
        assert!(
            msg.contains("POD_NAMESPACE") && msg.contains("lowercase"),
            "{msg}"
        );

        let cfg = parse_good(&[("LEASE_NAME", "Not..Valid")]);
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("LEASE_NAME")
        );
    }

    #[test]
    fn controller_addresses_become_urls() {
        for (raw, url) in [
            ("10.10.10.10", "https://10.10.10.10"),
            ("10.10.10.10:9443", "https://10.10.10.10:9443"),
            ("avi.example.com", "https://avi.example.com"),
            ("https://avi.example.com/", "https://avi.example.com"),
            ("http://127.0.0.1:8443", "http://127.0.0.1:8443"),
            ("fd00::10", "https://[fd00::10]"),
            ("[fd00::10]:443", "https://[fd00::10]"),
            ("[fd00::10]:9443", "https://[fd00::10]:9443"),
        ] {
            let cfg = parse_good(&[("CTRL_IPADDRESS", raw)]);
            assert_eq!(cfg.controller_url().unwrap(), url, "{raw}");
        }
        for (raw, needle) in [
            ("ftp://avi", "scheme"),
            ("https://admin:pw@avi", "avi-secret"),
            ("avi.example.com/api", "without a path"),
            ("10.0.0.1:99999", "not an address"),
            ("https://", "not an address"),
        ] {
            let cfg = parse_good(&[("CTRL_IPADDRESS", raw)]);
            let err = cfg.controller_url().unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains("CTRL_IPADDRESS") && msg.contains(needle),
                "{raw}: {msg}"
            );
        }
    }

    #[test]
    fn controller_version_must_look_like_a_version() {
        for good in ["22.1.3", "30.2.1", "18.2"] {
            assert_eq!(
                parse_good(&[("CTRL_VERSION", good)])
                    .controller_version()
                    .unwrap(),
                Some(good)
            );
        }
        for bad in ["latest", "22", "22..1", "v22.1.3"] {
            let err = parse_good(&[("CTRL_VERSION", bad)]).validate().unwrap_err();
            assert!(err.to_string().contains("CTRL_VERSION"), "{bad}: {err}");
        }
    }

    #[test]
    fn empty_defaulted_values_fall_back_to_akos_defaults() {
        let cfg = parse_good(&[("TENANT", ""), ("SERVICE_TYPE", "")]);
        assert_eq!(cfg.tenant(), "admin");
        assert_eq!(cfg.service_type, ServiceType::ClusterIP);
    }

    #[test]
    fn component_defaults_do_not_collide_in_one_pod() {
        let cfg = parse_good(&[]);
        assert_ne!(
            cfg.metrics_addr_for(Component::Ako),
            cfg.metrics_addr_for(Component::GatewayApi)
        );
        assert_ne!(
            cfg.lease_name_for(Component::Ako),
            cfg.lease_name_for(Component::GatewayApi)
        );
        let cfg = parse(
            &["--metrics-addr", "127.0.0.1:0", "--lease-name", "mine"],
            &[],
        )
        .unwrap();
        assert_eq!(
            cfg.metrics_addr_for(Component::Ako),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(cfg.lease_name_for(Component::GatewayApi), "mine");
        let err = parse(&["--metrics-addr", "localhost"], &[]).unwrap_err();
        assert!(err.to_string().contains("METRICS_ADDR"), "{err}");
    }

    #[test]
    fn env_lookup_reaches_subcommands() {
        use clap::{CommandFactory, Parser, Subcommand};
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            command: Cmd,
        }
        #[derive(Subcommand)]
        enum Cmd {
            Run {
                #[command(flatten)]
                runtime: Box<RuntimeConfig>,
            },
        }
        let lookup = env(&[("CLUSTER_NAME", "sub")]);
        let matches = with_env_lookup(Cli::command(), &lookup)
            .try_get_matches_from(["ako", "run"])
            .unwrap();
        let Cmd::Run { runtime } = Cli::from_arg_matches(&matches).unwrap().command;
        assert_eq!(runtime.cluster_name().unwrap(), "sub");
    }
}
