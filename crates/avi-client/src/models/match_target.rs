//! Match criteria shared by HTTP policy rules and EVH child selection (`MatchTarget`,
//! `PathMatch`, `HostHdrMatch`, `HdrMatch`, `PortMatch`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

wire_enum! {
    /// Case sensitivity of a string match.
    pub enum MatchCase {
        /// `INSENSITIVE` (the controller's default).
        default Insensitive = "INSENSITIVE",
        /// `SENSITIVE`.
        Sensitive = "SENSITIVE",
    }
}

wire_enum! {
    /// `PathMatch.match_criteria`.
    pub enum PathMatchCriteria {
        /// `CONTAINS` (the controller's default).
        default Contains = "CONTAINS",
        /// `BEGINS_WITH`.
        BeginsWith = "BEGINS_WITH",
        /// `DOES_NOT_BEGIN_WITH`.
        DoesNotBeginWith = "DOES_NOT_BEGIN_WITH",
        /// `DOES_NOT_CONTAIN`.
        DoesNotContain = "DOES_NOT_CONTAIN",
        /// `ENDS_WITH`.
        EndsWith = "ENDS_WITH",
        /// `DOES_NOT_END_WITH`.
        DoesNotEndWith = "DOES_NOT_END_WITH",
        /// `EQUALS`.
        Equals = "EQUALS",
        /// `DOES_NOT_EQUAL`.
        DoesNotEqual = "DOES_NOT_EQUAL",
        /// `REGEX_MATCH`.
        RegexMatch = "REGEX_MATCH",
        /// `REGEX_DOES_NOT_MATCH`.
        RegexDoesNotMatch = "REGEX_DOES_NOT_MATCH",
    }
}

wire_enum! {
    /// `HostHdrMatch.match_criteria` and `HdrMatch.match_criteria`.
    pub enum HdrMatchCriteria {
        /// `HDR_EQUALS`.
        default Equals = "HDR_EQUALS",
        /// `HDR_DOES_NOT_EQUAL`.
        DoesNotEqual = "HDR_DOES_NOT_EQUAL",
        /// `HDR_EXISTS`.
        Exists = "HDR_EXISTS",
        /// `HDR_DOES_NOT_EXIST`.
        DoesNotExist = "HDR_DOES_NOT_EXIST",
        /// `HDR_BEGINS_WITH`.
        BeginsWith = "HDR_BEGINS_WITH",
        /// `HDR_DOES_NOT_BEGIN_WITH`.
        DoesNotBeginWith = "HDR_DOES_NOT_BEGIN_WITH",
        /// `HDR_CONTAINS`.
        Contains = "HDR_CONTAINS",
        /// `HDR_DOES_NOT_CONTAIN`.
        DoesNotContain = "HDR_DOES_NOT_CONTAIN",
        /// `HDR_ENDS_WITH`.
        EndsWith = "HDR_ENDS_WITH",
        /// `HDR_DOES_NOT_END_WITH`.
        DoesNotEndWith = "HDR_DOES_NOT_END_WITH",
    }
}

wire_enum! {
    /// `PortMatch.match_criteria` (also used by protocol and method matches).
    pub enum PortMatchCriteria {
        /// `IS_IN`.
        default IsIn = "IS_IN",
        /// `IS_NOT_IN`.
        IsNotIn = "IS_NOT_IN",
    }
}

/// What a request rule (or an EVH child's `vh_matches` rule) matches (`MatchTarget`); all set
/// criteria must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MatchTarget {
    /// The request path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
    /// The host header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_hdr: Option<HostHdrMatch>,
    /// Request headers (all must match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hdrs: Vec<HdrMatch>,
    /// The virtual service port the request came in on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vs_port: Option<PortMatch>,
    /// The request method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<MethodMatch>,
    /// The query string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<QueryMatch>,
    /// Fields this client does not model (`cookie`, `protocol`, `client_ip`, ...), kept for
    /// read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

wire_enum! {
    /// How a method list is applied.
    pub enum MethodMatchCriteria {
        /// The method is one of the list.
        default IsIn = "IS_IN",
        /// The method is none of the list.
        IsNotIn = "IS_NOT_IN",
    }
}

wire_enum! {
    /// An HTTP method as Avi names it.
    pub enum HttpMethod {
        /// GET.
        default Get = "HTTP_METHOD_GET",
        /// HEAD.
        Head = "HTTP_METHOD_HEAD",
        /// PUT.
        Put = "HTTP_METHOD_PUT",
        /// DELETE.
        Delete = "HTTP_METHOD_DELETE",
        /// POST.
        Post = "HTTP_METHOD_POST",
        /// OPTIONS.
        Options = "HTTP_METHOD_OPTIONS",
        /// TRACE.
        Trace = "HTTP_METHOD_TRACE",
        /// CONNECT.
        Connect = "HTTP_METHOD_CONNECT",
        /// PATCH.
        Patch = "HTTP_METHOD_PATCH",
    }
}

/// A method match (`MethodMatch`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MethodMatch {
    /// IS_IN or IS_NOT_IN.
    #[serde(default)]
    pub match_criteria: MethodMatchCriteria,
    /// The methods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<HttpMethod>,
    /// Fields this client does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MethodMatch {
    /// The method is `method`.
    pub fn is(method: HttpMethod) -> Self {
        MethodMatch {
            match_criteria: MethodMatchCriteria::IsIn,
            methods: vec![method],
            extra: Map::new(),
        }
    }
}

wire_enum! {
    /// How a query string is compared (`QueryMatch.match_criteria`; the subset this client sets).
    pub enum QueryMatchCriteria {
        /// The query string contains one of the strings.
        default Contains = "QUERY_MATCH_CONTAINS",
        /// The query string equals one of the strings.
        Equals = "QUERY_MATCH_EQUALS",
        /// The query string matches one of the regular expressions.
        RegexMatch = "QUERY_MATCH_REGEX_MATCH",
        /// The query string exists.
        Exists = "QUERY_MATCH_EXISTS",
    }
}

/// A match on the whole query string (`QueryMatch`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryMatch {
    /// The comparison.
    #[serde(default)]
    pub match_criteria: QueryMatchCriteria,
    /// Case sensitivity (default INSENSITIVE on the controller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_case: Option<MatchCase>,
    /// The strings (any may match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_str: Vec<String>,
    /// Fields this client does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a response rule matches (`ResponseMatchTarget`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseMatchTarget {
    /// The request path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
    /// The request's host header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_hdr: Option<HostHdrMatch>,
    /// Request headers (all must match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hdrs: Vec<HdrMatch>,
    /// Response headers (all must match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rsp_hdrs: Vec<HdrMatch>,
    /// The virtual service port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vs_port: Option<PortMatch>,
    /// Fields this client does not model (`status`, `loc_hdr`, ...), kept for
    /// read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A path match (`PathMatch`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PathMatch {
    /// How to compare.
    #[serde(default)]
    pub match_criteria: PathMatchCriteria,
    /// Case sensitivity (controller default insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_case: Option<MatchCase>,
    /// The strings to compare with (any may match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_str: Vec<String>,
    /// String groups to compare with (refs to `StringGroup`, unmodelled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub string_group_refs: Vec<String>,
    /// Match the decoded path (controller default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_decoded_string: Option<bool>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PathMatch {
    /// A case-sensitive match of these strings.
    pub fn new<I, S>(match_criteria: PathMatchCriteria, match_str: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PathMatch {
            match_criteria,
            match_case: Some(MatchCase::Sensitive),
            match_str: match_str.into_iter().map(Into::into).collect(),
            ..PathMatch::default()
        }
    }
}

/// A host header match (`HostHdrMatch`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostHdrMatch {
    /// How to compare.
    #[serde(default)]
    pub match_criteria: HdrMatchCriteria,
    /// Case sensitivity (controller default insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_case: Option<MatchCase>,
    /// The values to compare with (any may match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value: Vec<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A header match (`HdrMatch`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HdrMatch {
    /// The header's name.
    pub hdr: String,
    /// How to compare.
    #[serde(default)]
    pub match_criteria: HdrMatchCriteria,
    /// Case sensitivity (controller default insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_case: Option<MatchCase>,
    /// The values to compare with (any may match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value: Vec<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A virtual service port match (`PortMatch`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PortMatch {
    /// In or not in `ports`.
    #[serde(default)]
    pub match_criteria: PortMatchCriteria,
    /// The ports (1-65535, at least one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PortMatch {
    /// Matches requests on any of these ports.
    pub fn is_in(ports: impl IntoIterator<Item = u16>) -> Self {
        PortMatch {
            match_criteria: PortMatchCriteria::IsIn,
            ports: ports.into_iter().collect(),
            extra: Map::new(),
        }
    }
}
