//! Errors as the controller returns them.

use std::fmt;

/// An error response: HTTP status and the controller's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// The message, sent as `{"error": message}` (or as plain text when `plain`).
    pub message: String,
    /// Whether the body is plain text (the CSRF failure is, on a real controller).
    pub plain: bool,
}

impl ApiError {
    /// An error with a JSON body.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            plain: false,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// 404 with the controller's `<Model> object not found!`.
    pub fn not_found(model: &str) -> Self {
        Self::new(404, format!("{model} object not found!"))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}
