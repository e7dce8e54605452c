//! How an emulated controller is set up.

use std::path::PathBuf;
use std::time::Duration;

/// Settings of one emulated controller.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The admin user's name.
    pub username: String,
    /// The admin user's password (never logged).
    pub password: String,
    /// Auth tokens accepted by `/login` as `{"username", "token"}`.
    pub tokens: Vec<String>,
    /// Accept `Authorization: Basic` (off by default, as on real controllers since 15.3).
    pub basic_auth: bool,
    /// Session idle timeout (`controllerproperties.api_idle_timeout`, default 15 min).
    pub idle_timeout: Duration,
    /// Absolute session lifetime (`api_force_timeout`, default 24 h).
    pub absolute_timeout: Duration,
    /// Status for an expired or unknown session: 401, or 419 like newer controllers.
    pub expired_status: u16,
    /// The controller version reported at login and `/api/initial-data`.
    pub version: String,
    /// Serve HTTPS with a generated certificate.
    pub tls: bool,
    /// Persist the configuration here and reload it at start.
    pub state_file: Option<PathBuf>,
    /// Answer 400 for unknown fields instead of dropping them.
    pub reject_unknown_fields: bool,
    /// Seed of the fault-injection dice.
    pub seed: u64,
    /// Run the Service Engine data plane: every enabled virtual service with services and a
    /// VIP address gets a loopback listener that serves traffic as configured (see
    /// [`crate::dataplane`]). Off by default in the library, on by default in the binary.
    pub data_plane: bool,
    /// How long the data plane waits for a pool server's response head once the request is
    /// sent (default 30 s); a server that stays silent longer is answered 504 and counted as a
    /// pool error ([`crate::UpstreamError::Timeout`]).
    pub upstream_timeout: Duration,
    /// Requests kept in the request log.
    pub log_capacity: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            username: "admin".to_owned(),
            password: "avi123".to_owned(),
            tokens: Vec::new(),
            basic_auth: false,
            idle_timeout: Duration::from_secs(15 * 60),
            absolute_timeout: Duration::from_secs(24 * 3600),
            expired_status: 401,
            version: "22.1.3".to_owned(),
            tls: false,
            state_file: None,
            reject_unknown_fields: false,
            seed: 0,
            data_plane: false,
            upstream_timeout: Duration::from_secs(30),
            log_capacity: 10_000,
        }
    }
}
