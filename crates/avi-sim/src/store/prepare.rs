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
        generic_ref_sites(&body)
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
        allocate_vips(&mut body, store, existing);
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

/// Reference sites of a type the schema does not cover: any `*_ref` / `*_refs` string.
fn generic_ref_sites(body: &Map<String, Value>) -> Vec<RefSite> {
    fn walk(v: &Value, pointer: &str, in_ref: bool, out: &mut Vec<RefSite>) {
        match v {
            Value::String(s) if in_ref => out.push(RefSite {
                pointer: pointer.to_owned(),
                target: None,
                value: s.clone(),
            }),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{pointer}/{i}"), in_ref, out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let is_ref = k.ends_with("_ref") || k.ends_with("_refs");
                    walk(v, &format!("{pointer}/{}", escape(k)), is_ref, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&Value::Object(body.clone()), "", false, &mut out);
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

/// The network the emulated IPAM allocates auto-allocated VIPs from (AKO's own test doubles
/// use `10.250.250.x` too).
const IPAM_PREFIX: &str = "10.250.250.";

/// IPAM: a VIP with `auto_allocate_ip` and no address gets one, kept across updates (by
/// `vip_id`) and never shared with another VS VIP, as a controller with an IPAM profile does.
fn allocate_vips(body: &mut Map<String, Value>, store: &Store, existing: Option<&Object>) {
    let previous = |vip_id: &str| -> Option<Value> {
        existing?
            .body
            .get("vip")?
            .as_array()?
            .iter()
            .find(|v| v.get("vip_id").and_then(Value::as_str) == Some(vip_id))?
            .get("ip_address")
            .cloned()
    };
    let mut used: std::collections::BTreeSet<String> = store
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
        .filter_map(|v| {
            v.pointer("/ip_address/addr")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    let Some(vips) = body.get_mut("vip").and_then(Value::as_array_mut) else {
        return;
    };
    for vip in vips.iter_mut().filter_map(Value::as_object_mut) {
        let auto = vip.get("auto_allocate_ip").and_then(Value::as_bool) == Some(true);
        if !auto || vip.contains_key("ip_address") {
            continue;
        }
        let vip_id = vip
            .get("vip_id")
            .and_then(Value::as_str)
            .unwrap_or("0")
            .to_owned();
        let address = previous(&vip_id).or_else(|| {
            (1..=254)
                .map(|n| format!("{IPAM_PREFIX}{n}"))
                .find(|a| !used.contains(a))
                .map(|a| json!({"addr": a, "type": "V4"}))
        });
        if let Some(a) = address {
            if let Some(addr) = a.get("addr").and_then(Value::as_str) {
                used.insert(addr.to_owned());
            }
            vip.insert("ip_address".into(), a);
        }
    }
}
