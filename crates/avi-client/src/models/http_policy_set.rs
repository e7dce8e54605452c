//! `HTTPPolicySet` (`/api/httppolicyset`) and its request and response rules.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    HttpHdrAction, HttpRedirectAction, HttpRewriteUrlAction, HttpSwitchingAction, Marker,
    MatchTarget, ResponseMatchTarget, Tenant,
};
use crate::reference::AviRef;

/// An HTTP policy set: ordered request and response rules a virtual service applies
/// (`VirtualService.http_policies`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpPolicySet {
    /// The name (unique per tenant, and per cloud for cloud-scoped types).
    pub name: String,
    /// The uuid the controller assigned (`<type>-<uuid4>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The object's own URL (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Microseconds since the epoch of the last write (read-only).
    #[serde(
        rename = "_last_modified",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified: Option<String>,
    /// The tenant it belongs to (the request's tenant when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_ref: Option<AviRef<Tenant>>,
    /// Who created it; AKO writes `ako-<cluster>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Markers (labels for RBAC and ownership), e.g. `clustername`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Rules applied to requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_request_policy: Option<HttpRequestPolicy>,
    /// Rules applied to responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_response_policy: Option<HttpResponsePolicy>,
    /// Whether it is internal to the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_internal_policy: Option<bool>,
    /// Checksum of the orchestrator's view; AKO stores its own checksum here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_config_cksum: Option<String>,
    /// Fields this client does not model (`http_security_policy`, ...), kept for
    /// read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(HttpPolicySet, HttpPolicySet);

/// Request rules (`HTTPRequestPolicy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpRequestPolicy {
    /// The rules, applied in `index` order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<HttpRequestRule>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A request rule (`HTTPRequestRule`): when `match` holds, apply the actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequestRule {
    /// The rule's name (unique in the set).
    pub name: String,
    /// Its position (unique in the set).
    pub index: u32,
    /// Whether it applies.
    #[serde(default = "enabled")]
    pub enable: bool,
    /// What it matches (everything when unset).
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub match_: Option<MatchTarget>,
    /// Where the request goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switching_action: Option<HttpSwitchingAction>,
    /// Request header rewrites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hdr_action: Vec<HttpHdrAction>,
    /// A redirect instead of forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_action: Option<HttpRedirectAction>,
    /// A URL rewrite before forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite_url_action: Option<HttpRewriteUrlAction>,
    /// Log requests that match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<bool>,
    /// Log all headers of requests that match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_headers: Option<bool>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HttpRequestRule {
    /// An enabled rule with this name and index, matching everything, with no action.
    pub fn new(name: impl Into<String>, index: u32) -> Self {
        HttpRequestRule {
            name: name.into(),
            index,
            ..HttpRequestRule::default()
        }
    }
}

impl Default for HttpRequestRule {
    /// An enabled rule (the controller's default) with an empty name, index 0.
    fn default() -> Self {
        HttpRequestRule {
            name: String::new(),
            index: 0,
            enable: true,
            match_: Default::default(),
            switching_action: Default::default(),
            hdr_action: Default::default(),
            redirect_action: Default::default(),
            rewrite_url_action: Default::default(),
            log: Default::default(),
            all_headers: Default::default(),
            extra: Map::new(),
        }
    }
}

/// Response rules (`HTTPResponsePolicy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpResponsePolicy {
    /// The rules, applied in `index` order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<HttpResponseRule>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A response rule (`HTTPResponseRule`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpResponseRule {
    /// The rule's name (unique in the set).
    pub name: String,
    /// Its position (unique in the set).
    pub index: u32,
    /// Whether it applies.
    #[serde(default = "enabled")]
    pub enable: bool,
    /// What it matches (everything when unset).
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub match_: Option<ResponseMatchTarget>,
    /// Response header rewrites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hdr_action: Vec<HttpHdrAction>,
    /// Log responses that match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<bool>,
    /// Log all headers of responses that match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_headers: Option<bool>,
    /// Fields this client does not model (`loc_hdr_action`, ...), kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HttpResponseRule {
    /// An enabled rule with this name and index, matching everything, with no action.
    pub fn new(name: impl Into<String>, index: u32) -> Self {
        HttpResponseRule {
            name: name.into(),
            index,
            ..HttpResponseRule::default()
        }
    }
}

impl Default for HttpResponseRule {
    /// An enabled rule (the controller's default) with an empty name, index 0.
    fn default() -> Self {
        HttpResponseRule {
            name: String::new(),
            index: 0,
            enable: true,
            match_: Default::default(),
            hdr_action: Default::default(),
            log: Default::default(),
            all_headers: Default::default(),
            extra: Map::new(),
        }
    }
}

/// The controller's default for a rule's `enable`.
fn enabled() -> bool {
    true
}
