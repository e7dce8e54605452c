//! AKO-compatible Avi object names.
