//! Cross-process tests of the product: see `tests/`. This library is empty on purpose; the
//! tests start both binaries as the pod would run them.
