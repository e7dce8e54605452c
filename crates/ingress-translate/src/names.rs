//! AKO's Avi object names for Ingresses (AKO 1.14, `shared/reference/ako-ingress.md` §1-2).
//!
//! Every name starts with `<cluster>--`. `P` below is the Ingress path with every `/` replaced
//! by `_` ([`path_part`]).
//!
//! | object | SNI | EVH (`<cluster>--` + sha1hex of) |
//! | --- | --- | --- |
//! | shared parent VS = its VSVIP, PG, DataScript | `<c>--Shared-L7-<n>` | `<c>--Shared-L7-EVH-<n>` (not hashed) |
//! | dedicated VS | `<c>--<host>-L7-dedicated` | `Encode(<c>--<host>-L7-dedicated)` + `-EVH` |
//! | insecure pool (SNI shared PG member) | `<c>--<host>P-<ns>-<ing>` | - |
//! | child VS | `<c>--<host>` (secure hosts) | `<c>--<host>` (every host) |
//! | pool | `<c>--<ns>-<host>P-<ing>` (secure) | `<c>--<ns>-<host>P-<ing>-<svc>` |
//! | pool group | same as the pool | `<c>--<ns>-<host>P-<ing>` |
//! | HTTPPolicySet | `<c>--<ns>-<host>` | `<c>--<ns>-<host>` |
//! | SSLKeyAndCertificate | `<c>--<host>` | `<c>--<host>` |
//! | redirect policy set | the parent VS's name | the child VS's name |
//!
//! In SNI dedicated mode, pool and pool group names get the suffix `-L7-dedicated`.
//!
//! ```
//! use ingress_translate::names::{Names, fnv32a, shard};
//!
//! assert_eq!(fnv32a("foo.com"), 1_101_858_200);
//! assert_eq!(shard("bar.com", 8), Some(1));
//! let evh = Names::new("cl1", true);
//! assert_eq!(evh.child_vs("foo.com"), "cl1--97345264ac5fc7942d654f976dc6ac232e487f93");
//! ```

/// The longest name Avi takes (AKO's `lib/constants.go:300`).
pub use translate_core::names::MAX_NAME_LEN;

/// 32-bit FNV-1a of the raw bytes of `s` (AKO's `utils.Bkt` hashes the host with Go's
/// `fnv.New32a`).
#[must_use]
pub fn fnv32a(s: &str) -> u32 {
    const OFFSET_BASIS: u32 = 2_166_136_261;
    const PRIME: u32 = 16_777_619;
    s.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(PRIME)
    })
}

/// The shard of `host` among `shards` shared virtual services: `fnv32a(host) & (shards - 1)`,
/// a bitmask as in AKO (the host is not lowercased, the cluster not mixed in). `None` for 0
/// shards (dedicated mode).
#[must_use]
pub fn shard(host: &str, shards: u32) -> Option<u32> {
    (shards > 0).then(|| fnv32a(host) & (shards - 1))
}

pub use translate_core::names::sha1_hex;

/// `P` of the tables: the path with every `/` replaced by `_` (`/foo/bar` → `_foo_bar`).
#[must_use]
pub fn path_part(path: &str) -> String {
    path.replace('/', "_")
}

/// The names of one cluster in one mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    prefix: String,
    evh: bool,
}

impl Names {
    /// Names for cluster `cluster`, EVH (hashed) or SNI.
    #[must_use]
    pub fn new(cluster: &str, evh: bool) -> Self {
        Names {
            prefix: format!("{cluster}--"),
            evh,
        }
    }

    /// `<cluster>--`.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether these are EVH names.
    #[must_use]
    pub fn is_evh(&self) -> bool {
        self.evh
    }

    /// `<cluster>--<s>` in SNI mode; `<cluster>--` + sha1hex(`<cluster>--<s>`) in EVH mode.
    fn encoded(&self, s: &str) -> String {
        let plain = format!("{}{s}", self.prefix);
        if self.evh {
            format!("{}{}", self.prefix, sha1_hex(&plain))
        } else {
            plain
        }
    }

    /// Shared parent VS of shard `n` (also its VSVIP, shared pool group and DataScript):
    /// `<c>--Shared-L7-<n>`, or `<c>--Shared-L7-EVH-<n>` in EVH mode.
    #[must_use]
    pub fn shared_vs(&self, n: u32) -> String {
        if self.evh {
            format!("{}Shared-L7-EVH-{n}", self.prefix)
        } else {
            format!("{}Shared-L7-{n}", self.prefix)
        }
    }

    /// Dedicated VS of a host: `<c>--<host>-L7-dedicated`, or in EVH mode
    /// `<c>--` + sha1hex(`<c>--<host>-L7-dedicated`) + `-EVH`.
    #[must_use]
    pub fn dedicated_vs(&self, host: &str) -> String {
        let plain = format!("{}{host}-L7-dedicated", self.prefix);
        if self.evh {
            format!("{}{}-EVH", self.prefix, sha1_hex(&plain))
        } else {
            plain
        }
    }

    /// The parent VS of `host` with `shards` shared VSes (0: dedicated).
    #[must_use]
    pub fn parent_vs(&self, host: &str, shards: u32) -> String {
        match shard(host, shards) {
            Some(n) => self.shared_vs(n),
            None => self.dedicated_vs(host),
        }
    }

    /// Child VS of a host: `<c>--<host>` (SNI, secure hosts), hashed in EVH mode.
    #[must_use]
    pub fn child_vs(&self, host: &str) -> String {
        self.encoded(host)
    }

    /// SSLKeyAndCertificate of a host: named after the host, as the child VS.
    #[must_use]
    pub fn certificate(&self, host: &str) -> String {
        self.encoded(host)
    }

    /// HTTPPolicySet of a namespace's paths of a host: `<c>--<ns>-<host>` (hashed in EVH).
    #[must_use]
    pub fn policy_set(&self, ns: &str, host: &str) -> String {
        self.encoded(&format!("{ns}-{host}"))
    }

    /// SNI insecure pool on the shared pool group: `<c>--<host>P-<ns>-<ing>` (with
    /// `-L7-dedicated` in dedicated mode).
    #[must_use]
    pub fn insecure_pool(
        &self,
        host: &str,
        path: &str,
        ns: &str,
        ing: &str,
        dedicated: bool,
    ) -> String {
        let mut name = format!("{}{host}{}-{ns}-{ing}", self.prefix, path_part(path));
        if dedicated {
            name.push_str("-L7-dedicated");
        }
        name
    }

    /// Pool group of a path: `<c>--<ns>-<host>P-<ing>` (SNI secure pools have the same name;
    /// `-L7-dedicated` appended in SNI dedicated mode; hashed in EVH).
    #[must_use]
    pub fn pool_group(
        &self,
        ns: &str,
        host: &str,
        path: &str,
        ing: &str,
        dedicated: bool,
    ) -> String {
        let base = format!("{ns}-{host}{}-{ing}", path_part(path));
        if self.evh {
            self.encoded(&base)
        } else if dedicated {
            format!("{}{base}-L7-dedicated", self.prefix)
        } else {
            format!("{}{base}", self.prefix)
        }
    }

    /// Pool of a path with a secure host (SNI, same as [`Names::pool_group`]) or of any host
    /// in EVH mode, where the Service's name is part of the preimage:
    /// sha1hex(`<c>--<ns>-<host>P-<ing>-<svc>`).
    #[must_use]
    pub fn pool(
        &self,
        ns: &str,
        host: &str,
        path: &str,
        ing: &str,
        svc: &str,
        dedicated: bool,
    ) -> String {
        if self.evh {
            self.encoded(&format!("{ns}-{host}{}-{ing}-{svc}", path_part(path)))
        } else {
            self.pool_group(ns, host, path, ing, dedicated)
        }
    }
}

#[cfg(test)]
mod tests;
