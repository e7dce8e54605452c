//! Layer-4 virtual services (an application profile of type `APPLICATION_PROFILE_TYPE_L4`):
//! the Service Engine proxies TCP without looking at HTTP, and with an L4 DataScript that reads
//! the TLS server name (`VS_DATASCRIPT_EVT_L4_REQUEST` with the `Default-TLS` parser) it passes
//! TLS through to the pool the name selects.
//!
//! The emulator does not run Lua. It knows the meaning of the one L4 script a controller of ours
//! writes, the server-name selector (`avi_tls.get_sni` then `avi.poolgroup.select`), whose
//! `exact`, `wildcard` and `any` tables map names to pool groups: an exact name first, then the
//! longest wildcard suffix, then `any` (also for a ClientHello without a server name); no match,
//! or anything but a TLS ClientHello, closes the connection without a TLS alert
//! (`avi.vs.close_conn()`). A layer-4 service without
//! such a script sends every connection to its `pool_group_ref` or `pool_ref`.
//!
//! The ClientHello is read without being consumed: the bytes go to the server as they came, so
//! the TLS session is between the client and the server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Weak;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::balance;
use super::matching::{array, text};
use super::route::uuid_of;
use crate::api::Sim;
use crate::store::Store;

/// How long a client may take to send its ClientHello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest ClientHello record read (a TLS record holds at most 16 KiB).
const MAX_RECORD: usize = 5 + 16 * 1024;

/// Whether `vs_uuid` is a layer-4 virtual service.
pub fn is_l4(store: &Store, vs_uuid: &str) -> bool {
    store
        .object("virtualservice", vs_uuid)
        .and_then(|vs| vs.body.get("application_profile_ref"))
        .and_then(Value::as_str)
        .and_then(uuid_of)
        .and_then(|u| store.object("applicationprofile", &u))
        .and_then(|p| p.body.get("type"))
        .and_then(Value::as_str)
        == Some("APPLICATION_PROFILE_TYPE_L4")
}

/// The server name of a TLS ClientHello record, when `buf` holds a whole one: `Ok(Some)`,
/// `Ok(None)` for a ClientHello without one; `Err(true)` when more bytes are needed,
/// `Err(false)` when this is not a ClientHello.
pub fn client_hello_sni(buf: &[u8]) -> Result<Option<String>, bool> {
    if buf.len() < 5 {
        return Err(true);
    }
    // A handshake record of TLS 1.0-1.3 framing.
    if buf[0] != 0x16 || buf[1] != 0x03 {
        return Err(false);
    }
    let len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    let Some(record) = buf.get(5..5 + len) else {
        return Err(5 + len <= MAX_RECORD);
    };
    let mut r = Reader(record);
    // Handshake header: ClientHello (1), 3-byte length.
    if r.u8()? != 1 {
        return Err(false);
    }
    r.skip(3)?;
    r.skip(2 + 32)?; // version, random
    let session = usize::from(r.u8()?);
    r.skip(session)?;
    let suites = usize::from(r.u16()?);
    r.skip(suites)?;
    let compression = usize::from(r.u8()?);
    r.skip(compression)?;
    if r.0.is_empty() {
        return Ok(None);
    }
    let ext_len = usize::from(r.u16()?);
    let mut exts = Reader(r.take(ext_len)?);
    while !exts.0.is_empty() {
        let ty = exts.u16()?;
        let len = usize::from(exts.u16()?);
        let mut body = Reader(exts.take(len)?);
        if ty != 0 {
            continue;
        }
        // server_name: list length, then (type, length, name) entries; type 0 is a host name.
        let list = usize::from(body.u16()?);
        let mut list = Reader(body.take(list)?);
        while !list.0.is_empty() {
            let kind = list.u8()?;
            let len = usize::from(list.u16()?);
            let name = list.take(len)?;
            if kind == 0 {
                return std::str::from_utf8(name)
                    .ok()
                    .filter(|n| n.bytes().all(|b| b.is_ascii_graphic()))
                    .map(|n| Some(n.to_ascii_lowercase()))
                    .ok_or(false);
            }
        }
        return Ok(None);
    }
    Ok(None)
}

/// A bounds-checked reader over a ClientHello; running short is "not a ClientHello" (the
/// record was whole).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], bool> {
        if self.0.len() < n {
            return Err(false);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn skip(&mut self, n: usize) -> Result<(), bool> {
        self.take(n).map(|_| ())
    }
    fn u8(&mut self) -> Result<u8, bool> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Result<u16, bool> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
}

/// A name-to-pool-group table of the selector script.
fn table(script: &str, name: &str) -> BTreeMap<String, String> {
    let Some(start) = script.find(&format!("local {name} = {{\n")) else {
        return BTreeMap::new();
    };
    let body = &script[start..];
    let body = &body[..body.find("\n}").unwrap_or(body.len())];
    body.lines()
        .skip(1)
        .filter_map(|l| {
            let (k, v) = l.trim().trim_end_matches(',').split_once(" = ")?;
            let k = k.strip_prefix("[\"")?.strip_suffix("\"]")?;
            let v = v.strip_prefix('"')?.strip_suffix('"')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// The first bytes of a connection.
#[derive(Debug)]
enum Hello {
    /// A TLS ClientHello, with its server name if it has one.
    Tls(Option<String>),
    /// Anything else.
    NotTls,
}

/// What a connection to `vs_uuid` that began with `hello` is sent to: the uuid of a pool
/// group (`Some((true, uuid))`) or pool (`Some((false, uuid))`), or `None` to close it.
fn decide(store: &Store, vs_uuid: &str, hello: &Hello) -> Option<(bool, String)> {
    let vs = store.object("virtualservice", vs_uuid)?;
    for set in super::route::datascript_sets(store, vs) {
        for ds in array(set.body.get("datascript").unwrap_or(&Value::Null)) {
            if text(ds, "evt") != Some("VS_DATASCRIPT_EVT_L4_REQUEST") {
                continue;
            }
            let Some(script) = text(ds, "script").filter(|s| s.contains("avi_tls.get_sni")) else {
                continue;
            };
            let by_name = |name: &str| -> Option<String> {
                array(set.body.get("pool_group_refs").unwrap_or(&Value::Null))
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(uuid_of)
                    .find(|u| store.object("poolgroup", u).is_some_and(|g| g.name == name))
            };
            let (exact, wildcard) = (table(script, "exact"), table(script, "wildcard"));
            let any = script
                .lines()
                .find_map(|l| l.trim().strip_prefix("local any = "))
                .and_then(|v| v.strip_prefix('"')?.strip_suffix('"'))
                .map(str::to_owned);
            // The script: not a ClientHello closes; a ClientHello without a name (or with one
            // no table holds) falls back to `any`.
            let Hello::Tls(sni) = hello else {
                return None;
            };
            let chosen = sni.as_deref().and_then(|sni| {
                exact.get(sni).cloned().or_else(|| {
                    let mut rest = sni;
                    while let Some((_, r)) = rest.split_once('.') {
                        rest = r;
                        if let Some(pg) = wildcard.get(rest) {
                            return Some(pg.clone());
                        }
                    }
                    None
                })
            });
            return chosen
                .or(any)
                .and_then(|name| by_name(&name))
                .map(|u| (true, u));
        }
    }
    let field = |k: &str| vs.body.get(k).and_then(Value::as_str).and_then(uuid_of);
    field("pool_group_ref")
        .map(|u| (true, u))
        .or_else(|| field("pool_ref").map(|u| (false, u)))
}

/// Serves one connection to a layer-4 virtual service: reads the ClientHello, chooses a pool
/// and a server, replays the bytes read and copies both ways until either side closes.
pub async fn serve(sim: Weak<Sim>, vs_uuid: String, port: u16, mut client: TcpStream) {
    let mut buf = Vec::with_capacity(1024);
    // One deadline for the whole ClientHello, not per read: a client trickling bytes does not
    // hold the connection longer.
    let hello = tokio::time::timeout(HELLO_TIMEOUT, async {
        loop {
            match client_hello_sni(&buf) {
                Ok(sni) => return Some(Hello::Tls(sni)),
                Err(false) => return Some(Hello::NotTls),
                Err(true) => {}
            }
            let mut chunk = [0u8; 4096];
            match client.read(&mut chunk).await {
                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return None,
            }
        }
    })
    .await;
    let Ok(Some(hello)) = hello else {
        return;
    };
    let server = {
        let Some(sim) = sim.upgrade() else { return };
        let Some(dp) = sim.data_plane.as_ref() else {
            return;
        };
        let store = sim
            .store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some((group, uuid)) = decide(&store, &vs_uuid, &hello) else {
            tracing::debug!(vs = %vs_uuid, ?hello, "no pool for this connection: closed");
            return;
        };
        let pool_uuid = if group {
            let members = store
                .object("poolgroup", &uuid)
                .map(|g| balance::members(&store, &g.body, port))
                .unwrap_or_default();
            let roll = dp.balancer().roll();
            let Some(m) = balance::pick_member(&members, roll) else {
                return;
            };
            m.pool.clone()
        } else {
            uuid
        };
        let Some(pool) = store.object("pool", &pool_uuid) else {
            return;
        };
        let servers = balance::servers(&pool.body, port);
        let algorithm = pool.body.get("lb_algorithm").and_then(Value::as_str);
        let Some((server, in_flight)) = dp.pick_server(pool, algorithm, &servers) else {
            return;
        };
        (server.addr, in_flight)
    };
    let (addr, mut in_flight): (SocketAddr, _) = server;
    let Ok(Ok(mut upstream)) =
        tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr)).await
    else {
        return;
    };
    in_flight.record_sent();
    if upstream.write_all(&buf).await.is_err() {
        return;
    }
    in_flight.record_response();
    if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
        tracing::debug!(%error, "passthrough connection ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello as rustls sends it, for `name`.
    fn hello(name: &str) -> Vec<u8> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let mut conn = rustls::ClientConnection::new(
            std::sync::Arc::new(config),
            name.to_owned().try_into().unwrap(),
        )
        .unwrap();
        let mut out = Vec::new();
        conn.write_tls(&mut out).unwrap();
        out
    }

    #[test]
    fn the_server_name_is_read_from_a_client_hello_at_any_split() {
        let bytes = hello("abc.example.com");
        assert_eq!(client_hello_sni(&bytes), Ok(Some("abc.example.com".into())));
        for cut in [0, 3, 5, 40, bytes.len() - 1] {
            assert_eq!(client_hello_sni(&bytes[..cut]), Err(true), "{cut}");
        }
        assert_eq!(client_hello_sni(b"GET / HTTP/1.1\r\n\r\n"), Err(false));
        // A damaged length inside a whole record is refused, never read past.
        let mut broken = bytes.clone();
        broken[5 + 4 + 2 + 32] = 0xff;
        assert_eq!(client_hello_sni(&broken), Err(false));
    }

    #[test]
    fn the_selector_tables_are_read_from_the_script() {
        let script = "local exact = {\n  [\"abc.example.com\"] = \"pg-a\",\n}\nlocal wildcard = {\n  [\"example.com\"] = \"pg-w\",\n}\nlocal any = nil\n";
        assert_eq!(table(script, "exact")["abc.example.com"], "pg-a");
        assert_eq!(table(script, "wildcard")["example.com"], "pg-w");
        assert!(table(script, "other").is_empty());
    }
}
