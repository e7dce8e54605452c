//! Hostname rules of the Gateway API: listener and route hostname intersection.
