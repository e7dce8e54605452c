//! Actions of HTTP policy rules: content switching, header rewrite, redirect, URL rewrite.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Pool, PoolGroup};
use crate::reference::AviRef;

wire_enum! {
    /// `HTTPSwitchingAction.action`.
    pub enum HttpSwitchingActionType {
        /// `HTTP_SWITCHING_SELECT_POOL`: send to `pool_ref`.
        default SelectPool = "HTTP_SWITCHING_SELECT_POOL",
        /// `HTTP_SWITCHING_SELECT_POOLGROUP`: send to `pool_group_ref`.
        SelectPoolGroup = "HTTP_SWITCHING_SELECT_POOLGROUP",
        /// `HTTP_SWITCHING_SELECT_LOCAL`: answer locally with `status_code`.
        SelectLocal = "HTTP_SWITCHING_SELECT_LOCAL",
    }
}

wire_enum! {
    /// `HTTPSwitchingAction.status_code`: a local response's status.
    pub enum LocalResponseStatusCode {
        /// `HTTP_LOCAL_RESPONSE_STATUS_CODE_404`.
        default Code404 = "HTTP_LOCAL_RESPONSE_STATUS_CODE_404",
        /// `HTTP_LOCAL_RESPONSE_STATUS_CODE_200`.
        Code200 = "HTTP_LOCAL_RESPONSE_STATUS_CODE_200",
        /// `HTTP_LOCAL_RESPONSE_STATUS_CODE_204`.
        Code204 = "HTTP_LOCAL_RESPONSE_STATUS_CODE_204",
        /// `HTTP_LOCAL_RESPONSE_STATUS_CODE_403`.
        Code403 = "HTTP_LOCAL_RESPONSE_STATUS_CODE_403",
        /// `HTTP_LOCAL_RESPONSE_STATUS_CODE_429`.
        Code429 = "HTTP_LOCAL_RESPONSE_STATUS_CODE_429",
        /// `HTTP_LOCAL_RESPONSE_STATUS_CODE_501`.
        Code501 = "HTTP_LOCAL_RESPONSE_STATUS_CODE_501",
    }
}

wire_enum! {
    /// `HTTPHdrAction.action`.
    pub enum HttpHdrActionType {
        /// `HTTP_ADD_HDR`.
        default Add = "HTTP_ADD_HDR",
        /// `HTTP_REPLACE_HDR`: set, replacing any existing value.
        Replace = "HTTP_REPLACE_HDR",
        /// `HTTP_REMOVE_HDR`.
        Remove = "HTTP_REMOVE_HDR",
    }
}

wire_enum! {
    /// `HTTPRedirectAction.protocol`.
    pub enum RedirectProtocol {
        /// `HTTP`.
        default Http = "HTTP",
        /// `HTTPS`.
        Https = "HTTPS",
    }
}

wire_enum! {
    /// `HTTPRedirectAction.status_code`.
    pub enum RedirectStatusCode {
        /// `HTTP_REDIRECT_STATUS_CODE_302` (the controller's default).
        default Code302 = "HTTP_REDIRECT_STATUS_CODE_302",
        /// `HTTP_REDIRECT_STATUS_CODE_301`.
        Code301 = "HTTP_REDIRECT_STATUS_CODE_301",
        /// `HTTP_REDIRECT_STATUS_CODE_307`.
        Code307 = "HTTP_REDIRECT_STATUS_CODE_307",
    }
}

wire_enum! {
    /// `URIParam.type`.
    pub enum UriParamType {
        /// `URI_PARAM_TYPE_TOKENIZED`.
        default Tokenized = "URI_PARAM_TYPE_TOKENIZED",
    }
}

wire_enum! {
    /// `URIParamToken.type`.
    pub enum UriTokenType {
        /// `URI_TOKEN_TYPE_STRING`: a literal `str_value`.
        default String = "URI_TOKEN_TYPE_STRING",
        /// `URI_TOKEN_TYPE_HOST`: host labels `start_index..=end_index` of the request.
        Host = "URI_TOKEN_TYPE_HOST",
        /// `URI_TOKEN_TYPE_PATH`: path segments `start_index..=end_index` of the request.
        Path = "URI_TOKEN_TYPE_PATH",
        /// `URI_TOKEN_TYPE_STRING_GROUP`.
        StringGroup = "URI_TOKEN_TYPE_STRING_GROUP",
        /// `URI_TOKEN_TYPE_REGEX`.
        Regex = "URI_TOKEN_TYPE_REGEX",
        /// `URI_TOKEN_TYPE_REGEX_QUERY`.
        RegexQuery = "URI_TOKEN_TYPE_REGEX_QUERY",
    }
}

/// Where a matching request goes (`HTTPSwitchingAction`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpSwitchingAction {
    /// Pool, pool group, or a local response.
    #[serde(default)]
    pub action: HttpSwitchingActionType,
    /// The pool, for [`HttpSwitchingActionType::SelectPool`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_ref: Option<AviRef<Pool>>,
    /// The pool group, for [`HttpSwitchingActionType::SelectPoolGroup`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_group_ref: Option<AviRef<PoolGroup>>,
    /// The status, for [`HttpSwitchingActionType::SelectLocal`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<LocalResponseStatusCode>,
    /// Any other status (200-599) for a local response (30.2.1+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_status_code: Option<u32>,
    /// Fields this client does not model (`file`, `server`), kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HttpSwitchingAction {
    /// Send to this pool.
    pub fn pool(pool: AviRef<Pool>) -> Self {
        HttpSwitchingAction {
            action: HttpSwitchingActionType::SelectPool,
            pool_ref: Some(pool),
            ..HttpSwitchingAction::default()
        }
    }

    /// Send to this pool group.
    pub fn pool_group(pool_group: AviRef<PoolGroup>) -> Self {
        HttpSwitchingAction {
            action: HttpSwitchingActionType::SelectPoolGroup,
            pool_group_ref: Some(pool_group),
            ..HttpSwitchingAction::default()
        }
    }

    /// Answer locally with this status.
    pub fn local(status_code: LocalResponseStatusCode) -> Self {
        HttpSwitchingAction {
            action: HttpSwitchingActionType::SelectLocal,
            status_code: Some(status_code),
            ..HttpSwitchingAction::default()
        }
    }
}

/// A header rewrite (`HTTPHdrAction`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpHdrAction {
    /// Add, replace or remove.
    #[serde(default)]
    pub action: HttpHdrActionType,
    /// The header (name, and value unless removing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr: Option<HttpHdrData>,
    /// The order among the rule's header actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr_index: Option<u32>,
    /// Fields this client does not model (`cookie`), kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A header in a rewrite (`HTTPHdrData`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpHdrData {
    /// The header's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<HttpHdrValue>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A header value (`HTTPHdrValue`): a literal `val` or a variable `var`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpHdrValue {
    /// A literal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val: Option<String>,
    /// A variable, e.g. `HTTP_POLICY_VAR_CLIENT_IP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub var: Option<String>,
    /// Hide the value in logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_sensitive: Option<bool>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A redirect (`HTTPRedirectAction`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpRedirectAction {
    /// The scheme of the target.
    #[serde(default)]
    pub protocol: RedirectProtocol,
    /// The target host (the request's when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<UriParam>,
    /// The target port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The target path (the request's when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<UriParam>,
    /// Keep the query string (controller default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_query: Option<bool>,
    /// A string to append to the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_string: Option<String>,
    /// 301, 302 or 307.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<RedirectStatusCode>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A URL rewrite before forwarding (`HTTPRewriteURLAction`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpRewriteUrlAction {
    /// The new host header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_hdr: Option<UriParam>,
    /// The new path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<UriParam>,
    /// What happens to the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<UriParamQuery>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A host or path built from tokens (`URIParam`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UriParam {
    /// Always tokenized.
    #[serde(rename = "type", default)]
    pub type_: UriParamType,
    /// The tokens, concatenated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<UriParamToken>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UriParam {
    /// A literal string.
    pub fn literal(value: impl Into<String>) -> Self {
        UriParam {
            type_: UriParamType::Tokenized,
            tokens: vec![UriParamToken {
                type_: UriTokenType::String,
                str_value: Some(value.into()),
                ..UriParamToken::default()
            }],
            extra: Map::new(),
        }
    }
}

/// One token of a [`UriParam`] (`URIParamToken`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UriParamToken {
    /// Literal, or taken from the request.
    #[serde(rename = "type", default)]
    pub type_: UriTokenType,
    /// The literal, for [`UriTokenType::String`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub str_value: Option<String>,
    /// First host label or path segment taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<u32>,
    /// Last host label or path segment taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_index: Option<u32>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The query part of a URL rewrite (`URIParamQuery`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UriParamQuery {
    /// Keep the request's query (controller default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_query: Option<bool>,
    /// A string to append.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_string: Option<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
