//! Errors that name the object, the call and what the controller said.

use crate::kind::Kind;

/// An operation on an object failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AviError {
    /// The controller answered with an error status.
    #[error("{method} {kind} '{name}': {status} {message}")]
    Api {
        /// HTTP method.
        method: &'static str,
        /// Object type.
        kind: Kind,
        /// Object name or uuid (empty for a list).
        name: String,
        /// HTTP status.
        status: u16,
        /// The controller's `error` message (or the body text).
        message: String,
    },
    /// The controller could not be reached, or the connection broke.
    #[error("{method} {kind} '{name}': {detail}")]
    Transport {
        /// HTTP method.
        method: &'static str,
        /// Object type.
        kind: Kind,
        /// Object name or uuid.
        name: String,
        /// What failed (never a credential).
        detail: String,
    },
    /// Login was refused.
    #[error("login to the Avi controller refused: {status} {message}")]
    Login {
        /// HTTP status.
        status: u16,
        /// The controller's message.
        message: String,
    },
    /// The object exists but another owner created it; we never touch it.
    #[error("{kind} '{name}' exists but belongs to created_by={owner:?}, not {ours:?}")]
    Ownership {
        /// Object type.
        kind: Kind,
        /// Object name.
        name: String,
        /// Its `created_by`.
        owner: Option<String>,
        /// Ours.
        ours: Option<String>,
    },
    /// An answer did not parse as the expected object.
    #[error("{kind} '{name}': unexpected answer: {detail}")]
    Decode {
        /// Object type.
        kind: Kind,
        /// Object name.
        name: String,
        /// The parse error.
        detail: String,
    },
    /// The client was set up wrongly (bad URL, bad CA certificate).
    #[error("invalid Avi client configuration: {0}")]
    Config(String),
}

impl AviError {
    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            AviError::Api { status, .. } | AviError::Login { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether trying again later may succeed (5xx, transport, 403 during an upgrade,
    /// 400 while IPAM or a VRF catches up), as AKO classifies them.
    pub fn is_retryable(&self) -> bool {
        match self {
            AviError::Transport { .. } => true,
            AviError::Api {
                status, message, ..
            } => {
                *status >= 500
                    || matches!(*status, 401 | 408 | 409 | 412 | 419)
                    || (*status == 403 && message.contains("upgrade"))
                    || (*status == 400
                        && (message.contains("No available free IPs")
                            || message.contains("VrfContext object not found")))
            }
            _ => false,
        }
    }

    /// A short label for metrics (`api_500`, `transport`, `ownership`...).
    pub fn metric_label(&self) -> String {
        match self {
            AviError::Api { status, .. } => format!("api_{status}"),
            AviError::Transport { .. } => "transport".into(),
            AviError::Login { .. } => "login".into(),
            AviError::Ownership { .. } => "ownership".into(),
            AviError::Decode { .. } => "decode".into(),
            AviError::Config(_) => "config".into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = AviError> = std::result::Result<T, E>;
