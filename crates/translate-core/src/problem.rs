//! Why a backend (or another reference) cannot be used.

/// A reason (UpperCamelCase, as status conditions spell it) and a message for humans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Reason, e.g. `BackendNotFound`.
    pub reason: &'static str,
    /// Message.
    pub message: String,
}

impl Problem {
    /// `BackendNotFound` with `message`.
    pub fn not_found(message: String) -> Problem {
        Problem {
            reason: "BackendNotFound",
            message,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

impl std::error::Error for Problem {}
