//! Tests of the models against captured controller responses and the bodies AKO sends.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;
use crate::kind::Kind;
use crate::object::AviObject;
use crate::reference::{AviRef, RawRef};

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// The AKO mock directory (captured controller list responses), next to the workspace.
const MOCKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/avi/ako-mocks/"
);

/// The `results` of a captured list response.
fn mock_results(file: &str) -> Vec<Value> {
    let path = format!("{MOCKS}{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("fixture {path} is missing or unreadable ({e}); it comes from shared/reference")
    });
    let list: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {path} is not JSON: {e}"));
    let results = list["results"]
        .as_array()
        .unwrap_or_else(|| panic!("fixture {path} has no results array"))
        .clone();
    assert_eq!(
        list["count"].as_u64(),
        Some(results.len() as u64),
        "{path}: count"
    );
    assert!(!results.is_empty(), "{path}: no results");
    results
}

/// avi-api.md §3.1 AKO create body.
const AKO_PKI_BODY: &str = r##"{"name": "cluster--ns-pki", "created_by": "ako-cluster", "tenant_ref": "/api/tenant/?name=admin",
 "crl_check": false, "ca_certs": [{"certificate": "-----BEGIN CERTIFICATE-----\n..."}],
 "markers": [{"key": "clustername", "values": ["cluster"]}]}"##;

/// avi-api.md §3.1 captured GET element (AMKO mock, trimmed).
const PKI_GET: &str = r##"{"_last_modified": "1706800166741903", "allow_pki_errors": ["ALLOW_ALL_ERRORS"],
 "ca_certs": [{
   "certificate": "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----",
   "days_until_expire": 365, "expiry_status": "SSL_CERTIFICATE_GOOD",
   "fingerprint": "SHA1 Fingerprint=27:C3:E7:78:A3:79:91:BB:F5:DA:09:FB:D8:4D:45:75:FF:F2:40:FB",
   "issuer":  {"common_name": "ca.local", "country": "US", "distinguished_name": "C=US, ST=California, L=Santa Clara, O=Controller, CN=ca.local", "locality": "Santa Clara", "organization": "Controller", "state": "California"},
   "subject": {"common_name": "ca.local", "...": "..."},
   "key_params": {"algorithm": "SSL_KEY_ALGORITHM_RSA", "rsa_params": {"exponent": 65537, "key_size": "SSL_KEY_4096_BITS"}},
   "not_after": "2034-01-29 12:21:44", "not_before": "1970-01-01 00:00:00",
   "public_key": "-----BEGIN PUBLIC KEY-----\n...", "self_signed": true, "serial_number": "1",
   "signature_algorithm": "sha256WithRSAEncryption", "text": "Certificate:\n    Data:\n ...", "version": "3"}],
 "crl_check": false, "ignore_peer_chain": false, "is_federated": true, "name": "pki",
 "tenant_ref": "https://100.65.4.53/api/tenant/admin",
 "url": "https://100.65.4.53/api/pkiprofile/pkiprofile-b2e31ac5-af66-4e32-987a-298535e9737c",
 "uuid": "pkiprofile-b2e31ac5-af66-4e32-987a-298535e9737c", "validate_only_leaf_crl": true}"##;

/// avi-api.md §3.2 POST response (20.1.1).
const SSL_POST_RESPONSE: &str = r##"{"url": "https://avi-controller/api/sslkeyandcertificate/sslkeyandcertificate-8c9bf9b9-0349-4ca0-8165-8be8431cdc3d#ssl-vs-kc",
 "uuid": "sslkeyandcertificate-8c9bf9b9-0349-4ca0-8165-8be8431cdc3d", "name": "ssl-vs-kc",
 "tenant_ref": "https://avi-controller/api/tenant/admin#admin", "_last_modified": "1595317894717650",
 "type": "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE",
 "certificate": {"version": "2", "serial_number": "18066974563861003075", "self_signed": true,
   "issuer": {"common_name": "app2-cert", "organization": "IT", "locality": "San Francisco", "state": "CA", "country": "US",
              "distinguished_name": "C=US, ST=CA, L=San Francisco, O=IT, CN=app2-cert"},
   "subject": {"common_name": "app2-cert", "...": "same as issuer"},
   "signature_algorithm": "sha256WithRSAEncryption",
   "not_before": "2017-06-11 04:44:28", "not_after": "2027-06-09 04:44:28",
   "fingerprint": "SHA1 Fingerprint=8E:A1:F9:C2:3C:05:BB:74:A5:47:6A:01:EF:87:FD:EF:A1:60:6F:22\n",
   "expiry_status": "SSL_CERTIFICATE_GOOD", "days_until_expire": 365},
 "key_params": {"algorithm": "SSL_KEY_ALGORITHM_RSA", "rsa_params": {"key_size": "SSL_KEY_2048_BITS", "exponent": 65537}},
 "status": "SSL_CERTIFICATE_FINISHED", "format": "SSL_PEM", "key_passphrase": "",
 "certificate_base64": false, "key_base64": false, "enable_ocsp_stapling": false}"##;

/// avi-api.md §3.3 POST response (20.1.1).
const POOL_POST_RESPONSE: &str = r##"{"url": "https://avi-controller/api/pool/pool-force-42#basic_vs-pool-force", "uuid": "pool-force-42",
 "name": "basic_vs-pool-force", "enabled": true,
 "tenant_ref": "https://avi-controller/api/tenant/admin#admin",
 "cloud_ref": "https://avi-controller/api/cloud/cloud-7450a14d-232f-46bc-a878-ee3844b5937c#Default-Cloud",
 "_last_modified": "1595317887731633", "default_server_port": 80, "graceful_disable_timeout": 1,
 "connection_ramp_duration": 10, "max_concurrent_connections_per_server": 0,
 "servers": [{"ip": {"addr": "10.90.64.10", "type": "V4"}, "port": 80, "hostname": "10.90.64.10",
              "enabled": true, "ratio": 1, "verify_network": false, "resolve_server_by_dns": false,
              "static": false, "rewrite_host_header": false}],
 "lb_algorithm": "LB_ALGORITHM_LEAST_CONNECTIONS", "lb_algorithm_hash": "LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS",
 "inline_health_monitor": true, "use_service_port": false, "capacity_estimation": false,
 "capacity_estimation_ttfb_thresh": 0, "fewest_tasks_feedback_delay": 10, "request_queue_enabled": false,
 "request_queue_depth": 128, "host_check_enabled": false, "sni_enabled": true,
 "rewrite_host_header_to_sni": false, "rewrite_host_header_to_server_name": false,
 "lb_algorithm_core_nonaffinity": 2, "lookup_server_by_name": false, "server_timeout": 0,
 "delete_server_on_dns_refresh": true, "enable_http2": false, "ignore_server_port": false, "routing_pool": false,
 "vrf_ref": "https://avi-controller/api/vrfcontext/vrfcontext-ae78dc00-73fa-4111-961a-f6070f89314f#global",
 "analytics_profile_ref": "https://avi-controller/api/analyticsprofile/analyticsprofile-d168b5ad-ccf5-4c57-82e1-f065bccbe376#System-Analytics-Profile"}"##;

/// avi-api.md §3.3 AKO pool body.
const AKO_POOL_BODY: &str = r##"{"name": "cluster--default-ing-foo.com_-svc-80", "created_by": "ako-cluster", "tenant_ref": "/api/tenant/?name=admin",
 "cloud_ref": "/api/cloud?name=Default-Cloud", "cloud_config_cksum": "1234567", "service_metadata": "{\"...\":\"...\"}",
 "sni_enabled": false, "ssl_profile_ref": "/api/sslprofile/?name=System-Standard", "pki_profile_ref": "/api/pkiprofile?name=<pki>",
 "graceful_disable_timeout": 1, "vrf_ref": "/api/vrfcontext?name=global",
 "health_monitor_refs": ["/api/healthmonitor/?name=System-TCP"],
 "servers": [{"ip": {"addr": "10.1.1.1", "type": "V4"}, "port": 8080, "external_uuid": "10.1.1.1:8080", "enabled": true}],
 "markers": [{"key": "clustername", "values": ["cluster"]}, {"key": "Namespace", "values": ["default"]}]}"##;

/// avi-api.md §3.4 captured GET element.
const POOLGROUP_GET: &str = r##"{"_last_modified": "1577342981786582", "implicit_priority_labels": true,
 "url": "https://10.52.2.174:9443/api/poolgroup/poolgroup-076c62e2-1d1d-4746-85aa-cd0793308a7f",
 "tenant_ref": "https://10.52.2.174:9443/api/tenant/admin", "uuid": "poolgroup-076c62e2-1d1d-4746-85aa-cd0793308a7f",
 "created_by": "oshift-k8s-cloud-connector",
 "members": [{"pool_ref": "https://10.52.2.174:9443/api/pool/pool-11a38043-e51e-4c93-8187-b390d7d81abd", "ratio": 100, "priority_label": "host1.avi-container-dns.internal"}],
 "cloud_ref": "https://10.52.2.174:9443/api/cloud/cloud-40669233-877c-4beb-bda6-1ced0f226368",
 "cloud_config_cksum": "827923fe66738918c5c567d8f31866fb", "min_servers": 0,
 "name": "parent-vs-Default-Cloud-Default-Group-poolgroup-80-tcp"}"##;

/// avi-api.md §3.5 POST response (20.1.1).
const VSVIP_POST_RESPONSE: &str = r##"{"url": "https://avi-controller/api/vsvip/vsvip-d87027f7-6278-4992-aa68-3c6507b70f2a#basic_vs_vip",
 "uuid": "vsvip-d87027f7-6278-4992-aa68-3c6507b70f2a", "name": "basic_vs_vip",
 "vrf_context_ref": "https://avi-controller/api/vrfcontext/vrfcontext-ae78dc00-73fa-4111-961a-f6070f89314f#global",
 "tenant_ref": "https://avi-controller/api/tenant/admin#admin",
 "cloud_ref": "https://avi-controller/api/cloud/cloud-7450a14d-232f-46bc-a878-ee3844b5937c#Default-Cloud",
 "_last_modified": "1595317883531860",
 "vip": [{"vip_id": "0", "ip_address": {"addr": "10.90.64.123", "type": "V4"}, "enabled": true,
          "auto_allocate_ip": false, "auto_allocate_floating_ip": false, "avi_allocated_vip": false,
          "avi_allocated_fip": false, "auto_allocate_ip_type": "V4_ONLY", "prefix_length": 32}],
 "east_west_placement": false}"##;

/// avi-api.md §3.6 POST response (20.1.1, abbreviated).
const VS_POST_RESPONSE: &str = r##"{"url": "https://avi-controller/api/virtualservice/virtualservice-c6aa5a1a-bf11-4911-a618-8488a61f8291#ssl_vs",
 "uuid": "virtualservice-c6aa5a1a-bf11-4911-a618-8488a61f8291", "name": "ssl_vs", "enabled": true,
 "application_profile_ref": "https://avi-controller/api/applicationprofile/applicationprofile-13766555-...#System-HTTP",
 "se_group_ref": "https://avi-controller/api/serviceenginegroup/serviceenginegroup-accee5f4-...#Default-Group",
 "vrf_context_ref": "https://avi-controller/api/vrfcontext/vrfcontext-ae78dc00-...#global",
 "analytics_profile_ref": "https://avi-controller/api/analyticsprofile/analyticsprofile-d168b5ad-...#System-Analytics-Profile",
 "tenant_ref": "https://avi-controller/api/tenant/admin#admin",
 "cloud_ref": "https://avi-controller/api/cloud/cloud-7450a14d-...#Default-Cloud",
 "vsvip_ref": "https://avi-controller/api/vsvip/vsvip-7e0ecbc1-...#basic_sslvs_vip",
 "_last_modified": "1595317894904137",
 "services": [{"port": 443, "enable_ssl": true, "port_range_end": 443, "enable_http2": false}],
 "enable_autogw": true, "weight": 1, "delay_fairness": false, "max_cps_per_client": 0, "limit_doser": false,
 "type": "VS_TYPE_NORMAL", "cloud_type": "CLOUD_NONE", "use_bridge_ip_as_vip": false, "flow_dist": "LOAD_AWARE",
 "ign_pool_net_reach": false, "ssl_sess_cache_avg_size": 1024, "remove_listening_port_on_vs_down": false,
 "close_client_conn_on_config_update": false, "bulk_sync_kvcache": false, "advertise_down_vs": false,
 "east_west_placement": false, "scaleout_ecmp": false, "active_standby_se_tag": "ACTIVE_STANDBY_SE_1",
 "flow_label_type": "NO_LABEL", "use_vip_as_snat": false, "traffic_enabled": true, "allow_invalid_client_cert": false,
 "network_profile_ref": "https://avi-controller/api/networkprofile/networkprofile-2e958744-...#System-TCP-Proxy",
 "pool_ref": "https://avi-controller/api/pool/pool-e0c69304-...#ssl_vs-pool",
 "ssl_key_and_certificate_refs": ["https://avi-controller/api/sslkeyandcertificate/sslkeyandcertificate-8c9bf9b9-...#ssl-vs-kc"],
 "ssl_profile_ref": "https://avi-controller/api/sslprofile/sslprofile-63bca1af-...#System-Standard-PFS"}"##;

/// avi-api.md §3.7 constructed example (AKO shape).
const HTTPPOLICYSET_AKO: &str = r##"{"name": "cluster--default-foo-httppolicy", "created_by": "ako-cluster", "tenant_ref": "/api/tenant/?name=admin",
 "http_request_policy": {"rules": [{
   "name": "cluster--default-foo-httppolicy-0", "index": 0, "enable": true,
   "match": {"path": {"match_criteria": "BEGINS_WITH", "match_case": "SENSITIVE", "match_str": ["/api"]},
             "host_hdr": {"match_criteria": "HDR_EQUALS", "value": ["foo.com"]},
             "vs_port": {"match_criteria": "IS_IN", "ports": [443]}},
   "switching_action": {"action": "HTTP_SWITCHING_SELECT_POOLGROUP", "pool_group_ref": "/api/poolgroup/?name=cluster--foo-pg"}}]},
 "markers": [{"key": "clustername", "values": ["cluster"]}]}"##;

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Parses JSON text.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON fixture: {e}\n{text}"))
}

/// The same JSON with every reference (a string under a `*_ref` or `*_refs` key that parses as
/// one of our kinds) written as we send it, and empty arrays and nulls removed: what is left is
/// what a faithful deserialize-serialize must keep.
fn canonical(value: &Value) -> Value {
    fn walk(key: Option<&str>, value: &Value) -> Option<Value> {
        let is_ref_key = key.is_some_and(|k| k.ends_with("_ref") || k.ends_with("_refs"));
        match value {
            Value::Null => None,
            Value::Array(items) if items.is_empty() => None,
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|v| walk(key, v)).collect(),
            )),
            Value::Object(map) => Some(Value::Object(
                map.iter()
                    .filter_map(|(k, v)| walk(Some(k), v).map(|v| (k.clone(), v)))
                    .collect(),
            )),
            Value::String(s) if is_ref_key => Some(Value::String(
                RawRef::parse(s).map_or_else(|| s.clone(), |r| r.to_wire()),
            )),
            other => Some(other.clone()),
        }
    }
    walk(None, value).unwrap_or(Value::Null)
}

/// Deserializes `input` as `T`, checks that serializing loses nothing (modulo reference
/// spelling, empty lists and nulls) and that deserializing the output gives an equal object.
fn round_trip<T>(input: &Value) -> T
where
    T: AviObject + PartialEq + Debug,
{
    let object: T = serde_json::from_value(input.clone())
        .unwrap_or_else(|e| panic!("{}: {e}\n{input:#}", T::KIND));
    let output = serde_json::to_value(&object).unwrap();
    assert_eq!(
        canonical(&output),
        canonical(input),
        "{}: serialize(deserialize(x)) differs from x",
        T::KIND
    );
    let again: T = serde_json::from_value(output).unwrap();
    assert_eq!(again, object, "{}: deserialize(serialize(x)) != x", T::KIND);
    object
}

/// Serializes to a `Value`.
fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// Deserializes from a `Value`.
fn from_json<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Captured controller responses (AKO mocks).

#[test]
fn pool_mock_deserializes_and_round_trips() {
    let pools: Vec<Pool> = mock_results("pool_mock.json")
        .iter()
        .map(round_trip)
        .collect();
    let pool = &pools[0];
    assert_eq!(pool.name, "default-route1-aviroute-pool-8080-tcp");
    assert_eq!(
        pool.uuid(),
        Some("pool-11a38043-e51e-4c93-8187-b390d7d81abd")
    );
    assert_eq!(pool.created_by(), Some("oshift-k8s-cloud-connector"));
    assert_eq!(pool.last_modified.as_deref(), Some("1577342976851289"));
    assert_eq!(pool.lb_algorithm, Some(LbAlgorithm::LeastConnections));
    assert_eq!(
        pool.lb_algorithm_hash,
        Some(LbAlgorithmHash::SourceIpAddress)
    );
    assert_eq!(pool.default_server_port, Some(80));
    assert_eq!(pool.sni_enabled, Some(true));
    assert_eq!(pool.graceful_disable_timeout, Some(1));
    assert_eq!(
        pool.tenant_ref.as_ref().and_then(AviRef::uuid),
        Some("admin")
    );
    assert_eq!(
        pool.vrf_ref.as_ref().and_then(AviRef::uuid),
        Some("vrfcontext-eb467135-d5f6-42ea-bd54-3613b2d377b9")
    );
    assert_eq!(
        pool.health_monitor_refs,
        vec![AviRef::<HealthMonitor>::by_uuid(
            "healthmonitor-03a5867f-52d3-4abb-ae53-d0e0a4016cc2"
        )]
    );
    assert_eq!(pool.servers.len(), 2);
    let server = &pool.servers[0];
    assert_eq!(server.ip, IpAddr::v4("172.17.0.3"));
    assert_eq!(server.port, Some(8080));
    assert_eq!(server.ratio, Some(1));
    assert_eq!(server.enabled, Some(true));
    assert_eq!(server.server_node.as_deref(), Some("10.52.3.70"));
    assert_eq!(server.extra["verify_network"], json!(false));
    assert_eq!(server.effective_port(pool), 8080);
    // Unmodelled fields, including refs to unmodelled types, are kept verbatim.
    assert_eq!(
        pool.extra["analytics_profile_ref"],
        json!(
            "https://10.52.2.174:9443/api/analyticsprofile/analyticsprofile-8b57c321-c737-4b4b-b882-3854b0790cb1"
        )
    );
    assert_eq!(
        pool.extra["max_concurrent_connections_per_server"],
        json!(0)
    );
}

#[test]
fn poolgroup_mock_deserializes_and_round_trips() {
    let groups: Vec<PoolGroup> = mock_results("poolgroup_mock.json")
        .iter()
        .map(round_trip)
        .collect();
    let pg = &groups[0];
    assert_eq!(
        pg.name,
        "parent-vs-Default-Cloud-Default-Group-poolgroup-80-tcp"
    );
    assert_eq!(pg.implicit_priority_labels, Some(true));
    assert_eq!(pg.min_servers, Some(0));
    assert_eq!(pg.members.len(), 3);
    assert_eq!(
        pg.members[0].pool_ref,
        AviRef::by_uuid("pool-11a38043-e51e-4c93-8187-b390d7d81abd")
    );
    assert_eq!(pg.members[0].ratio, Some(100));
    assert_eq!(
        pg.members[0].priority_label.as_deref(),
        Some("host1.avi-container-dns.internal")
    );
    assert_eq!(
        pg.cloud_ref.as_ref().and_then(AviRef::uuid),
        Some("cloud-40669233-877c-4beb-bda6-1ced0f226368")
    );
    // §3.4 quotes the first element of the same mock.
    let quoted: PoolGroup = round_trip(&parse(POOLGROUP_GET));
    assert_eq!(quoted.members[0], pg.members[0]);
}

#[test]
fn vsvip_mock_deserializes_and_round_trips() {
    let vips: Vec<VsVip> = mock_results("vsvip_mock.json")
        .iter()
        .map(round_trip)
        .collect();
    let vsvip = &vips[0];
    assert_eq!(vsvip.name, "vsvip-dns-vs-Default-Cloud");
    assert_eq!(vsvip.east_west_placement, Some(false));
    let vip = &vsvip.vip[0];
    assert_eq!(vip.vip_id.as_deref(), Some("1"));
    assert_eq!(vip.ip_address, Some(IpAddr::v4("100.64.249.100")));
    assert_eq!(vip.auto_allocate_ip, Some(true));
    assert_eq!(vip.auto_allocate_ip_type, Some(AutoAllocateIpType::V4Only));
    assert_eq!(vip.prefix_length, Some(32));
    // The IPAM network as the controller answers it (a full URL), untouched.
    assert_eq!(
        vip.ipam_network_subnet
            .as_ref()
            .and_then(|s| s.network_ref.as_deref()),
        Some(
            "https://10.79.170.84/api/network/dvportgroup-1413-cloud-e8ff5afc-f6fa-4730-889c-9025df29a89b#networkName"
        )
    );
    // Unmodelled nested structures survive.
    assert!(vip.extra.contains_key("discovered_networks"));
    let dns = &vsvip.dns_info[0];
    assert_eq!(dns.fqdn.as_deref(), Some("dns-vs.avi.internal"));
    assert_eq!(dns.ttl, Some(30));
    assert_eq!(dns.type_, Some(DnsRecordType::A));
    assert_eq!(dns.num_records_in_response, Some(1));
    assert_eq!(
        vsvip.vrf_context_ref.as_ref().and_then(AviRef::uuid),
        Some("vrfcontext-1cf759cc-6258-4172-a9b8-691db024681d")
    );
}

#[test]
fn virtualservice_mock_deserializes_and_round_trips() {
    let vses: Vec<VirtualService> = mock_results("virtualservice_mock.json")
        .iter()
        .map(round_trip)
        .collect();
    assert_eq!(vses.len(), 4);
    assert_eq!(vses[0].type_, Some(VsType::Normal));
    assert_eq!(vses[0].services[0].port, 53);
    assert_eq!(vses[0].services[0].port_range_end, Some(53));
    assert_eq!(vses[0].services[0].enable_ssl, Some(false));
    assert_eq!(vses[0].vip[0].vip_id.as_deref(), Some("0"));

    let parent = &vses[2];
    assert_eq!(parent.type_, Some(VsType::VhParent));
    assert_eq!(
        parent.services.iter().map(|s| s.port).collect::<Vec<_>>(),
        vec![80, 443]
    );
    assert_eq!(parent.services[1].enable_ssl, Some(true));
    assert_eq!(
        parent.http_policies,
        vec![HttpPolicies::new(
            12,
            AviRef::by_uuid("httppolicyset-26eb58e5-c693-4593-9421-26808ba14a1b")
        )]
    );
    assert_eq!(
        parent.ssl_key_and_certificate_refs,
        vec![AviRef::by_uuid(
            "sslkeyandcertificate-b3b1316d-734b-45b8-868c-db232e56b3f7"
        )]
    );
    assert_eq!(
        parent.vsvip_ref.as_ref().and_then(AviRef::uuid),
        Some("vsvip-b5c6fa58-8a55-4a4c-b708-3eaa362be93a")
    );
    assert_eq!(
        parent.se_group_ref.as_ref().and_then(AviRef::uuid),
        Some("serviceenginegroup-05f6b81c-5a68-424a-8d4b-b18d3fa098bb")
    );
    assert!(parent.ssl_profile_ref.is_some());
    assert!(parent.application_profile_ref.is_some());
    assert_eq!(parent.tls_ticket_key.len(), 3);
    // AKO's shared VS runs a DataScript set: now a typed field.
    assert!(!parent.vs_datascripts.is_empty());
    assert!(
        parent.vs_datascripts[0]
            .vs_datascript_set_ref
            .to_string()
            .contains("vsdatascriptset")
    );

    // An unknown field of a nested structure (`http2` on a service) survives.
    let dns_vs = &vses[3];
    assert_eq!(dns_vs.services[0].extra["http2"], json!(false));
    assert_eq!(to_json(dns_vs)["services"][0]["http2"], json!(false));
    assert_eq!(dns_vs.extra["shared_vs_refs"], json!([]));
}

#[test]
fn tenant_mock_deserializes_and_round_trips() {
    let tenants: Vec<Tenant> = mock_results("tenant_mock.json")
        .iter()
        .map(round_trip)
        .collect();
    let admin = &tenants[0];
    assert_eq!(admin.name, "admin");
    assert_eq!(admin.uuid(), Some("admin"));
    assert_eq!(admin.local, Some(true));
    assert_eq!(admin.extra["macro_in_progress"], json!(0));
}

#[test]
fn pki_mock_deserializes_and_round_trips() {
    let profiles: Vec<PkiProfile> = mock_results("amko_pki_mock.json")
        .iter()
        .map(round_trip)
        .collect();
    let cert = &profiles[0].ca_certs[0];
    assert!(
        cert.certificate
            .as_deref()
            .is_some_and(|c| c.contains("BEGIN CERTIFICATE"))
    );
    assert!(
        cert.issuer
            .as_ref()
            .is_some_and(|i| i.common_name.is_some())
    );
    assert!(cert.key_params.is_some());

    let pki: PkiProfile = round_trip(&parse(PKI_GET));
    assert_eq!(pki.crl_check, Some(false));
    assert_eq!(pki.validate_only_leaf_crl, Some(true));
    assert_eq!(pki.is_federated, Some(true));
    assert_eq!(pki.allow_pki_errors, vec!["ALLOW_ALL_ERRORS".to_owned()]);
    let ca = &pki.ca_certs[0];
    assert_eq!(ca.expiry_status, Some(SslCertificateExpiryStatus::Good));
    assert_eq!(ca.days_until_expire, Some(365));
    assert_eq!(ca.self_signed, Some(true));
    assert_eq!(
        ca.issuer.as_ref().and_then(|i| i.common_name.as_deref()),
        Some("ca.local")
    );
    let key_params = ca.key_params.as_ref().unwrap();
    assert_eq!(key_params.algorithm, SslKeyAlgorithm::Rsa);
    assert_eq!(
        key_params
            .rsa_params
            .as_ref()
            .and_then(|p| p.key_size.as_deref()),
        Some("SSL_KEY_4096_BITS")
    );
    assert_eq!(
        key_params.rsa_params.as_ref().and_then(|p| p.exponent),
        Some(65537)
    );
}

// ---------------------------------------------------------------------------------------------
// POST responses (avi-api.md §3), whose refs all carry `#name`.

#[test]
fn ssl_key_and_certificate_post_response() {
    let cert: SslKeyAndCertificate = round_trip(&parse(SSL_POST_RESPONSE));
    assert_eq!(cert.name, "ssl-vs-kc");
    assert_eq!(cert.type_, Some(SslCertificateType::VirtualService));
    assert_eq!(cert.format, Some(SslCertificateFormat::Pem));
    assert_eq!(cert.status, Some(SslCertificateStatus::Finished));
    assert_eq!(cert.key, None, "a POST response carries no key");
    assert_eq!(
        cert.key_passphrase.as_ref().map(SecretKey::is_empty),
        Some(true)
    );
    let tenant = cert.tenant_ref.as_ref().unwrap();
    assert_eq!(
        (tenant.uuid(), tenant.name()),
        (Some("admin"), Some("admin"))
    );
    assert_eq!(
        cert.certificate.fingerprint.as_deref(),
        Some("SHA1 Fingerprint=8E:A1:F9:C2:3C:05:BB:74:A5:47:6A:01:EF:87:FD:EF:A1:60:6F:22\n")
    );
    assert_eq!(cert.certificate.version.as_deref(), Some("2"));
    assert_eq!(
        cert.certificate
            .subject
            .as_ref()
            .and_then(|s| s.common_name.as_deref()),
        Some("app2-cert")
    );
    assert_eq!(cert.enable_ocsp_stapling, Some(false));
    assert_eq!(cert.certificate_base64, Some(false));
}

#[test]
fn pool_post_response() {
    let pool: Pool = round_trip(&parse(POOL_POST_RESPONSE));
    assert_eq!(pool.uuid(), Some("pool-force-42"));
    let cloud = pool.cloud_ref.as_ref().unwrap();
    assert_eq!(
        (cloud.uuid(), cloud.name()),
        (
            Some("cloud-7450a14d-232f-46bc-a878-ee3844b5937c"),
            Some("Default-Cloud")
        )
    );
    assert_eq!(cloud, &AviRef::<Cloud>::by_name("Default-Cloud"));
    let vrf = pool.vrf_ref.as_ref().unwrap();
    assert_eq!(vrf.name(), Some("global"));
    assert_eq!(pool.servers[0].hostname.as_deref(), Some("10.90.64.10"));
    assert_eq!(pool.servers[0].extra["static"], json!(false));
    // We send refs by uuid; the `#name` suffix is dropped.
    let out = to_json(&pool);
    assert_eq!(
        out["vrf_ref"],
        json!("/api/vrfcontext/vrfcontext-ae78dc00-73fa-4111-961a-f6070f89314f")
    );
    assert_eq!(out["tenant_ref"], json!("/api/tenant/admin"));
    // A ref to an unmodelled type stays as the controller wrote it.
    assert_eq!(
        out["analytics_profile_ref"],
        json!(
            "https://avi-controller/api/analyticsprofile/analyticsprofile-d168b5ad-ccf5-4c57-82e1-f065bccbe376#System-Analytics-Profile"
        )
    );
}

#[test]
fn vsvip_post_response() {
    let vsvip: VsVip = round_trip(&parse(VSVIP_POST_RESPONSE));
    assert_eq!(vsvip.name, "basic_vs_vip");
    assert_eq!(
        vsvip.vip,
        vec![Vip {
            enabled: Some(true),
            auto_allocate_ip: Some(false),
            auto_allocate_floating_ip: Some(false),
            avi_allocated_vip: Some(false),
            avi_allocated_fip: Some(false),
            auto_allocate_ip_type: Some(AutoAllocateIpType::V4Only),
            prefix_length: Some(32),
            ..Vip::with_address("0", IpAddr::v4("10.90.64.123"))
        }]
    );
    assert_eq!(
        vsvip.vrf_context_ref.as_ref().and_then(AviRef::name),
        Some("global")
    );
}

#[test]
fn virtualservice_post_response() {
    let vs: VirtualService = round_trip(&parse(VS_POST_RESPONSE));
    assert_eq!(vs.name, "ssl_vs");
    assert_eq!(vs.type_, Some(VsType::Normal));
    assert_eq!(
        vs.pool_ref.as_ref().and_then(AviRef::name),
        Some("ssl_vs-pool")
    );
    assert_eq!(
        vs.vsvip_ref.as_ref().and_then(AviRef::name),
        Some("basic_sslvs_vip")
    );
    assert_eq!(
        vs.ssl_key_and_certificate_refs,
        vec![AviRef::by_name("ssl-vs-kc")]
    );
    assert_eq!(
        vs.ssl_profile_ref,
        Some(AviRef::by_name("System-Standard-PFS"))
    );
    assert_eq!(vs.se_group_ref, Some(AviRef::by_name("Default-Group")));
    assert_eq!(
        vs.application_profile_ref.as_deref(),
        Some(
            "https://avi-controller/api/applicationprofile/applicationprofile-13766555-...#System-HTTP"
        )
    );
    assert_eq!(
        vs.services,
        vec![Service {
            port_range_end: Some(443),
            enable_http2: Some(false),
            ..Service::tls(443)
        }]
    );
    assert_eq!(vs.extra["flow_dist"], json!("LOAD_AWARE"));
}

#[test]
fn returned_ref_forms_parse_with_uuid_and_name() {
    let member: PoolGroupMember =
        from_json(json!({"pool_ref": "https://host/api/pool/pool-1#name", "ratio": 1}));
    assert_eq!(member.pool_ref.uuid(), Some("pool-1"));
    assert_eq!(member.pool_ref.name(), Some("name"));
    assert_eq!(member.pool_ref, AviRef::by_uuid("pool-1"));
    assert_eq!(member.pool_ref, AviRef::by_name("name"));
    assert_eq!(to_json(&member)["pool_ref"], json!("/api/pool/pool-1"));

    for form in [
        "/api/pool/pool-1",
        "https://10.52.2.174:9443/api/pool/pool-1",
        "/api/pool?name=name",
        "/api/pool/?name=name",
    ] {
        let m: PoolGroupMember = from_json(json!({ "pool_ref": form }));
        assert_eq!(m.pool_ref, member.pool_ref, "{form}");
    }
    // A ref of the wrong type is an error, not a silent mix-up.
    let wrong =
        serde_json::from_value::<PoolGroupMember>(json!({"pool_ref": "/api/poolgroup/pg-1"}));
    assert!(wrong.is_err());
}

// ---------------------------------------------------------------------------------------------
// The bodies AKO sends, built in Rust.

/// The name AKO gives the Istio PKI profile (the §3.3 body has a `<pki>` placeholder).
const ISTIO_PKI: &str = "istio-pki-cluster-avi-system";

#[test]
fn ako_pool_body_is_what_ako_sends() {
    let pool = Pool {
        created_by: Some("ako-cluster".into()),
        tenant_ref: Some(AviRef::by_name("admin")),
        cloud_ref: Some(AviRef::by_name("Default-Cloud")),
        cloud_config_cksum: Some("1234567".into()),
        service_metadata: Some(r#"{"...":"..."}"#.into()),
        sni_enabled: Some(false),
        ssl_profile_ref: Some(AviRef::by_name("System-Standard")),
        pki_profile_ref: Some(AviRef::by_name(ISTIO_PKI)),
        graceful_disable_timeout: Some(1),
        vrf_ref: Some(AviRef::by_name("global")),
        health_monitor_refs: vec![AviRef::by_name("System-TCP")],
        servers: vec![Server {
            external_uuid: Some("10.1.1.1:8080".into()),
            enabled: Some(true),
            ..Server::new(IpAddr::v4("10.1.1.1")).with_port(8080)
        }],
        markers: vec![
            Marker::new("clustername", ["cluster"]),
            Marker::new("Namespace", ["default"]),
        ],
        ..Pool::new("cluster--default-ing-foo.com_-svc-80")
    };
    let ako = parse(&AKO_POOL_BODY.replace("<pki>", ISTIO_PKI));
    let ours = to_json(&pool);

    // AKO writes `/api/cloud?name=`, we write `/api/cloud/?name=`: the same reference.
    assert_eq!(canonical(&ours), canonical(&ako));
    // Every other byte is the same, key for key.
    let mut respelled = ako.clone();
    respelled["cloud_ref"] = json!("/api/cloud/?name=Default-Cloud");
    respelled["pki_profile_ref"] = json!(format!("/api/pkiprofile/?name={ISTIO_PKI}"));
    respelled["vrf_ref"] = json!("/api/vrfcontext/?name=global");
    assert_eq!(ours, respelled);
    // And AKO's own spelling reads back as the same pool.
    assert_eq!(from_json::<Pool>(ako), pool);
}

#[test]
fn ako_pki_profile_body_is_what_ako_sends() {
    let pki = PkiProfile {
        created_by: Some("ako-cluster".into()),
        tenant_ref: Some(AviRef::by_name("admin")),
        crl_check: Some(false),
        ca_certs: vec![SslCertificate::from_pem("-----BEGIN CERTIFICATE-----\n...")],
        markers: vec![Marker::new("clustername", ["cluster"])],
        ..PkiProfile::new("cluster--ns-pki")
    };
    assert_eq!(to_json(&pki), parse(AKO_PKI_BODY));
}

#[test]
fn ako_istio_certificate_body_carries_the_key() {
    // ako-upstream.md §1.4, `AviSSLBuild`.
    let cert = SslKeyAndCertificate {
        created_by: Some("ako-cluster".into()),
        tenant_ref: Some(AviRef::by_name("admin")),
        certificate: SslCertificate::from_pem("<cert-chain.pem>"),
        key: Some(SecretKey::new("<key.pem>")),
        type_: Some(SslCertificateType::VirtualService),
        markers: vec![Marker::new("clustername", ["cluster"])],
        ..SslKeyAndCertificate::new("istio-workload-cluster-avi-system")
    };
    assert_eq!(
        to_json(&cert),
        json!({
            "name": "istio-workload-cluster-avi-system", "created_by": "ako-cluster",
            "tenant_ref": "/api/tenant/?name=admin",
            "certificate": {"certificate": "<cert-chain.pem>"}, "key": "<key.pem>",
            "type": "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE",
            "markers": [{"key": "clustername", "values": ["cluster"]}]
        })
    );
}

#[test]
fn ako_http_policy_set_body_is_what_ako_sends() {
    let rule = HttpRequestRule {
        match_: Some(MatchTarget {
            path: Some(PathMatch::new(PathMatchCriteria::BeginsWith, ["/api"])),
            host_hdr: Some(HostHdrMatch {
                match_criteria: HdrMatchCriteria::Equals,
                value: vec!["foo.com".into()],
                ..HostHdrMatch::default()
            }),
            vs_port: Some(PortMatch::is_in([443])),
            ..MatchTarget::default()
        }),
        switching_action: Some(HttpSwitchingAction::pool_group(AviRef::by_name(
            "cluster--foo-pg",
        ))),
        ..HttpRequestRule::new("cluster--default-foo-httppolicy-0", 0)
    };
    let set = HttpPolicySet {
        created_by: Some("ako-cluster".into()),
        tenant_ref: Some(AviRef::by_name("admin")),
        http_request_policy: Some(HttpRequestPolicy {
            rules: vec![rule],
            ..HttpRequestPolicy::default()
        }),
        markers: vec![Marker::new("clustername", ["cluster"])],
        ..HttpPolicySet::new("cluster--default-foo-httppolicy")
    };
    assert_eq!(to_json(&set), parse(HTTPPOLICYSET_AKO));
    assert_eq!(round_trip::<HttpPolicySet>(&parse(HTTPPOLICYSET_AKO)), set);
}

#[test]
fn gateway_default_backend_policy() {
    // ako-upstream.md §3.3: path BEGINS_WITH "/" → local 404.
    let rule = HttpRequestRule {
        match_: Some(MatchTarget {
            path: Some(PathMatch::new(PathMatchCriteria::BeginsWith, ["/"])),
            ..MatchTarget::default()
        }),
        switching_action: Some(HttpSwitchingAction::local(LocalResponseStatusCode::Code404)),
        ..HttpRequestRule::new("default-backend-rule", 0)
    };
    assert_eq!(
        to_json(&rule),
        json!({
            "name": "default-backend-rule", "index": 0, "enable": true,
            "match": {"path": {"match_criteria": "BEGINS_WITH", "match_case": "SENSITIVE", "match_str": ["/"]}},
            "switching_action": {"action": "HTTP_SWITCHING_SELECT_LOCAL", "status_code": "HTTP_LOCAL_RESPONSE_STATUS_CODE_404"}
        })
    );
}

#[test]
fn header_and_redirect_actions() {
    let rule = HttpRequestRule {
        hdr_action: vec![HttpHdrAction {
            action: HttpHdrActionType::Replace,
            hdr: Some(HttpHdrData {
                name: Some("x-env".into()),
                value: Some(HttpHdrValue {
                    val: Some("prod".into()),
                    is_sensitive: Some(false),
                    ..HttpHdrValue::default()
                }),
                ..HttpHdrData::default()
            }),
            hdr_index: Some(0),
            ..HttpHdrAction::default()
        }],
        redirect_action: Some(HttpRedirectAction {
            host: Some(UriParam::literal("example.com")),
            status_code: Some(RedirectStatusCode::Code301),
            ..HttpRedirectAction::default()
        }),
        ..HttpRequestRule::new("r", 1)
    };
    assert_eq!(
        to_json(&rule),
        json!({
            "name": "r", "index": 1, "enable": true,
            "hdr_action": [{"action": "HTTP_REPLACE_HDR", "hdr_index": 0,
                            "hdr": {"name": "x-env", "value": {"val": "prod", "is_sensitive": false}}}],
            "redirect_action": {"protocol": "HTTP", "status_code": "HTTP_REDIRECT_STATUS_CODE_301",
                "host": {"type": "URI_PARAM_TYPE_TOKENIZED",
                         "tokens": [{"type": "URI_TOKEN_TYPE_STRING", "str_value": "example.com"}]}}
        })
    );
    let response_rule: HttpResponseRule = from_json(json!({
        "name": "rsp", "index": 0,
        "match": {"rsp_hdrs": [{"hdr": "server", "match_criteria": "HDR_EXISTS"}], "status": {"match_criteria": "IS_IN"}},
        "hdr_action": [{"action": "HTTP_REMOVE_HDR", "hdr": {"name": "server"}}]
    }));
    assert!(response_rule.enable, "enable defaults to true");
    let m = response_rule.match_.as_ref().unwrap();
    assert_eq!(m.rsp_hdrs[0].match_criteria, HdrMatchCriteria::Exists);
    assert!(m.extra.contains_key("status"));
    assert_eq!(
        response_rule.hdr_action[0].action,
        HttpHdrActionType::Remove
    );
}

#[test]
fn evh_parent_and_child_as_ako_builds_them() {
    // ako-upstream.md §3.3-3.4: gateway parent and one HTTPRoute rule's child.
    let parent = VirtualService {
        created_by: Some("ako-gw-cluster".into()),
        tenant_ref: Some(AviRef::by_name("admin")),
        type_: Some(VsType::VhParent),
        vh_type: Some(VhType::Enhanced),
        services: vec![Service::port(80), Service::tls(443)],
        vsvip_ref: Some(AviRef::by_name("ako-gw-cluster--default-gw-EVH")),
        application_profile_ref: Some("/api/applicationprofile/?name=System-HTTP".into()),
        network_profile_ref: Some("/api/networkprofile/?name=System-TCP-Proxy".into()),
        se_group_ref: Some(AviRef::by_name("Default-Group")),
        ssl_key_and_certificate_refs: vec![AviRef::by_name("ako-gw-cluster--0123abcd")],
        http_policies: vec![HttpPolicies::new(
            11,
            AviRef::by_name("ako-gw-cluster--default-backend"),
        )],
        ..VirtualService::new("ako-gw-cluster--default-gw-EVH")
    };
    assert_eq!(
        to_json(&parent),
        json!({
            "name": "ako-gw-cluster--default-gw-EVH", "created_by": "ako-gw-cluster",
            "tenant_ref": "/api/tenant/?name=admin",
            "type": "VS_TYPE_VH_PARENT", "vh_type": "VS_TYPE_VH_ENHANCED",
            "services": [{"port": 80}, {"port": 443, "enable_ssl": true}],
            "vsvip_ref": "/api/vsvip/?name=ako-gw-cluster--default-gw-EVH",
            "application_profile_ref": "/api/applicationprofile/?name=System-HTTP",
            "network_profile_ref": "/api/networkprofile/?name=System-TCP-Proxy",
            "se_group_ref": "/api/serviceenginegroup/?name=Default-Group",
            "ssl_key_and_certificate_refs": ["/api/sslkeyandcertificate/?name=ako-gw-cluster--0123abcd"],
            "http_policies": [{"index": 11, "http_policy_set_ref": "/api/httppolicyset/?name=ako-gw-cluster--default-backend"}]
        })
    );

    let child = VirtualService {
        type_: Some(VsType::VhChild),
        vh_type: Some(VhType::Enhanced),
        vh_parent_vs_ref: Some(AviRef::by_name("ako-gw-cluster--default-gw-EVH")),
        min_pools_up: Some(1),
        pool_group_ref: Some(AviRef::by_name("ako-gw-cluster--c0ffee")),
        vh_matches: vec![VhMatch {
            host: "foo.com".into(),
            rules: vec![VhMatchRule {
                name: "rule-0".into(),
                matches: MatchTarget {
                    path: Some(PathMatch::new(PathMatchCriteria::BeginsWith, ["/bar"])),
                    hdrs: vec![HdrMatch {
                        hdr: "x-canary".into(),
                        match_case: Some(MatchCase::Sensitive),
                        value: vec!["1".into()],
                        ..HdrMatch::default()
                    }],
                    vs_port: Some(PortMatch::is_in([80, 443])),
                    ..MatchTarget::default()
                },
                ..VhMatchRule::default()
            }],
            ..VhMatch::default()
        }],
        ..VirtualService::new("ako-gw-cluster--c0ffee")
    };
    let out = to_json(&child);
    assert_eq!(
        out,
        json!({
            "name": "ako-gw-cluster--c0ffee", "type": "VS_TYPE_VH_CHILD", "vh_type": "VS_TYPE_VH_ENHANCED",
            "vh_parent_vs_ref": "/api/virtualservice/?name=ako-gw-cluster--default-gw-EVH",
            "min_pools_up": 1, "pool_group_ref": "/api/poolgroup/?name=ako-gw-cluster--c0ffee",
            "vh_matches": [{"host": "foo.com", "rules": [{"name": "rule-0", "matches": {
                "path": {"match_criteria": "BEGINS_WITH", "match_case": "SENSITIVE", "match_str": ["/bar"]},
                "hdrs": [{"hdr": "x-canary", "match_criteria": "HDR_EQUALS", "match_case": "SENSITIVE", "value": ["1"]}],
                "vs_port": {"match_criteria": "IS_IN", "ports": [80, 443]}}}]}]
        })
    );
    assert_eq!(from_json::<VirtualService>(out), child);
    // The parent ref, as returned, names the same VS.
    let returned: VirtualService = from_json(json!({
        "name": "x", "vh_parent_vs_ref": "https://ctrl/api/virtualservice/virtualservice-1#ako-gw-cluster--default-gw-EVH"
    }));
    assert_eq!(returned.vh_parent_vs_ref, child.vh_parent_vs_ref);
}

// ---------------------------------------------------------------------------------------------
// Unknown fields, tolerant enums, secrets, minimal bodies.

#[test]
fn unknown_fields_survive_read_modify_write() {
    let mut pool: Pool = from_json(json!({
        "name": "p", "future_top": {"a": [1, 2]},
        "servers": [{"ip": {"addr": "10.0.0.1", "type": "V4", "future_ip": 1}, "future_server": "s"}],
        "markers": [{"key": "k", "values": ["v"], "future_marker": true}]
    }));
    pool.servers[0].port = Some(8080);
    let out = to_json(&pool);
    assert_eq!(out["future_top"], json!({"a": [1, 2]}));
    assert_eq!(out["servers"][0]["future_server"], json!("s"));
    assert_eq!(out["servers"][0]["ip"]["future_ip"], json!(1));
    assert_eq!(out["servers"][0]["port"], json!(8080));
    assert_eq!(out["markers"][0]["future_marker"], json!(true));

    let pg: PoolGroup = from_json(json!({
        "name": "pg", "members": [{"pool_ref": "/api/pool/pool-1", "future_member": 7}]
    }));
    assert_eq!(to_json(&pg)["members"][0]["future_member"], json!(7));

    let vs: VirtualService = from_json(json!({
        "name": "vs", "services": [{"port": 443, "future_service": "x"}],
        "http_policies": [{"index": 11, "http_policy_set_ref": "/api/httppolicyset/h-1", "future_hp": 1}],
        "vh_matches": [{"host": "a", "path": [{"match_criteria": "EQUALS"}], "rules": [{"name": "r", "matches": {"method": {"match_criteria": "IS_IN"}}}]}],
        "vip": [{"vip_id": "0", "future_vip": 2}]
    }));
    let out = to_json(&vs);
    assert_eq!(out["services"][0]["future_service"], json!("x"));
    assert_eq!(out["http_policies"][0]["future_hp"], json!(1));
    assert_eq!(
        out["vh_matches"][0]["path"],
        json!([{"match_criteria": "EQUALS"}])
    );
    assert_eq!(
        out["vh_matches"][0]["rules"][0]["matches"]["method"],
        json!({"match_criteria": "IS_IN"})
    );
    assert_eq!(out["vip"][0]["future_vip"], json!(2));

    let set: HttpPolicySet = from_json(json!({
        "name": "h", "http_security_policy": {"rules": []},
        "http_request_policy": {"rules": [{
            "name": "r", "index": 0, "enable": false, "future_rule": 1,
            "match": {"path": {"match_criteria": "EQUALS", "match_str": ["/"], "future_path": 2}},
            "switching_action": {"action": "HTTP_SWITCHING_SELECT_POOL", "pool_ref": "/api/pool/?name=p", "file": {"content_type": "text/html"}}
        }]}
    }));
    let out = to_json(&set);
    let rule = &out["http_request_policy"]["rules"][0];
    assert_eq!(rule["future_rule"], json!(1));
    assert_eq!(rule["enable"], json!(false));
    assert_eq!(rule["match"]["path"]["future_path"], json!(2));
    assert_eq!(
        rule["switching_action"]["file"],
        json!({"content_type": "text/html"})
    );
    assert_eq!(out["http_security_policy"], json!({"rules": []}));
}

#[test]
fn enums_tolerate_values_from_newer_controllers() {
    let pool: Pool = from_json(json!({
        "name": "p", "lb_algorithm": "LB_ALGORITHM_FROM_THE_FUTURE",
        "servers": [{"ip": {"addr": "fd00::1", "type": "V7"}}]
    }));
    assert_eq!(
        pool.lb_algorithm,
        Some(LbAlgorithm::Other("LB_ALGORITHM_FROM_THE_FUTURE".into()))
    );
    assert!(!pool.lb_algorithm.as_ref().unwrap().is_known());
    assert_eq!(pool.servers[0].ip.type_, IpAddrType::Other("V7".into()));
    // Written back exactly as read.
    let out = to_json(&pool);
    assert_eq!(out["lb_algorithm"], json!("LB_ALGORITHM_FROM_THE_FUTURE"));
    assert_eq!(out["servers"][0]["ip"]["type"], json!("V7"));

    let vs: VirtualService =
        from_json(json!({"name": "v", "type": "VS_TYPE_NEW", "vh_type": "VS_TYPE_VH_NEW"}));
    assert_eq!(vs.type_, Some(VsType::Other("VS_TYPE_NEW".into())));
    assert_eq!(vs.vh_type, Some(VhType::Other("VS_TYPE_VH_NEW".into())));
    let action: HttpSwitchingAction = from_json(json!({"action": "HTTP_SWITCHING_SELECT_NEW"}));
    assert_eq!(action.action.as_str(), "HTTP_SWITCHING_SELECT_NEW");
    let path: PathMatch = from_json(json!({"match_criteria": "GLOB", "match_case": "WHATEVER"}));
    assert_eq!(path.match_criteria, PathMatchCriteria::Other("GLOB".into()));
    let cert: SslKeyAndCertificate =
        from_json(json!({"name": "c", "certificate": {}, "type": "SSL_CERTIFICATE_TYPE_NEW"}));
    assert_eq!(
        cert.type_.as_ref().map(SslCertificateType::as_str),
        Some("SSL_CERTIFICATE_TYPE_NEW")
    );

    // Known spellings map to their variants, and back.
    for (variant, wire) in [
        (VsType::Normal, "VS_TYPE_NORMAL"),
        (VsType::VhParent, "VS_TYPE_VH_PARENT"),
        (VsType::VhChild, "VS_TYPE_VH_CHILD"),
    ] {
        assert_eq!(to_json(&variant), json!(wire));
        assert_eq!(from_json::<VsType>(json!(wire)), variant);
        assert_eq!(wire.parse::<VsType>(), Ok(variant.clone()));
        assert_eq!(variant.to_string(), wire);
    }
    assert_eq!(to_json(&VhType::Enhanced), json!("VS_TYPE_VH_ENHANCED"));
    assert_eq!(to_json(&IpAddrType::Dns), json!("DNS"));
    assert_eq!(
        to_json(&LbAlgorithm::RoundRobin),
        json!("LB_ALGORITHM_ROUND_ROBIN")
    );
    assert_eq!(
        to_json(&SslCertificateType::Ca),
        json!("SSL_CERTIFICATE_TYPE_CA")
    );
    assert_eq!(
        to_json(&HttpSwitchingActionType::SelectPoolGroup),
        json!("HTTP_SWITCHING_SELECT_POOLGROUP")
    );
}

const PEM_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKyKeyMaterialThatMustNotLeak0123456789\n-----END PRIVATE KEY-----\n";

#[test]
fn secret_key_is_sent_but_never_shown() {
    let cert = SslKeyAndCertificate {
        certificate: SslCertificate::from_pem("-----BEGIN CERTIFICATE-----\n..."),
        key: Some(SecretKey::new(PEM_KEY)),
        key_passphrase: Some(SecretKey::new("hunter2")),
        ..SslKeyAndCertificate::new("c")
    };
    let debug = format!("{cert:?} {cert:#?}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    assert!(!debug.contains("KeyMaterialThatMustNotLeak"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("<redacted>"));
    assert_eq!(format!("{:?}", SecretKey::new(PEM_KEY)), "<redacted>");

    // POST/PUT bodies carry the PEM.
    let out = to_json(&cert);
    assert_eq!(out["key"], json!(PEM_KEY));
    assert_eq!(out["key_passphrase"], json!("hunter2"));
    assert_eq!(cert.key.as_ref().map(SecretKey::expose), Some(PEM_KEY));

    // A GET returns the placeholder, which reads, and is written back as is.
    let got: SslKeyAndCertificate =
        from_json(json!({"name": "c", "certificate": {"certificate": "x"}, "key": "<sensitive>"}));
    let key = got.key.as_ref().unwrap();
    assert!(key.is_placeholder());
    assert!(!SecretKey::new(PEM_KEY).is_placeholder());
    assert_eq!(to_json(&got)["key"], json!("<sensitive>"));
    // Anything else reads too.
    let odd: SecretKey = from_json(json!({"not": "a string"}));
    assert!(!odd.is_placeholder());

    // Session ticket keys the controller returns are secrets as well.
    let vses: Vec<VirtualService> = mock_results("virtualservice_mock.json")
        .into_iter()
        .map(from_json)
        .collect();
    let debug = format!("{vses:?}");
    assert!(
        !debug.contains("MeXl/4x/ec1JM0PTAdNvVA=="),
        "tls_ticket_key leaked"
    );
    assert_eq!(
        to_json(&vses[0])["tls_ticket_key"][0]["hmac_key"],
        json!("MeXl/4x/ec1JM0PTAdNvVA==")
    );
}

/// Checks the trait constants and that a name-only object sends only its name.
fn minimal<T: AviObject + Debug>(kind: Kind) {
    let object: T = from_json(json!({"name": "n"}));
    assert_eq!(T::KIND, kind);
    assert_eq!(object.name(), "n");
    assert_eq!(object.uuid(), None);
    assert_eq!(object.created_by(), None);
    // Pools and pool groups always state their servers / members.
    let expected = match kind {
        Kind::Pool => json!({"name": "n", "servers": []}),
        Kind::PoolGroup => json!({"name": "n", "members": []}),
        _ => json!({"name": "n"}),
    };
    assert_eq!(to_json(&object), expected, "{kind}");

    let full: T = from_json(json!({
        "name": "n", "uuid": format!("{kind}-1"), "created_by": "ako-c",
        "url": format!("https://h/api/{kind}/{kind}-1#n"), "_last_modified": "1"
    }));
    assert_eq!(full.uuid(), Some(format!("{kind}-1").as_str()));
    assert_eq!(full.created_by(), Some("ako-c"));
    assert_eq!(to_json(&full)["_last_modified"], json!("1"));
}

#[test]
fn every_model_implements_avi_object() {
    minimal::<Tenant>(Kind::Tenant);
    minimal::<Cloud>(Kind::Cloud);
    minimal::<VrfContext>(Kind::VrfContext);
    minimal::<ServiceEngineGroup>(Kind::ServiceEngineGroup);
    minimal::<SslProfile>(Kind::SslProfile);
    minimal::<PkiProfile>(Kind::PkiProfile);
    minimal::<ApplicationProfile>(Kind::ApplicationProfile);
    minimal::<HealthMonitor>(Kind::HealthMonitor);
    minimal::<ApplicationPersistenceProfile>(Kind::ApplicationPersistenceProfile);
    minimal::<Pool>(Kind::Pool);
    minimal::<PoolGroup>(Kind::PoolGroup);
    minimal::<HttpPolicySet>(Kind::HttpPolicySet);
    minimal::<VsVip>(Kind::VsVip);
    minimal::<VirtualService>(Kind::VirtualService);
    // The certificate is required: a name-only body still carries an (empty) certificate.
    let cert = SslKeyAndCertificate::new("n");
    assert_eq!(SslKeyAndCertificate::KIND, Kind::SslKeyAndCertificate);
    assert_eq!(to_json(&cert), json!({"name": "n", "certificate": {}}));
    let read: SslKeyAndCertificate = from_json(json!({"name": "n"}));
    assert_eq!(read, cert);
}

#[test]
fn other_models_carry_their_fields() {
    let profile = SslProfile {
        accepted_versions: vec![SslVersionType::Tls1_2.into(), SslVersionType::Tls1_3.into()],
        type_: Some(SslProfileType::Application),
        ..SslProfile::new("tls12-13")
    };
    assert_eq!(
        to_json(&profile),
        json!({"name": "tls12-13", "type": "SSL_PROFILE_TYPE_APPLICATION",
               "accepted_versions": [{"type": "SSL_VERSION_TLS1_2"}, {"type": "SSL_VERSION_TLS1_3"}]})
    );

    let hm: HealthMonitor = round_trip(&json!({
        "name": "System-TCP", "type": "HEALTH_MONITOR_TCP", "send_interval": 10,
        "receive_timeout": 4, "successful_checks": 2, "failed_checks": 2, "monitor_port": 0,
        "tcp_monitor": {"tcp_half_open": false}, "tenant_ref": "https://h/api/tenant/admin#admin"
    }));
    assert_eq!(hm.type_, Some(HealthMonitorType::Tcp));
    assert_eq!(hm.monitor_port, Some(0));

    let persistence = ApplicationPersistenceProfile {
        persistence_type: Some(PersistenceType::HttpCookie),
        http_cookie_persistence_profile: Some(HttpCookiePersistenceProfile {
            cookie_name: Some("session".into()),
            timeout: Some(60),
            ..HttpCookiePersistenceProfile::default()
        }),
        ..ApplicationPersistenceProfile::new("ako-gw-cluster--persist")
    };
    assert_eq!(
        to_json(&persistence),
        json!({"name": "ako-gw-cluster--persist", "persistence_type": "PERSISTENCE_TYPE_HTTP_COOKIE",
               "http_cookie_persistence_profile": {"cookie_name": "session", "timeout": 60}})
    );
    let returned: ApplicationPersistenceProfile = round_trip(&json!({
        "name": "p", "persistence_type": "PERSISTENCE_TYPE_HTTP_COOKIE",
        "http_cookie_persistence_profile": {"key": [{"name": "k", "aes_key": "AESKEYSECRET", "hmac_key": "HMACSECRET"}]}
    }));
    assert!(!format!("{returned:?}").contains("AESKEYSECRET"));

    let vrf: VrfContext = round_trip(&json!({
        "name": "global", "system_default": true,
        "cloud_ref": "https://h/api/cloud/cloud-1#Default-Cloud", "static_routes": [{"route_id": "1"}]
    }));
    assert_eq!(vrf.cloud_ref, Some(AviRef::by_name("Default-Cloud")));
    let seg: ServiceEngineGroup = round_trip(&json!({
        "name": "Default-Group", "cloud_ref": "/api/cloud/cloud-1", "ha_mode": "HA_MODE_SHARED"
    }));
    assert_eq!(seg.extra["ha_mode"], json!("HA_MODE_SHARED"));
    let cloud: Cloud = round_trip(&json!({"name": "Default-Cloud", "vtype": "CLOUD_NONE"}));
    assert_eq!(cloud.vtype.as_deref(), Some("CLOUD_NONE"));

    let chain = SslKeyAndCertificate {
        ca_certs: vec![CertificateAuthority::by_name("root-ca")],
        ..SslKeyAndCertificate::new("leaf")
    };
    assert_eq!(
        to_json(&chain)["ca_certs"],
        json!([{"name": "root-ca", "ca_ref": "/api/sslkeyandcertificate/?name=root-ca"}])
    );
}

#[test]
fn numbers_use_their_ranges() {
    let service: Service = from_json(json!({"port": 65535, "port_range_end": 0}));
    assert_eq!((service.port, service.port_range_end), (65535, Some(0)));
    assert!(serde_json::from_value::<Service>(json!({"port": 65536})).is_err());
    let pool: Pool = from_json(json!({"name": "p", "graceful_disable_timeout": -1}));
    assert_eq!(pool.graceful_disable_timeout, Some(-1));
    let member: PoolGroupMember = from_json(json!({"pool_ref": "/api/pool/p-1", "ratio": 1000}));
    assert_eq!(member.ratio, Some(1000));
    assert_eq!(
        to_json(&PoolGroupMember::new(AviRef::by_name("p")).with_ratio(0)),
        json!({"pool_ref": "/api/pool/?name=p", "ratio": 0})
    );
}

#[test]
fn ip_addr_helpers() {
    let v6: IpAddr = "fd00::1".parse::<std::net::IpAddr>().unwrap().into();
    assert_eq!(to_json(&v6), json!({"addr": "fd00::1", "type": "V6"}));
    assert_eq!(v6.to_std(), "fd00::1".parse().ok());
    assert_eq!(to_json(&IpAddr::dns("svc.local"))["type"], json!("DNS"));
    assert!(Marker::new("clustername", ["c"]).matches("clustername", "c"));
    assert!(!Marker::new("clustername", ["c"]).matches("clustername", "d"));
}
