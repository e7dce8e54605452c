//! The write path shared by POST, PUT and PATCH: validate against the schema, fill defaults and
//! implicit references, resolve every reference, compute certificate fields, check uniqueness.

use serde_json::{Map, Value, json};

use super::refs::{self, RefSpec};
use super::types::TypeInfo;
use super::{ADMIN, ApiError, Object, Store, StoredRef, TenantScope, WriteOptions};
use crate::certs;
use crate::schema::{CheckOptions, RefSite, Schema};

/// What the write path hands back to the store.
pub(super) struct Prepared {
    pub tenant: String,
    pub cloud: Option<String>,
    pub name: String,
    pub body: Map<String, Value>,
    pub refs: Vec<StoredRef>,
    pub secret: Option<String>,
    pub chain: Option<String>,
}

/// The key placeholder a GET returns; a PUT that echoes it keeps the stored key.
pub const SENSITIVE: &str = "<sensitive>";

/// Fields the controller computes or owns: accepted from clients and ignored.
const READ_ONLY: &[&str] = &["uuid", "url", "_last_modified"];

pub(super) fn prepare(
    store: &Store,
    info: &'static TypeInfo,
    body: Value,
    scope: &TenantScope,
    existing: Option<&Object>,
    opts: &WriteOptions,
) -> Result<Prepared, ApiError> {
    let Value::Object(mut body) = body else {
        return Err(ApiError::bad_request("Request body must be a JSON object"));
    };
    for f in READ_ONLY {
        body.remove(*f);
    }
    let name = match body.get("name") {
        Some(Value::String(n)) if !n.is_empty() => n.clone(),
        Some(Value::String(_)) | None => {
            return Err(ApiError::bad_request("Field 'name' is required"));
        }
        Some(_) => return Err(ApiError::bad_request("Field 'name' must be a string")),
    };
    let write_tenant =
        existing.map_or_else(|| scope.write_tenant().to_owned(), |e| e.tenant.clone());
    let tenant_scope = TenantScope::One(write_tenant.clone());

    // The key is a secret: take it out of the body before anything could echo it.
    let key = body.remove("key");

    let schema = Schema::embedded().map_err(|e| ApiError::new(500, e.to_string()))?;
    let sites: Vec<RefSite> = if schema.model_for_type(info.name).is_some() {
        let check = CheckOptions {
            api_version: opts.api_version.clone(),
            reject_unknown_fields: opts.reject_unknown_fields,
            fill_defaults: true,
        };
        schema
            .check(info.name, &mut body, &check)
            .map_err(|e| ApiError::bad_request(e.to_string()))?
    } else {
        generic_ref_sites(info.name, &body)
    };
    // After the schema check: these are the controller's own values, never version-gated.
    let mut sites = sites;
    sites.extend(add_implicit_refs(info, &mut body, store, &write_tenant));

    let mut stored = Vec::with_capacity(sites.len());
    for site in sites {
        let target = resolve(store, &site, &tenant_scope)?;
        if let Some(slot) = body_pointer_mut(&mut body, &site.pointer) {
            *slot = Value::String(format!("/api/{}/{}", target.ty, target.uuid));
        }
        stored.push(StoredRef {
            pointer: site.pointer,
            ty: target.ty.clone(),
            uuid: target.uuid.clone(),
        });
    }

    let mut tenant = write_tenant;
    if let Some(r) = stored.iter().find(|r| r.pointer == "/tenant_ref") {
        tenant = r.uuid.clone();
    }
    if info.global {
        body.remove("tenant_ref");
        stored.retain(|r| r.pointer != "/tenant_ref");
        tenant = ADMIN.to_owned();
    }
    let cloud = if info.cloud_scoped {
        stored
            .iter()
            .find(|r| r.pointer == "/cloud_ref")
            .map(|r| r.uuid.clone())
    } else {
        None
    };

    if info.name == "pool" {
        default_server_hostnames(&mut body);
    }
    if info.name == "vsvip" {
        allocate_vips(&mut body, store, existing, cloud.as_deref())?;
    }
    let (secret, chain) = match info.name {
        "sslkeyandcertificate" => certificate_fields(&mut body, key, existing)?,
        "pkiprofile" => {
            ca_cert_fields(&mut body)?;
            (None, None)
        }
        _ => (None, None),
    };

    let holder = store.name_holder(info.name, &tenant, cloud.as_deref(), &name);
    if holder.is_some_and(|h| existing.is_none_or(|e| e.uuid != h)) {
        return Err(ApiError::new(409, info.duplicate_message()));
    }
    Ok(Prepared {
        tenant,
        cloud,
        name,
        body,
        refs: stored,
        secret,
        chain,
    })
}

/// What the controller fills in when a client leaves it out; returns the new reference sites.
fn add_implicit_refs(
    info: &TypeInfo,
    body: &mut Map<String, Value>,
    store: &Store,
    tenant: &str,
) -> Vec<RefSite> {
    let mut added = Vec::new();
    let mut default = |body: &mut Map<String, Value>, field: &str, ty: &str, name: &str| {
        if !body.contains_key(field) {
            let value = format!("/api/{ty}/?name={name}");
            body.insert(field.to_owned(), Value::String(value.clone()));
            added.push(RefSite {
                pointer: format!("/{field}"),
                target: Some(ty.to_owned()),
                value,
            });
        }
    };
    if !info.global {
        let tenant_name = store
            .object("tenant", tenant)
            .map_or_else(|| ADMIN.to_owned(), |t| t.name.clone());
        default(body, "tenant_ref", "tenant", &tenant_name);
    }
    if info.cloud_scoped && info.name != "cloud" {
        default(body, "cloud_ref", "cloud", "Default-Cloud");
    }
    match info.name {
        "pool" => {
            default(body, "vrf_ref", "vrfcontext", "global");
            default(
                body,
                "analytics_profile_ref",
                "analyticsprofile",
                "System-Analytics-Profile",
            );
        }
        "vsvip" => default(body, "vrf_context_ref", "vrfcontext", "global"),
        "virtualservice" => {
            default(
                body,
                "application_profile_ref",
                "applicationprofile",
                "System-HTTP",
            );
            default(
                body,
                "network_profile_ref",
                "networkprofile",
                "System-TCP-Proxy",
            );
            default(body, "se_group_ref", "serviceenginegroup", "Default-Group");
            default(body, "vrf_context_ref", "vrfcontext", "global");
            default(
                body,
                "analytics_profile_ref",
                "analyticsprofile",
                "System-Analytics-Profile",
            );
            let ssl = body
                .get("services")
                .and_then(Value::as_array)
                .is_some_and(|s| {
                    s.iter()
                        .any(|svc| svc.get("enable_ssl").and_then(Value::as_bool) == Some(true))
                });
            if ssl {
                default(body, "ssl_profile_ref", "sslprofile", "System-Standard-PFS");
            }
        }
        _ => {}
    }
    added
}

/// Reference fields of types the schema does not cover whose target type their name does not
/// spell: `(type, field, target)` (the Avi object model's `ref_to`).
const REF_TARGETS: &[(&str, &str, &str)] = &[
    ("cloud", "ipam_provider_ref", "ipamdnsproviderprofile"),
    ("cloud", "dns_provider_ref", "ipamdnsproviderprofile"),
    (
        "cloud",
        "east_west_ipam_provider_ref",
        "ipamdnsproviderprofile",
    ),
    (
        "cloud",
        "east_west_dns_provider_ref",
        "ipamdnsproviderprofile",
    ),
    ("ipamdnsproviderprofile", "nw_ref", "network"),
    ("serviceenginegroup", "mgmt_network_ref", "network"),
    ("vrfcontext", "cloud_ref", "cloud"),
];

/// The type a reference field of `ty` points at: from [`REF_TARGETS`], else from its name
/// when that names a type (`cloud_ref`, `vrf_context_ref`, `tenant_ref`, ...).
fn ref_target(ty: &str, field: &str) -> Option<String> {
    if let Some((_, _, t)) = REF_TARGETS.iter().find(|(o, f, _)| *o == ty && *f == field) {
        return Some((*t).to_owned());
    }
    let stem = field
        .strip_suffix("_refs")
        .or_else(|| field.strip_suffix("_ref"))?
        .replace('_', "");
    super::types::lookup(&stem).map(|t| t.name.to_owned())
}

/// Reference sites of a type the schema does not cover: any `*_ref` / `*_refs` string, typed
/// where the field's target is known (a reference to another type is then refused).
fn generic_ref_sites(ty: &str, body: &Map<String, Value>) -> Vec<RefSite> {
    fn walk(ty: &str, v: &Value, pointer: &str, field: Option<&str>, out: &mut Vec<RefSite>) {
        match v {
            Value::String(s) if field.is_some() => out.push(RefSite {
                pointer: pointer.to_owned(),
                target: field.and_then(|f| ref_target(ty, f)),
                value: s.clone(),
            }),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(ty, item, &format!("{pointer}/{i}"), field, out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let is_ref = k.ends_with("_ref") || k.ends_with("_refs");
                    walk(
                        ty,
                        v,
                        &format!("{pointer}/{}", escape(k)),
                        is_ref.then_some(k.as_str()),
                        out,
                    );
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(ty, &Value::Object(body.clone()), "", None, &mut out);
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn body_pointer_mut<'a>(body: &'a mut Map<String, Value>, pointer: &str) -> Option<&'a mut Value> {
    let rest = pointer.strip_prefix('/')?;
    let (first, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(a, b)| (a, Some(b)));
    let first = first.replace("~1", "/").replace("~0", "~");
    let v = body.get_mut(&first)?;
    match tail {
        None => Some(v),
        Some(t) => v.pointer_mut(&format!("/{t}")),
    }
}

/// Resolves one reference as the controller does: by uuid or by name, in the request's tenant
/// with admin's shared objects as a fallback.
fn resolve<'s>(
    store: &'s Store,
    site: &RefSite,
    scope: &TenantScope,
) -> Result<&'s Object, ApiError> {
    let field = site.pointer.trim_start_matches('/');
    let spec = refs::parse(&site.value).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid reference '{}' in field {field}",
            site.value
        ))
    })?;
    if let Some(expected) = site.target.as_ref().filter(|t| *t != spec.ty()) {
        return Err(ApiError::bad_request(format!(
            "Field {field} must refer to an object of type {expected}, not {}",
            spec.ty()
        )));
    }
    let info = super::types::lookup(spec.ty()).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Unknown object type '{}' in field {field}",
            spec.ty()
        ))
    })?;
    let found = match &spec {
        RefSpec::Uuid { uuid, .. } => store.get(info.name, uuid, scope),
        RefSpec::Name { name, .. } => store.find_by_name(info.name, name, scope),
    };
    found.ok_or_else(|| {
        ApiError::bad_request(format!("{} object not found: {}", info.model, site.value))
    })
}

/// SSLKeyAndCertificate: parse the certificate, fill the computed fields, check the key.
/// Returns the key and the chain uploaded after the leaf (both kept out of the body).
fn certificate_fields(
    body: &mut Map<String, Value>,
    key: Option<Value>,
    existing: Option<&Object>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let pem = body
        .get("certificate")
        .and_then(|c| c.get("certificate"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request("Field 'certificate.certificate' is required"))?;
    let now = time::OffsetDateTime::now_utc();
    let described =
        certs::describe_certificate(&pem, now).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let key_params = certs::key_params(&pem).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let chain = certs::chain_after_leaf(&pem);
    body.insert("certificate".into(), Value::Object(described));
    body.insert("key_params".into(), key_params);
    let key = match key {
        Some(Value::String(k)) if k == SENSITIVE => existing.and_then(|e| e.secret.clone()),
        Some(Value::String(k)) if k.is_empty() => None,
        Some(Value::String(k)) => Some(k),
        Some(Value::Null) | None => None,
        Some(_) => return Err(ApiError::bad_request("Field 'key' must be a string")),
    };
    if let Some(k) = &key {
        certs::check_key_matches(&pem, k).map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    Ok((key, chain))
}

/// PKIProfile: every CA certificate is parsed and described.
fn ca_cert_fields(body: &mut Map<String, Value>) -> Result<(), ApiError> {
    let now = time::OffsetDateTime::now_utc();
    if let Some(Value::Array(cas)) = body.get_mut("ca_certs") {
        for (i, ca) in cas.iter_mut().enumerate() {
            let pem = ca
                .get("certificate")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("Field 'ca_certs[{i}].certificate' is required"))
                })?;
            let described = certs::describe_certificate(pem, now)
                .map_err(|e| ApiError::bad_request(format!("ca_certs[{i}]: {e}")))?;
            *ca = Value::Object(described);
        }
    }
    Ok(())
}

/// Pool servers: `hostname` defaults to the server's address.
fn default_server_hostnames(body: &mut Map<String, Value>) {
    if let Some(Value::Array(servers)) = body.get_mut("servers") {
        for server in servers.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(addr) = server.get("ip").and_then(|ip| ip.get("addr")).cloned() {
                server.entry("hostname").or_insert(addr);
            }
        }
    }
}

/// IPAM: a VIP with `auto_allocate_ip` and no address gets one from a `STATIC_IPS_FOR_VIP`
/// range of a network, kept across updates (by `vip_id`) and never shared with another VS VIP.
/// The network is the VIP's `ipam_network_subnet.network_ref` (which must be one of the cloud's
/// IPAM networks) or else the first of the cloud's IPAM networks with a free address; a cloud
/// without an IPAM profile, or networks with no free address, are refused as the controller
/// refuses them.
fn allocate_vips(
    body: &mut Map<String, Value>,
    store: &Store,
    existing: Option<&Object>,
    cloud: Option<&str>,
) -> Result<(), ApiError> {
    let previous = |vip_id: &str, field: &str| -> Option<Value> {
        existing?
            .body
            .get("vip")?
            .as_array()?
            .iter()
            .find(|v| v.get("vip_id").and_then(Value::as_str) == Some(vip_id))?
            .get(field)
            .cloned()
    };
    let mut used: std::collections::BTreeSet<std::net::IpAddr> = store
        .all_objects()
        .into_iter()
        .filter(|o| o.ty == "vsvip")
        .filter(|o| existing.is_none_or(|e| e.uuid != o.uuid))
        .flat_map(|o| {
            o.body
                .get("vip")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|v| {
            ["/ip_address/addr", "/ip6_address/addr"]
                .into_iter()
                .filter_map(|p| {
                    v.pointer(p)
                        .and_then(Value::as_str)
                        .and_then(|a| a.parse().ok())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let Some(vips) = body.get_mut("vip").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for vip in vips.iter_mut().filter_map(Value::as_object_mut) {
        let auto = vip.get("auto_allocate_ip").and_then(Value::as_bool) == Some(true);
        if !auto {
            continue;
        }
        let vip_id = vip
            .get("vip_id")
            .and_then(Value::as_str)
            .unwrap_or("0")
            .to_owned();
        let kind = vip
            .get("auto_allocate_ip_type")
            .and_then(Value::as_str)
            .unwrap_or("V4_ONLY")
            .to_owned();
        let families: &[(&str, bool)] = match kind.as_str() {
            "V6_ONLY" => &[("ip6_address", true)],
            "V4_V6" => &[("ip_address", false), ("ip6_address", true)],
            _ => &[("ip_address", false)],
        };
        for (field, v6) in families {
            if vip.contains_key(*field) {
                continue;
            }
            let address = match previous(&vip_id, field) {
                Some(a) => a,
                None => {
                    let networks = vip_networks(store, vip, cloud)?;
                    let ip = networks
                        .iter()
                        .find_map(|n| free_address(n, vip, *v6, &used))
                        .ok_or_else(|| ApiError::bad_request("No available free IPs"))?;
                    json!({"addr": ip.to_string(), "type": if *v6 { "V6" } else { "V4" }})
                }
            };
            if let Some(ip) = address
                .get("addr")
                .and_then(Value::as_str)
                .and_then(|a| a.parse().ok())
            {
                used.insert(ip);
            }
            vip.insert((*field).to_owned(), address);
        }
    }
    Ok(())
}

/// The networks a VIP may take an address from (see [`allocate_vips`]).
fn vip_networks<'s>(
    store: &'s Store,
    vip: &Map<String, Value>,
    cloud: Option<&str>,
) -> Result<Vec<&'s Object>, ApiError> {
    let cloud_obj = cloud.and_then(|c| store.object("cloud", c));
    let cloud_name = cloud_obj.map_or("Default-Cloud", |c| c.name.as_str());
    let profile = cloud_obj
        .and_then(|c| c.body.get("ipam_provider_ref"))
        .and_then(Value::as_str)
        .and_then(uuid_of)
        .and_then(|u| store.object("ipamdnsproviderprofile", u))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Cloud {cloud_name} has no IPAM profile: a VIP cannot be allocated automatically; give an address or set the cloud's ipam_provider_ref"
            ))
        })?;
    let usable: Vec<&Object> = profile
        .body
        .get("internal_profile")
        .and_then(|p| p.get("usable_networks"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| n.get("nw_ref").and_then(Value::as_str).and_then(uuid_of))
        .filter_map(|u| store.object("network", u))
        .collect();
    let asked = vip
        .get("ipam_network_subnet")
        .and_then(|s| s.get("network_ref"))
        .and_then(Value::as_str)
        .and_then(uuid_of);
    match asked {
        None => Ok(usable),
        Some(u) => {
            let network = store
                .object("network", u)
                .ok_or_else(|| ApiError::bad_request("Network object not found"))?;
            if !usable.iter().any(|n| n.uuid == network.uuid) {
                return Err(ApiError::bad_request(format!(
                    "Network {} is not a usable network of IPAM profile {} of cloud {cloud_name}",
                    network.name, profile.name
                )));
            }
            Ok(vec![network])
        }
    }
}

/// The uuid of a resolved reference (`/api/<type>/<uuid>`).
fn uuid_of(r: &str) -> Option<&str> {
    r.rsplit('/')
        .next()
        .map(|u| u.split('#').next().unwrap_or(u))
}

fn addr(v: Option<&Value>) -> Option<std::net::IpAddr> {
    v?.get("addr")?.as_str()?.parse().ok()
}

/// The first address of `network`'s VIP ranges (within the VIP's `ipam_network_subnet.subnet`
/// when given) that no VS VIP uses.
fn free_address(
    network: &Object,
    vip: &Map<String, Value>,
    v6: bool,
    used: &std::collections::BTreeSet<std::net::IpAddr>,
) -> Option<std::net::IpAddr> {
    let wanted_subnet = vip
        .get("ipam_network_subnet")
        .and_then(|s| s.get(if v6 { "subnet6" } else { "subnet" }))
        .and_then(|p| Some((addr(p.get("ip_addr"))?, p.get("mask")?.as_u64()?)));
    let subnets = network
        .body
        .get("configured_subnets")
        .and_then(Value::as_array)?;
    for subnet in subnets {
        let prefix = subnet
            .get("prefix")
            .and_then(|p| Some((addr(p.get("ip_addr"))?, p.get("mask")?.as_u64()?)));
        if wanted_subnet.is_some() && prefix != wanted_subnet {
            continue;
        }
        for range in subnet
            .get("static_ip_ranges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let for_vip = matches!(
                range.get("type").and_then(Value::as_str),
                None | Some("STATIC_IPS_FOR_VIP" | "STATIC_IPS_FOR_VIP_AND_SE")
            );
            let (Some(begin), Some(end)) = (
                addr(range.pointer("/range/begin")),
                addr(range.pointer("/range/end")),
            ) else {
                continue;
            };
            if !for_vip || begin.is_ipv6() != v6 || end.is_ipv6() != v6 {
                continue;
            }
            let (b, e) = (ip_number(begin), ip_number(end));
            // Only as many candidates as there are used addresses, plus one: enough to find a
            // free one in any range, and bounded whatever size the range claims.
            let span = u128::try_from(used.len())
                .unwrap_or(u128::MAX)
                .saturating_add(1);
            let last = e.min(b.saturating_add(span));
            let mut n = b;
            while n <= last {
                let ip = ip_from(n, v6);
                if !used.contains(&ip) {
                    return Some(ip);
                }
                n += 1;
            }
        }
    }
    None
}

fn ip_number(ip: std::net::IpAddr) -> u128 {
    match ip {
        std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
        std::net::IpAddr::V6(a) => u128::from(a),
    }
}

fn ip_from(n: u128, v6: bool) -> std::net::IpAddr {
    if v6 {
        std::net::IpAddr::V6(std::net::Ipv6Addr::from(n))
    } else {
        std::net::IpAddr::V4(std::net::Ipv4Addr::from(
            u32::try_from(n).unwrap_or(u32::MAX),
        ))
    }
}
