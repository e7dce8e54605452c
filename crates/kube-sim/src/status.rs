//! Errors as the API server reports them: `Status` objects with a code and a reason.

use serde_json::{Value, json};

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct StatusError {
    /// HTTP status code.
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Gone`, `BadRequest`, ...
    pub reason: &'static str,
    /// Human message, worded like the API server's.
    pub message: String,
}

impl StatusError {
    /// 404 `<resource> "<name>" not found`.
    pub fn not_found(resource: &str, name: &str) -> Self {
        StatusError {
            code: 404,
            reason: "NotFound",
            message: format!("{resource} \"{name}\" not found"),
        }
    }
    /// 409 `<resource> "<name>" already exists`.
    pub fn already_exists(resource: &str, name: &str) -> Self {
        StatusError {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{resource} \"{name}\" already exists"),
        }
    }
    /// 409 stale resourceVersion.
    pub fn conflict(resource: &str, name: &str) -> Self {
        StatusError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        }
    }
    /// 422 Invalid.
    pub fn invalid(message: impl Into<String>) -> Self {
        StatusError {
            code: 422,
            reason: "Invalid",
            message: message.into(),
        }
    }
    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        StatusError {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
        }
    }
    /// 410 Expired (a resourceVersion older than the kept history).
    pub fn expired(message: impl Into<String>) -> Self {
        StatusError {
            code: 410,
            reason: "Expired",
            message: message.into(),
        }
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        })
    }
}
