//! Load balancing: a pool group member by `priority_label` and `ratio`, then a pool server by
//! the pool's `lb_algorithm`.
//!
//! A member is eligible when its ratio is above 0 and its pool exists, is enabled and has an
//! enabled server. Among the eligible members of the highest priority (a numeric
//! `priority_label`, higher first; none counts as 0), one is drawn at random weighted by ratio
//! (the dice are seeded by `SimConfig::seed`). Within the pool, `LB_ALGORITHM_ROUND_ROBIN`
//! cycles through the enabled servers weighted by their `ratio`, `LB_ALGORITHM_RANDOM` draws
//! one, and every other algorithm (the default is least connections) takes the server with the
//! fewest requests in flight, round robin among ties.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

use super::matching::{array, text};
use crate::store::Store;

/// Index of the entry `roll` falls on when each entry owns `weights[i]` consecutive numbers of
/// `0..sum`; entries of weight 0 are never chosen; `None` when every weight is 0.
pub fn pick_weighted(weights: &[u64], roll: u64) -> Option<usize> {
    let total: u64 = weights.iter().sum();
    if total == 0 {
        return None;
    }
    let mut r = roll % total;
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return Some(i);
        }
        r -= w;
    }
    None
}

/// One enabled pool server, where to send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Address and port.
    pub addr: SocketAddr,
    /// The server's `hostname` (for `rewrite_host_header_to_server_name`).
    pub hostname: Option<String>,
    /// Its `ratio` (1..=20).
    pub ratio: u64,
}

/// The enabled servers of a pool with an IP address: port from the server, else the pool's
/// `default_server_port` (80), or the virtual service port with `use_service_port`.
pub fn servers(pool: &Map<String, Value>, service_port: u16) -> Vec<Server> {
    let default_port = pool
        .get("default_server_port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(80);
    let use_service_port = pool.get("use_service_port").and_then(Value::as_bool) == Some(true);
    array(pool.get("servers").unwrap_or(&Value::Null))
        .iter()
        .filter(|s| s.get("enabled").and_then(Value::as_bool) != Some(false))
        .filter_map(|s| {
            let ip: IpAddr = s.get("ip").and_then(|ip| text(ip, "addr"))?.parse().ok()?;
            let port = s
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0)
                .unwrap_or(default_port);
            let port = if use_service_port { service_port } else { port };
            Some(Server {
                addr: SocketAddr::new(ip, port),
                hostname: text(s, "hostname").map(str::to_owned),
                ratio: s.get("ratio").and_then(Value::as_u64).unwrap_or(1).max(1),
            })
        })
        .collect()
}

/// Whether a pool can take traffic: it is enabled and has an enabled server.
pub fn pool_eligible(pool: &Map<String, Value>, service_port: u16) -> bool {
    pool.get("enabled").and_then(Value::as_bool) != Some(false)
        && !servers(pool, service_port).is_empty()
}

/// An eligible member of a pool group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The pool's uuid.
    pub pool: String,
    /// Its ratio (> 0).
    pub ratio: u64,
    /// Its numeric priority label (0 when none).
    pub priority: i64,
}

/// The eligible members of a pool group.
pub fn members(store: &Store, pool_group: &Map<String, Value>, service_port: u16) -> Vec<Member> {
    array(pool_group.get("members").unwrap_or(&Value::Null))
        .iter()
        .filter_map(|m| {
            let ratio = m.get("ratio").and_then(Value::as_u64).unwrap_or(1);
            let pool = super::route::uuid_of(text(m, "pool_ref")?)?;
            let body = &store.object("pool", &pool)?.body;
            (ratio > 0 && pool_eligible(body, service_port)).then(|| Member {
                pool,
                ratio,
                priority: text(m, "priority_label")
                    .and_then(|p| p.trim().parse().ok())
                    .unwrap_or(0),
            })
        })
        .collect()
}

/// The member `roll` picks among the eligible members of the highest priority.
pub fn pick_member(members: &[Member], roll: u64) -> Option<&Member> {
    let top = members.iter().map(|m| m.priority).max()?;
    let candidates: Vec<&Member> = members.iter().filter(|m| m.priority == top).collect();
    let weights: Vec<u64> = candidates.iter().map(|m| m.ratio).collect();
    pick_weighted(&weights, roll).and_then(|i| candidates.get(i).copied())
}

/// Load balancing state: the dice, round-robin positions and requests in flight.
#[derive(Debug)]
pub struct Balancer {
    rng: StdRng,
    next: HashMap<String, u64>,
    in_flight: HashMap<(String, SocketAddr), u64>,
}

impl Balancer {
    /// Dice seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Balancer {
            rng: StdRng::seed_from_u64(seed),
            next: HashMap::new(),
            in_flight: HashMap::new(),
        }
    }

    /// A random number for [`pick_weighted`] and [`pick_member`].
    pub fn roll(&mut self) -> u64 {
        self.rng.random()
    }

    /// The server of `pool` (uuid) with `algorithm` to send the next request to.
    pub fn pick_server(
        &mut self,
        pool: &str,
        algorithm: Option<&str>,
        servers: &[Server],
    ) -> Option<usize> {
        if servers.is_empty() {
            return None;
        }
        let turn = {
            let n = self.next.entry(pool.to_owned()).or_default();
            let t = *n;
            *n = n.wrapping_add(1);
            t
        };
        match algorithm {
            Some("LB_ALGORITHM_ROUND_ROBIN") => {
                let weights: Vec<u64> = servers.iter().map(|s| s.ratio).collect();
                pick_weighted(&weights, turn)
            }
            Some("LB_ALGORITHM_RANDOM") => {
                let weights: Vec<u64> = servers.iter().map(|s| s.ratio).collect();
                let roll = self.roll();
                pick_weighted(&weights, roll)
            }
            _ => {
                let load = |s: &Server| self.in_flight(pool, s.addr);
                let least = servers.iter().map(load).min().unwrap_or(0);
                let ties: Vec<usize> = (0..servers.len())
                    .filter(|i| servers.get(*i).is_some_and(|s| load(s) == least))
                    .collect();
                let len = u64::try_from(ties.len()).unwrap_or(1).max(1);
                ties.get(usize::try_from(turn % len).unwrap_or(0)).copied()
            }
        }
    }

    /// A request to `addr` of `pool` starts.
    pub fn begin(&mut self, pool: &str, addr: SocketAddr) {
        *self.in_flight.entry((pool.to_owned(), addr)).or_default() += 1;
    }

    /// Requests to `addr` of `pool` in flight now.
    pub fn in_flight(&self, pool: &str, addr: SocketAddr) -> u64 {
        self.in_flight
            .get(&(pool.to_owned(), addr))
            .copied()
            .unwrap_or(0)
    }

    /// A request to `addr` of `pool` ended.
    pub fn end(&mut self, pool: &str, addr: SocketAddr) {
        if let Some(n) = self.in_flight.get_mut(&(pool.to_owned(), addr)) {
            *n = n.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn weighted_picks_follow_the_ratios() {
        let weights = [3, 0, 1];
        let picks: Vec<usize> = (0..8).filter_map(|r| pick_weighted(&weights, r)).collect();
        assert_eq!(picks, [0, 0, 0, 2, 0, 0, 0, 2]);
        assert_eq!(pick_weighted(&[0, 0], 5), None);
        assert_eq!(pick_weighted(&[], 5), None);
    }

    #[test]
    fn members_of_the_highest_priority_win() {
        let m = |pool: &str, ratio, priority| Member {
            pool: pool.into(),
            ratio,
            priority,
        };
        let all = [m("low", 100, 0), m("a", 1, 10), m("b", 1, 10)];
        let picked: Vec<&str> = (0..4)
            .filter_map(|r| pick_member(&all, r))
            .map(|m| m.pool.as_str())
            .collect();
        assert_eq!(picked, ["a", "b", "a", "b"]);
        assert!(pick_member(&[], 0).is_none());
    }

    #[test]
    fn servers_take_their_port_or_the_pools() {
        let pool = json!({"default_server_port": 8080, "servers": [
            {"ip": {"addr": "10.0.0.1", "type": "V4"}, "port": 9000, "hostname": "10.0.0.1"},
            {"ip": {"addr": "10.0.0.2", "type": "V4"}},
            {"ip": {"addr": "10.0.0.3", "type": "V4"}, "enabled": false},
            {"hostname": "no-ip.example.com"}]});
        let s = servers(pool.as_object().unwrap(), 443);
        let addrs: Vec<String> = s.iter().map(|s| s.addr.to_string()).collect();
        assert_eq!(addrs, ["10.0.0.1:9000", "10.0.0.2:8080"]);
        assert!(pool_eligible(pool.as_object().unwrap(), 443));
        let off = json!({"enabled": false, "servers": [{"ip": {"addr": "10.0.0.1"}}]});
        assert!(!pool_eligible(off.as_object().unwrap(), 443));
        let service =
            json!({"use_service_port": true, "servers": [{"ip": {"addr": "10.0.0.1"}, "port": 1}]});
        assert_eq!(
            servers(service.as_object().unwrap(), 443)[0].addr.port(),
            443
        );
    }

    #[test]
    fn least_connections_round_robins_ties_and_avoids_busy_servers() {
        let s = |n: u8| Server {
            addr: SocketAddr::from(([10, 0, 0, n], 80)),
            hostname: None,
            ratio: 1,
        };
        let servers = [s(1), s(2)];
        let mut b = Balancer::new(0);
        assert_eq!(b.pick_server("p", None, &servers), Some(0));
        assert_eq!(b.pick_server("p", None, &servers), Some(1));
        b.begin("p", servers[0].addr);
        assert_eq!(b.pick_server("p", None, &servers), Some(1));
        assert_eq!(b.pick_server("p", None, &servers), Some(1));
        b.end("p", servers[0].addr);
        let rr: Vec<Option<usize>> = (0..3)
            .map(|_| b.pick_server("q", Some("LB_ALGORITHM_ROUND_ROBIN"), &servers))
            .collect();
        assert_eq!(rr, [Some(0), Some(1), Some(0)]);
        assert_eq!(b.pick_server("p", None, &[]), None);
    }
}
