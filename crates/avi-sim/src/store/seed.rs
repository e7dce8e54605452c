//! What a freshly installed controller already holds.

use serde_json::{Value, json};

use super::{ADMIN, ApiError, Store, TenantScope, WriteOptions};

/// System objects: `(type, body)`, created in this order in the admin tenant.
fn system_objects() -> Vec<(&'static str, Value)> {
    let tls = json!([{"type": "SSL_VERSION_TLS1_2"}, {"type": "SSL_VERSION_TLS1_3"}]);
    vec![
        (
            "cloud",
            json!({"name": "Default-Cloud", "vtype": "CLOUD_NONE"}),
        ),
        ("vrfcontext", json!({"name": "global"})),
        ("vrfcontext", json!({"name": "management"})),
        ("serviceenginegroup", json!({"name": "Default-Group"})),
        (
            "sslprofile",
            json!({"name": "System-Standard", "accepted_versions": tls}),
        ),
        (
            "sslprofile",
            json!({"name": "System-Standard-PFS", "accepted_versions": tls}),
        ),
        (
            "applicationprofile",
            json!({"name": "System-HTTP", "type": "APPLICATION_PROFILE_TYPE_HTTP"}),
        ),
        (
            "applicationprofile",
            json!({"name": "System-Secure-HTTP", "type": "APPLICATION_PROFILE_TYPE_HTTP"}),
        ),
        (
            "applicationprofile",
            json!({"name": "System-L4-Application", "type": "APPLICATION_PROFILE_TYPE_L4"}),
        ),
        (
            "networkprofile",
            json!({"name": "System-TCP-Proxy", "profile": {"type": "PROTOCOL_TYPE_TCP_PROXY"}}),
        ),
        (
            "networkprofile",
            json!({"name": "System-UDP-Fast-Path", "profile": {"type": "PROTOCOL_TYPE_UDP_FAST_PATH"}}),
        ),
        (
            "analyticsprofile",
            json!({"name": "System-Analytics-Profile"}),
        ),
        (
            "protocolparser",
            json!({"name": "Default-TLS", "parser_code": "-- the controller's built-in TLS parser"}),
        ),
        (
            "healthmonitor",
            json!({"name": "System-HTTP", "type": "HEALTH_MONITOR_HTTP"}),
        ),
        (
            "healthmonitor",
            json!({"name": "System-TCP", "type": "HEALTH_MONITOR_TCP"}),
        ),
        (
            "healthmonitor",
            json!({"name": "System-Ping", "type": "HEALTH_MONITOR_PING"}),
        ),
        (
            "applicationpersistenceprofile",
            json!({"name": "System-Persistence-Client-IP", "persistence_type": "PERSISTENCE_TYPE_CLIENT_IP_ADDRESS"}),
        ),
        (
            "applicationpersistenceprofile",
            json!({"name": "System-Persistence-Http-Cookie", "persistence_type": "PERSISTENCE_TYPE_HTTP_COOKIE"}),
        ),
    ]
}

/// The VIP network and the internal IPAM profile of Default-Cloud, so that `auto_allocate_ip`
/// works out of the box as on a controller set up for AKO (addresses `10.250.250.1-254`, as
/// AKO's own test doubles use).
fn ipam_objects() -> Vec<(&'static str, Value)> {
    vec![
        (
            "network",
            json!({"name": DEFAULT_VIP_NETWORK, "configured_subnets": [{
                "prefix": {"ip_addr": {"addr": "10.250.250.0", "type": "V4"}, "mask": 24},
                "static_ip_ranges": [{"type": "STATIC_IPS_FOR_VIP", "range": {
                    "begin": {"addr": "10.250.250.1", "type": "V4"},
                    "end": {"addr": "10.250.250.254", "type": "V4"}}}]}]}),
        ),
        (
            "ipamdnsproviderprofile",
            json!({"name": DEFAULT_IPAM_PROFILE, "type": "IPAMDNS_TYPE_INTERNAL",
                   "internal_profile": {"usable_networks": [
                       {"nw_ref": format!("/api/network/?name={DEFAULT_VIP_NETWORK}")}]}}),
        ),
    ]
}

/// The network Default-Cloud's IPAM allocates VIPs from.
pub const DEFAULT_VIP_NETWORK: &str = "vip-network";
/// Default-Cloud's IPAM profile.
pub const DEFAULT_IPAM_PROFILE: &str = "Default-IPAM";

pub(super) fn seed(store: &mut Store) -> Result<(), ApiError> {
    let admin = TenantScope::One(ADMIN.to_owned());
    let opts = WriteOptions::default();
    let tenant = store.create(
        "tenant",
        json!({"name": ADMIN, "local": true}),
        &admin,
        Some(ADMIN),
        &opts,
    )?;
    let uuid = tenant.uuid.clone();
    store.mark_system("tenant", &uuid);
    for (ty, body) in system_objects() {
        let uuid = store.create(ty, body, &admin, None, &opts)?.uuid.clone();
        store.mark_system(ty, &uuid);
    }
    // The network is in the cloud and the cloud names the profile: cloud first, then these,
    // then the cloud's reference.
    for (ty, body) in ipam_objects() {
        store.create(ty, body, &admin, None, &opts)?;
    }
    let cloud = store
        .find_by_name("cloud", "Default-Cloud", &admin)
        .cloned()
        .ok_or_else(|| ApiError::new(500, "Default-Cloud was not created"))?;
    let mut body = serde_json::Value::Object(cloud.body.clone());
    body["ipam_provider_ref"] = json!(format!(
        "/api/ipamdnsproviderprofile/?name={DEFAULT_IPAM_PROFILE}"
    ));
    if let Some(m) = body.as_object_mut() {
        m.remove("_last_modified");
    }
    store.replace("cloud", &cloud.uuid, body, &admin, &opts)?;
    Ok(())
}
