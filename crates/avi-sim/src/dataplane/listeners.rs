//! Which listeners the configuration asks for: one per (virtual service, VIP address, service
//! port) of every live virtual service that is not a virtual hosting child, has `services`
//! and a `vsvip_ref` whose enabled VIPs have an IPv4 or IPv6 address.

use std::net::IpAddr;

use serde_json::Value;

use super::matching::array;
use super::route::{live, uuid_of};
use crate::store::{ListFilter, Store, TenantScope};

/// A service port range is opened port by port, at most this many ports per service.
pub const MAX_PORTS_PER_SERVICE: u16 = 16;

/// One listener the configuration asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The virtual service's uuid.
    pub vs_uuid: String,
    /// Its name.
    pub vs_name: String,
    /// The VIP address.
    pub vip: IpAddr,
    /// The service port.
    pub port: u16,
    /// Whether the service terminates TLS (`enable_ssl`).
    pub tls: bool,
}

impl Wanted {
    /// What identifies the listener across reconciliations.
    pub fn key(&self) -> (String, IpAddr, u16) {
        (self.vs_uuid.clone(), self.vip, self.port)
    }
}

/// Every listener the store asks for, in virtual service creation order.
pub fn wanted(store: &Store) -> Vec<Wanted> {
    // Only virtual services are scanned (in creation order): this runs after every write.
    let vss: Vec<_> = store
        .list("virtualservice", &TenantScope::All, &ListFilter::default())
        .into_iter()
        .filter(|o| live(&o.body))
        .filter(|o| o.body.get("type").and_then(Value::as_str) != Some("VS_TYPE_VH_CHILD"))
        .collect();
    let mut out = Vec::new();
    for vs in vss {
        let Some(vsvip) = vs
            .body
            .get("vsvip_ref")
            .and_then(Value::as_str)
            .and_then(uuid_of)
            .and_then(|u| store.object("vsvip", &u))
        else {
            continue;
        };
        let vips: Vec<IpAddr> = array(vsvip.body.get("vip").unwrap_or(&Value::Null))
            .iter()
            .filter(|v| v.get("enabled").and_then(Value::as_bool) != Some(false))
            .flat_map(|v| {
                ["ip_address", "ip6_address"]
                    .into_iter()
                    .filter_map(|k| v.get(k)?.get("addr")?.as_str()?.parse::<IpAddr>().ok())
                    .collect::<Vec<_>>()
            })
            .collect();
        for service in array(vs.body.get("services").unwrap_or(&Value::Null)) {
            let Some(first) = service
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0)
            else {
                continue;
            };
            let last = service
                .get("port_range_end")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > first)
                .unwrap_or(first)
                .min(first.saturating_add(MAX_PORTS_PER_SERVICE - 1));
            let tls = service.get("enable_ssl").and_then(Value::as_bool) == Some(true);
            for vip in &vips {
                for port in first..=last {
                    let w = Wanted {
                        vs_uuid: vs.uuid.clone(),
                        vs_name: vs.name.clone(),
                        vip: *vip,
                        port,
                        tls,
                    };
                    if !out.iter().any(|o: &Wanted| o.key() == w.key()) {
                        out.push(w);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ADMIN, TenantScope, WriteOptions};
    use serde_json::json;

    fn create(s: &mut Store, ty: &str, body: Value) {
        s.create(
            ty,
            body,
            &TenantScope::One(ADMIN.into()),
            None,
            &WriteOptions::default(),
        )
        .unwrap();
    }

    #[test]
    fn live_virtual_services_with_addresses_get_listeners() {
        let mut s = Store::new().unwrap();
        create(
            &mut s,
            "vsvip",
            json!({"name": "auto", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
        );
        create(
            &mut s,
            "vsvip",
            json!({"name": "lo", "vip": [{"vip_id": "0", "ip_address": {"addr": "127.0.0.9", "type": "V4"}}]}),
        );
        create(
            &mut s,
            "vsvip",
            json!({"name": "none", "vip": [{"vip_id": "0"}]}),
        );
        create(
            &mut s,
            "virtualservice",
            json!({"name": "web", "vsvip_ref": "/api/vsvip/?name=auto",
            "services": [{"port": 80}, {"port": 443, "enable_ssl": true}]}),
        );
        create(
            &mut s,
            "virtualservice",
            json!({"name": "off", "enabled": false, "vsvip_ref": "/api/vsvip/?name=lo",
            "services": [{"port": 80}]}),
        );
        create(
            &mut s,
            "virtualservice",
            json!({"name": "range", "vsvip_ref": "/api/vsvip/?name=lo",
            "services": [{"port": 8000, "port_range_end": 8002}]}),
        );
        create(
            &mut s,
            "virtualservice",
            json!({"name": "noaddr", "vsvip_ref": "/api/vsvip/?name=none",
            "services": [{"port": 80}]}),
        );
        create(
            &mut s,
            "virtualservice",
            json!({"name": "noservice", "vsvip_ref": "/api/vsvip/?name=lo"}),
        );
        let got: Vec<(String, String, u16, bool)> = wanted(&s)
            .into_iter()
            .map(|w| (w.vs_name, w.vip.to_string(), w.port, w.tls))
            .collect();
        assert_eq!(
            got,
            [
                ("web".into(), "10.250.250.1".into(), 80, false),
                ("web".into(), "10.250.250.1".into(), 443, true),
                ("range".into(), "127.0.0.9".into(), 8000, false),
                ("range".into(), "127.0.0.9".into(), 8001, false),
                ("range".into(), "127.0.0.9".into(), 8002, false),
            ]
        );
    }
}
