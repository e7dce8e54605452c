//! "Pods with sidecars": backends that speak to the outside world the way meshed workloads do.
//!
//! * [`StrictBackend`]: an Envoy sidecar under STRICT PeerAuthentication in front of an echo
//!   application (mTLS with mesh client certificates only, optional principal allow-list,
//!   certificate rotation).
//! * [`AmbientBackend`]: the app port of an ambient-mode pod, which refuses direct TLS.
//! * [`mesh_client_config`]: a rustls client that talks to them as an external load balancer
//!   does (chain checked against the mesh roots, no host-name check).

mod ambient;
pub(crate) mod http;
mod listener;
mod strict;
mod tls;

use std::sync::atomic::{AtomicU64, Ordering};

pub use ambient::{AmbientBackend, AmbientBackendOptions};
pub use http::{Echo, RBAC_DENIED_BODY, XFCC};
pub use strict::{HANDSHAKE_TIMEOUT, MIN_RENEWAL_PERIOD, StrictBackend, StrictBackendOptions};
pub use tls::mesh_client_config;

/// What a [`StrictBackend`] has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StrictStats {
    /// TLS handshakes completed with a trusted client certificate.
    pub handshakes_accepted: u64,
    /// Connections closed during the handshake: no TLS, no or untrusted client certificate,
    /// a SPIFFE ID outside the trust domain, or a handshake timeout.
    pub handshakes_refused: u64,
    /// Requests answered 200 with an [`Echo`].
    pub requests_served: u64,
    /// Requests answered 403 `RBAC: access denied`.
    pub requests_denied: u64,
    /// Certificates installed by [`StrictBackend::rotate`] or the renewer.
    pub rotations: u64,
    /// Renewals that failed (issuing or installing); the old certificate stays.
    pub renewal_failures: u64,
}

/// What an [`AmbientBackend`] has refused since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AmbientStats {
    /// Every connection (each is closed without a handshake).
    pub connections_refused: u64,
    /// Those whose first bytes were a TLS handshake record (a ClientHello).
    pub tls_hellos_refused: u64,
}

/// Lock-free counters behind the stats snapshots.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    handshakes_accepted: AtomicU64,
    handshakes_refused: AtomicU64,
    requests_served: AtomicU64,
    requests_denied: AtomicU64,
    rotations: AtomicU64,
    renewal_failures: AtomicU64,
    connections_refused: AtomicU64,
    tls_hellos_refused: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> StrictStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StrictStats {
            handshakes_accepted: get(&self.handshakes_accepted),
            handshakes_refused: get(&self.handshakes_refused),
            requests_served: get(&self.requests_served),
            requests_denied: get(&self.requests_denied),
            rotations: get(&self.rotations),
            renewal_failures: get(&self.renewal_failures),
        }
    }

    fn ambient_snapshot(&self) -> AmbientStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        AmbientStats {
            connections_refused: get(&self.connections_refused),
            tls_hellos_refused: get(&self.tls_hellos_refused),
        }
    }
}
