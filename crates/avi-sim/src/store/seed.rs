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
    Ok(())
}
