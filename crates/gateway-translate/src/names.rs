//! AKO-compatible Avi object names.
//!
//! A cluster must be able to switch from AKO 1.14's `ako-gateway-api` container to us without
//! recreating its Avi objects, so every name here is computed exactly as AKO computes it. The Go
//! definitions each function follows are quoted in its docs (paths relative to
//! `vmware/load-balancer-and-ingress-services-for-kubernetes`).
//!
//! The scheme in one place (the gateway container forces `ENABLE_EVH=true` and calls
//! `lib.SetNamePrefix("ako-gw-")`, so every encoded name is hashed):
//!
//! | object | name |
//! | --- | --- |
//! | parent EVH VS, and its VsVip | `ako-gw-<cluster>--<gwNs>-<gw>-EVH` |
//! | child VS = its PoolGroup = its HTTPPolicySet | `ako-gw-<cluster>--` + sha1hex(`<gwNs>-<gw>-<routeNs>-<route>-<h>`) |
//! | pool of one backend | `ako-gw-<cluster>--` + sha1hex(`<gwNs>-<gw>-<routeNs>-<route>-<h>-<backendNs>-<backend>-<port>`) |
//! | listener certificate | `ako-gw-<cluster>--` + sha1hex(`<gwNs>-<gw>-<secretNs>-<secret>`) |
//! | default-backend HTTPPolicySet | `ako-gw-<cluster>--default-backend` |
//!
//! where `h` is [`rule_hash`]: the decimal FNV-1a/32 of the rule's name, or of AKO's JSON
//! rendering of the rule's matches ([`matches_json`]) when the rule has no name.
//!
//! ```
//! use gateway_translate::names;
//!
//! assert_eq!(names::parent_vs("cluster", "default", "gw"), "ako-gw-cluster--default-gw-EVH");
//! let child = names::child_vs("cluster", "default", "gw", "default", "route", "3620195432");
//! assert_eq!(child.len(), "ako-gw-cluster--".len() + 40);
//! ```

use gateway_api::httproutes::{
    HttpRouteRules, HttpRouteRulesMatchesHeadersType, HttpRouteRulesMatchesPathType,
};

/// 32-bit FNV-1a of the UTF-8 bytes of `s`.
///
/// AKO's `utils.Hash` (`pkg/utils/utils.go`):
/// ```go
/// func Hash(s string) uint32 { h := fnv.New32a(); h.Write([]byte(s)); return h.Sum32() }
/// ```
#[must_use]
pub fn fnv32a(s: &str) -> u32 {
    const OFFSET_BASIS: u32 = 2_166_136_261;
    const PRIME: u32 = 16_777_619;
    s.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(PRIME)
    })
}

pub use translate_core::names::sha1_hex;

/// AKO's rendering of a rule's matches: what `utils.Stringify(rule.Matches)` produces after AKO
/// has defaulted and sorted them. This string is hashed into the names of an unnamed rule.
///
/// `utils.Stringify` is `json.Marshal` (`pkg/utils/utils.go`), and `rule.Matches` is a
/// `[]*Match` of these types, which carry **no JSON tags**
/// (`ako-gateway-api/nodes/route_model.go`):
/// ```go
/// type HeaderMatch struct { Type string; Name string; Value string }
/// type PathMatch struct { Path string; Type string }
/// type Match struct { PathMatch *PathMatch; HeaderMatch []*HeaderMatch }
/// ```
/// So the keys are the Go field names in declaration order, an absent path is
/// `"PathMatch":null`, and `HeaderMatch` is always a list (`[]` when empty) because AKO builds
/// it with `make`. Query-parameter and method matches are not read by AKO and do not appear.
///
/// Defaulting (`httpRoute.ParseRouteConfig`): a path without a value gets `"/"`, a path without
/// a type gets `"PathPrefix"`; a header without a type keeps `""` (the API server normally
/// defaults it to `Exact`). The matches are then sorted with `sort.Sort((Matches)(...))`:
/// ```go
/// func (m Matches) Less(i, j int) bool {
///     if m[i].PathMatch != nil && m[j].PathMatch != nil {
///         return m[i].PathMatch.Path < m[j].PathMatch.Path
///     }
///     return false
/// }
/// ```
/// `sort.Sort` is Go's unstable pattern-defeating quicksort, and this `Less` is not even a strict
/// weak order; this module replays Go's algorithm step by step (`go_sort`), so that matches with
/// equal paths, or without a path, end up in the same order as under AKO.
///
/// Strings are escaped as `encoding/json` does (`<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes).
///
/// ```
/// use gateway_api::httproutes::{HttpRouteRules, HttpRouteRulesMatches, HttpRouteRulesMatchesPath};
/// use gateway_api::httproutes::HttpRouteRulesMatchesPathType;
///
/// let rule = HttpRouteRules {
///     matches: Some(vec![HttpRouteRulesMatches {
///         path: Some(HttpRouteRulesMatchesPath {
///             r#type: Some(HttpRouteRulesMatchesPathType::PathPrefix),
///             value: Some("/bar".into()),
///         }),
///         ..Default::default()
///     }]),
///     ..Default::default()
/// };
/// assert_eq!(
///     gateway_translate::names::matches_json(&rule),
///     r#"[{"PathMatch":{"Path":"/bar","Type":"PathPrefix"},"HeaderMatch":[]}]"#,
/// );
/// ```
#[must_use]
pub fn matches_json(rule: &HttpRouteRules) -> String {
    let mut matches = ako_matches(rule);
    go_sort(&mut matches, |a, b| match (&a.path, &b.path) {
        (Some(a), Some(b)) => a.path < b.path,
        _ => false,
    });
    render_matches(&matches)
}

/// The `h` of a rule: the decimal FNV-1a/32 of the rule's name when it has one, else of
/// [`matches_json`].
///
/// AKO (`ako-gateway-api/nodes/avi_model_l7_translator.go`, `BuildChildVS`/`BuildPGPool`) passes
/// `rule.Name` when it is not `""`, else `utils.Stringify(rule.Matches)`, as `matchName` to the
/// name functions, which append `utils.Stringify(utils.Hash(matchName))`: the JSON of a
/// `uint32`, i.e. its decimal digits. An empty name counts as no name, as in AKO.
#[must_use]
pub fn rule_hash(rule: &HttpRouteRules) -> String {
    match rule_name(rule) {
        Some(name) => fnv32a(name).to_string(),
        None => fnv32a(&matches_json(rule)).to_string(),
    }
}

/// How AKO labels a rule to users: its name when it has one, else [`rule_hash`].
///
/// This is the child VS's `service_metadata.httproute_rule_name` and the key of the HTTPRoute
/// `Accepted` message JSON (`{"<label>":"<child VS uuid>"}`); AKO:
/// ```go
/// ruleName := utils.Stringify(utils.Hash(utils.Stringify(rule.Matches)))
/// if rule.Name != "" { ruleName = rule.Name }
/// ```
#[must_use]
pub fn rule_label(rule: &HttpRouteRules) -> String {
    match rule_name(rule) {
        Some(name) => name.to_owned(),
        None => rule_hash(rule),
    }
}

/// The name prefix of every object of the gateway container: `ako-gw-<cluster>--`.
///
/// `lib.SetNamePrefix("ako-gw-")` in `cmd/gateway-api/main.go`, with (`internal/lib/lib.go`):
/// ```go
/// func SetNamePrefix(prefix string) { NamePrefix = prefix + GetClusterName() + "--" }
/// ```
#[must_use]
pub fn prefix(cluster: &str) -> String {
    format!("ako-gw-{cluster}--")
}

/// The parent EVH virtual service of a Gateway: `ako-gw-<cluster>--<gwNs>-<gw>-EVH`.
///
/// `ako-gateway-api/lib/lib.go` (shared mode; AKO's dedicated mode adds `-L7-dedicated` before
/// `-EVH`, which we do not implement):
/// ```go
/// return lib.GetNamePrefix() + namespace + "-" + gwName + "-EVH"
/// ```
#[must_use]
pub fn parent_vs(cluster: &str, gw_ns: &str, gw: &str) -> String {
    format!("{}{gw_ns}-{gw}-EVH", prefix(cluster))
}

/// The VsVip of a virtual service: the VS's own name.
///
/// `BuildVsVipNodeForGateway` names it `lib.GetVsVipName(vsName)`, and (`internal/lib/lib.go`):
/// ```go
/// func GetVsVipName(vsName string) string {
///     vsVipName := vsName
///     CheckObjectNameLength(vsVipName, VIP)
///     return vsName
/// }
/// ```
#[must_use]
pub fn vsvip(vs_name: &str) -> String {
    vs_name.to_owned()
}

/// The child virtual service of one rule of a route under a gateway. Its PoolGroup has the same
/// name, and so has its HTTPPolicySet ([`http_policy_set`]).
///
/// `ako-gateway-api/lib/lib.go` (`GetChildName`; `GetPoolGroupName` is identical):
/// ```go
/// name := parentNs + "-" + parentName + "-" + routeNs + "-" + routeName
/// if matchName != "" { name = fmt.Sprintf("%s-%s", name, utils.Stringify(utils.Hash(matchName))) }
/// return lib.EncodeWithPrefix(name, lib.EVHVS)
/// ```
/// `rule_hash` is the rule's [`rule_hash`] (AKO's `matchName` is never empty).
#[must_use]
pub fn child_vs(
    cluster: &str,
    gw_ns: &str,
    gw: &str,
    route_ns: &str,
    route: &str,
    rule_hash: &str,
) -> String {
    encode(
        cluster,
        &format!("{gw_ns}-{gw}-{route_ns}-{route}-{rule_hash}"),
    )
}

/// The PoolGroup of a rule's child VS: the same name as [`child_vs`].
#[must_use]
pub fn pool_group(
    cluster: &str,
    gw_ns: &str,
    gw: &str,
    route_ns: &str,
    route: &str,
    rule_hash: &str,
) -> String {
    child_vs(cluster, gw_ns, gw, route_ns, route, rule_hash)
}

/// One rule of one route under one gateway: what the per-rule names are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteRef<'a> {
    /// Namespace of the parent Gateway.
    pub gw_ns: &'a str,
    /// Name of the parent Gateway.
    pub gw: &'a str,
    /// Namespace of the HTTPRoute.
    pub route_ns: &'a str,
    /// Name of the HTTPRoute.
    pub route: &'a str,
    /// The rule's [`rule_hash`].
    pub rule_hash: &'a str,
}

impl RouteRef<'_> {
    /// This rule's child VS name ([`child_vs`]).
    #[must_use]
    pub fn child_vs(&self, cluster: &str) -> String {
        child_vs(
            cluster,
            self.gw_ns,
            self.gw,
            self.route_ns,
            self.route,
            self.rule_hash,
        )
    }
}

/// The pool of one backend of a rule.
///
/// `ako-gateway-api/lib/lib.go` (`GetPoolName`), called with
/// `strconv.Itoa(int(httpbackend.Backend.Port))` (0 when the backendRef has no port) and the
/// backendRef's namespace, defaulted to the route's:
/// ```go
/// name := parentNs + "-" + parentName + "-" + routeNs + "-" + routeName + "-"
/// if matchName != "" { name = fmt.Sprintf("%s%s-", name, utils.Stringify(utils.Hash(matchName))) }
/// name = fmt.Sprintf("%s%s-%s-%s", name, backendNs, backendName, backendPort)
/// return lib.EncodeWithPrefix(name, lib.Pool)
/// ```
#[must_use]
pub fn pool(
    cluster: &str,
    route: &RouteRef<'_>,
    backend_ns: &str,
    backend: &str,
    port: i32,
) -> String {
    let RouteRef {
        gw_ns,
        gw,
        route_ns,
        route,
        rule_hash,
    } = *route;
    encode(
        cluster,
        &format!("{gw_ns}-{gw}-{route_ns}-{route}-{rule_hash}-{backend_ns}-{backend}-{port}"),
    )
}

/// The ApplicationPersistenceProfile of a rule with `sessionPersistence`; `persistence_type` is
/// Avi's, e.g. `PERSISTENCE_TYPE_HTTP_COOKIE`. Note that the type comes before the hash.
///
/// `ako-gateway-api/lib/lib.go` (`GetPersistenceProfileName`):
/// ```go
/// name := parentNs + "-" + parentName + "-" + routeNs + "-" + routeName + "-" +
///     sessionPersistenceType
/// if matchName != "" { name = fmt.Sprintf("%s-%s", name, utils.Stringify(utils.Hash(matchName))) }
/// return lib.EncodeWithPrefix(name, lib.ApplicationPersistenceProfile)
/// ```
#[must_use]
pub fn persistence_profile(cluster: &str, route: &RouteRef<'_>, persistence_type: &str) -> String {
    let RouteRef {
        gw_ns,
        gw,
        route_ns,
        route,
        rule_hash,
    } = *route;
    encode(
        cluster,
        &format!("{gw_ns}-{gw}-{route_ns}-{route}-{persistence_type}-{rule_hash}"),
    )
}

/// The SSLKeyAndCertificate made from a listener's certificateRef Secret. `secret_ns` is the
/// certificateRef's namespace, or the Gateway's when it is absent or empty.
///
/// `ako-gateway-api/lib/lib.go` (`GetTLSKeyCertNodeName`):
/// ```go
/// namePrefix := gatewayNameSpace + "-" + gatewayName + "-" + secretNameSpace + "-" + secretName
/// return lib.EncodeWithPrefix(namePrefix, lib.TLSKeyCert)
/// ```
#[must_use]
pub fn tls_key_cert(cluster: &str, gw_ns: &str, gw: &str, secret_ns: &str, secret: &str) -> String {
    encode(cluster, &format!("{gw_ns}-{gw}-{secret_ns}-{secret}"))
}

/// The SSLKeyAndCertificate of a Gateway's backend client certificate (`spec.tls.backend
/// .clientCertificateRef`): AKO has none; the name follows [`tls_key_cert`]'s pattern with
/// `backend-client` in the preimage, so the same Secret as a listener certificate and as the
/// client certificate gives two objects (their types and uses differ).
#[must_use]
pub fn backend_client_cert(
    cluster: &str,
    gw_ns: &str,
    gw: &str,
    secret_ns: &str,
    secret: &str,
) -> String {
    encode(
        cluster,
        &format!("{gw_ns}-{gw}-backend-client-{secret_ns}-{secret}"),
    )
}

/// The PKIProfile and the ApplicationProfile of one HTTPS port of a Gateway whose clients must
/// (or may) present certificates (`spec.tls.frontend`): AKO has none; `frontend-<port>` in the
/// preimage, one pair per port because the validation is per port (GEP-91). The two objects
/// share the name; Avi names are unique per type.
#[must_use]
pub fn frontend_validation(cluster: &str, gw_ns: &str, gw: &str, port: u16) -> String {
    encode(cluster, &format!("{gw_ns}-{gw}-frontend-{port}"))
}

/// The layer-4 virtual service (and its DataScript set) of TLS passthrough port `port` of a
/// Gateway: AKO has none; named like the parent with `-TLS-<port>` for `-EVH`.
#[must_use]
pub fn passthrough_vs(cluster: &str, gw_ns: &str, gw: &str, port: u16) -> String {
    format!("{}{gw_ns}-{gw}-TLS-{port}", prefix(cluster))
}

/// The pool group of a TLSRoute under a Gateway (its backends by weight).
#[must_use]
pub fn tls_route_pool_group(
    cluster: &str,
    gw_ns: &str,
    gw: &str,
    route_ns: &str,
    route: &str,
) -> String {
    encode(cluster, &format!("{gw_ns}-{gw}-{route_ns}-{route}-tls"))
}

/// The plain TCP pool of one backend of a TLSRoute under a Gateway.
#[must_use]
#[allow(clippy::too_many_arguments)]
pub fn tls_route_pool(
    cluster: &str,
    gw_ns: &str,
    gw: &str,
    route_ns: &str,
    route: &str,
    backend_ns: &str,
    backend: &str,
    port: i32,
) -> String {
    encode(
        cluster,
        &format!("{gw_ns}-{gw}-{route_ns}-{route}-tls-{backend_ns}-{backend}-{port}"),
    )
}

/// The HTTPPolicySet every parent VS ends with (a 404 for unmatched requests):
/// `ako-gw-<cluster>--default-backend`. Its one request rule is named `default-backend-rule`.
///
/// `ako-gateway-api/lib/lib.go`, with `Prefix = "ako-gw-"` and `lib.DefaultPSName =
/// "default-backend"`:
/// ```go
/// func GetDefaultHTTPPSName() string {
///     return Prefix + lib.GetClusterName() + "--" + lib.DefaultPSName
/// }
/// ```
#[must_use]
pub fn default_backend_policy(cluster: &str) -> String {
    format!("{}default-backend", prefix(cluster))
}

/// The HTTPPolicySet that carries a rule's filters: named after the child VS, as are its request
/// and response rules.
///
/// `BuildChildVS` calls `o.BuildHTTPPolicySet(key, childNode, routeModel, rule, 0, childVSName)`,
/// which creates `&nodes.AviHttpPolicySetNode{Name: httpPSName, ...}` with request rules
/// `Name: &httpPSName` and response rules `Name: &vsNode.Name`.
#[must_use]
pub fn http_policy_set(child_vs: &str) -> String {
    child_vs.to_owned()
}

/// The grouped child of the routes that overlap on one host and path of a parent (see
/// `precedence`), and its HTTPPolicySet: AKO has no such object; the name follows its pattern,
/// prefix + sha1hex of what identifies the group.
#[must_use]
pub fn overlap_group(cluster: &str, parent_vs: &str, host: &str, path: &str) -> String {
    encode(cluster, &format!("{parent_vs}-overlap-{host}-{path}"))
}

/// `lib.EncodeWithPrefix(s, …)` with the gateway container's prefix: prefix + sha1hex(s).
fn encode(cluster: &str, s: &str) -> String {
    let mut name = prefix(cluster);
    name.push_str(&sha1_hex(s));
    name
}

/// The rule's name when it is set and not empty (AKO tests `rule.Name != ""`).
pub fn rule_name(rule: &HttpRouteRules) -> Option<&str> {
    rule.name.as_deref().filter(|name| !name.is_empty())
}

/// AKO's `PathMatch`.
#[derive(Debug)]
struct PathMatch<'a> {
    path: &'a str,
    kind: &'static str,
}

/// AKO's `HeaderMatch`.
#[derive(Debug)]
struct HeaderMatch<'a> {
    kind: &'static str,
    name: &'a str,
    value: &'a str,
}

/// AKO's `Match`.
#[derive(Debug)]
struct Match<'a> {
    path: Option<PathMatch<'a>>,
    headers: Vec<HeaderMatch<'a>>,
}

/// The matches of a rule as `httpRoute.ParseRouteConfig` builds them, before sorting.
fn ako_matches(rule: &HttpRouteRules) -> Vec<Match<'_>> {
    rule.matches
        .iter()
        .flatten()
        .map(|m| Match {
            path: m.path.as_ref().map(|path| PathMatch {
                path: path.value.as_deref().unwrap_or("/"),
                kind: match path.r#type {
                    None | Some(HttpRouteRulesMatchesPathType::PathPrefix) => "PathPrefix",
                    Some(HttpRouteRulesMatchesPathType::Exact) => "Exact",
                    Some(HttpRouteRulesMatchesPathType::RegularExpression) => "RegularExpression",
                },
            }),
            headers: m
                .headers
                .iter()
                .flatten()
                .map(|header| HeaderMatch {
                    kind: match header.r#type {
                        None => "",
                        Some(HttpRouteRulesMatchesHeadersType::Exact) => "Exact",
                        Some(HttpRouteRulesMatchesHeadersType::RegularExpression) => {
                            "RegularExpression"
                        }
                    },
                    name: &header.name,
                    value: &header.value,
                })
                .collect(),
        })
        .collect()
}

/// `json.Marshal` of a `[]*Match`.
fn render_matches(matches: &[Match<'_>]) -> String {
    let mut out = String::from("[");
    for (i, m) in matches.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"PathMatch\":");
        match &m.path {
            None => out.push_str("null"),
            Some(path) => {
                out.push_str("{\"Path\":");
                push_go_json_string(&mut out, path.path);
                out.push_str(",\"Type\":");
                push_go_json_string(&mut out, path.kind);
                out.push('}');
            }
        }
        out.push_str(",\"HeaderMatch\":[");
        for (j, header) in m.headers.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str("{\"Type\":");
            push_go_json_string(&mut out, header.kind);
            out.push_str(",\"Name\":");
            push_go_json_string(&mut out, header.name);
            out.push_str(",\"Value\":");
            push_go_json_string(&mut out, header.value);
            out.push('}');
        }
        out.push_str("]}");
    }
    out.push(']');
    out
}

/// A JSON string literal exactly as Go's `encoding/json` writes it with HTML escaping on (the
/// `json.Marshal` default, Go 1.22 and later): `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
/// control characters and `<`, `>`, `&` as `\u00xx` (lowercase hex), U+2028/U+2029 as `\u2028`
/// and `\u2029`, everything else (DEL included) as is. Rust strings are valid UTF-8, so Go's
/// replacement of invalid bytes by U+FFFD never applies.
fn push_go_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0}'..='\u{1f}' | '<' | '>' | '&' => {
                let byte = u32::from(c);
                out.push_str("\\u00");
                out.push(char::from(HEX[(byte >> 4) as usize]));
                out.push(char::from(HEX[(byte & 0xf) as usize]));
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `sort.Sort` (Go 1.22+ `sort/zsortinterface.go` and `sort/sort.go`, the toolchain AKO 1.14
/// builds with is go1.24): pattern-defeating quicksort, insertion sort for 12 elements or fewer.
/// It is not stable, and with a `less` that is not a strict weak order (AKO's returns false
/// whenever a path is absent) the result depends on every step, so this replays them exactly:
/// same pivots, same swaps, same deterministic `breakPatterns` xorshift (13, 7, 17).
fn go_sort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let limit = bits_len(n);
    GoSort { v, less }.pdqsort(0, n, limit);
}

/// Go's `bits.Len`: the number of bits needed to represent `x`.
fn bits_len(x: usize) -> u32 {
    usize::BITS - x.leading_zeros()
}

/// Go's `sortedHint`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hint {
    Unknown,
    Increasing,
    Decreasing,
}

/// A slice and its `Less`, like a Go `sort.Interface`. Indices are absolute, as in Go.
struct GoSort<'a, T, F> {
    v: &'a mut [T],
    less: F,
}

impl<T, F: Fn(&T, &T) -> bool> GoSort<'_, T, F> {
    fn less(&self, i: usize, j: usize) -> bool {
        (self.less)(&self.v[i], &self.v[j])
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.v.swap(i, j);
    }

    fn insertion_sort(&mut self, a: usize, b: usize) {
        for i in a + 1..b {
            let mut j = i;
            while j > a && self.less(j, j - 1) {
                self.swap(j, j - 1);
                j -= 1;
            }
        }
    }

    fn sift_down(&mut self, lo: usize, hi: usize, first: usize) {
        let mut root = lo;
        loop {
            let mut child = 2 * root + 1;
            if child >= hi {
                return;
            }
            if child + 1 < hi && self.less(first + child, first + child + 1) {
                child += 1;
            }
            if !self.less(first + root, first + child) {
                return;
            }
            self.swap(first + root, first + child);
            root = child;
        }
    }

    fn heap_sort(&mut self, a: usize, b: usize) {
        let first = a;
        let lo = 0;
        let hi = b - a;
        if hi == 0 {
            return;
        }
        for i in (0..=(hi - 1) / 2).rev() {
            self.sift_down(i, hi, first);
        }
        for i in (0..hi).rev() {
            self.swap(first, first + i);
            self.sift_down(lo, i, first);
        }
    }

    fn pdqsort(&mut self, mut a: usize, mut b: usize, mut limit: u32) {
        const MAX_INSERTION: usize = 12;
        let mut was_balanced = true;
        let mut was_partitioned = true;
        loop {
            let length = b - a;
            if length <= MAX_INSERTION {
                self.insertion_sort(a, b);
                return;
            }
            if limit == 0 {
                self.heap_sort(a, b);
                return;
            }
            if !was_balanced {
                self.break_patterns(a, b);
                limit -= 1;
            }
            let (mut pivot, mut hint) = self.choose_pivot(a, b);
            if hint == Hint::Decreasing {
                self.reverse_range(a, b);
                pivot = (b - 1) - (pivot - a);
                hint = Hint::Increasing;
            }
            if was_balanced
                && was_partitioned
                && hint == Hint::Increasing
                && self.partial_insertion_sort(a, b)
            {
                return;
            }
            if a > 0 && !self.less(a - 1, pivot) {
                a = self.partition_equal(a, b, pivot);
                continue;
            }
            let (mid, already_partitioned) = self.partition(a, b, pivot);
            was_partitioned = already_partitioned;
            let (left_len, right_len) = (mid - a, b - mid);
            let balance_threshold = length / 8;
            if left_len < right_len {
                was_balanced = left_len >= balance_threshold;
                self.pdqsort(a, mid, limit);
                a = mid + 1;
            } else {
                was_balanced = right_len >= balance_threshold;
                self.pdqsort(mid + 1, b, limit);
                b = mid;
            }
        }
    }

    /// Called with `b - a > 12`, so `i >= a + 1` keeps every `j - 1` in range.
    fn partition(&mut self, a: usize, b: usize, pivot: usize) -> (usize, bool) {
        self.swap(a, pivot);
        let (mut i, mut j) = (a + 1, b - 1);
        while i <= j && self.less(i, a) {
            i += 1;
        }
        while i <= j && !self.less(j, a) {
            j -= 1;
        }
        if i > j {
            self.swap(j, a);
            return (j, true);
        }
        self.swap(i, j);
        i += 1;
        j -= 1;
        loop {
            while i <= j && self.less(i, a) {
                i += 1;
            }
            while i <= j && !self.less(j, a) {
                j -= 1;
            }
            if i > j {
                break;
            }
            self.swap(i, j);
            i += 1;
            j -= 1;
        }
        self.swap(j, a);
        (j, false)
    }

    fn partition_equal(&mut self, a: usize, b: usize, pivot: usize) -> usize {
        self.swap(a, pivot);
        let (mut i, mut j) = (a + 1, b - 1);
        loop {
            while i <= j && !self.less(a, i) {
                i += 1;
            }
            while i <= j && self.less(a, j) {
                j -= 1;
            }
            if i > j {
                break;
            }
            self.swap(i, j);
            i += 1;
            j -= 1;
        }
        i
    }

    fn partial_insertion_sort(&mut self, a: usize, b: usize) -> bool {
        const MAX_STEPS: usize = 5;
        const SHORTEST_SHIFTING: usize = 50;
        let mut i = a + 1;
        for _ in 0..MAX_STEPS {
            while i < b && !self.less(i, i - 1) {
                i += 1;
            }
            if i == b {
                return true;
            }
            if b - a < SHORTEST_SHIFTING {
                return false;
            }
            self.swap(i, i - 1);
            // Shift the smaller one to the left. Go's loop runs down to index 1, not `a + 1`.
            if i - a >= 2 {
                let mut j = i - 1;
                while j >= 1 {
                    if !self.less(j, j - 1) {
                        break;
                    }
                    self.swap(j, j - 1);
                    j -= 1;
                }
            }
            // Shift the greater one to the right.
            if b - i >= 2 {
                let mut j = i + 1;
                while j < b {
                    if !self.less(j, j - 1) {
                        break;
                    }
                    self.swap(j, j - 1);
                    j += 1;
                }
            }
        }
        false
    }

    fn break_patterns(&mut self, a: usize, b: usize) {
        let length = b - a;
        if length >= 8 {
            let mut random = length as u64;
            let modulus = 1usize << bits_len(length);
            let middle = a + (length / 4) * 2;
            for idx in middle - 1..=middle + 1 {
                random ^= random << 13;
                random ^= random >> 7;
                random ^= random << 17;
                // Go: int(uint(random.Next()) & (modulus - 1)); only the low bits matter.
                let mut other = (random as usize) & (modulus - 1);
                if other >= length {
                    other -= length;
                }
                self.swap(idx, a + other);
            }
        }
    }

    fn choose_pivot(&mut self, a: usize, b: usize) -> (usize, Hint) {
        const SHORTEST_NINTHER: usize = 50;
        const MAX_SWAPS: usize = 4 * 3;
        let l = b - a;
        let mut swaps = 0;
        let mut i = a + l / 4;
        let mut j = a + l / 4 * 2;
        let mut k = a + l / 4 * 3;
        if l >= 8 {
            if l >= SHORTEST_NINTHER {
                i = self.median_adjacent(i, &mut swaps);
                j = self.median_adjacent(j, &mut swaps);
                k = self.median_adjacent(k, &mut swaps);
            }
            j = self.median(i, j, k, &mut swaps);
        }
        match swaps {
            0 => (j, Hint::Increasing),
            MAX_SWAPS => (j, Hint::Decreasing),
            _ => (j, Hint::Unknown),
        }
    }

    fn order2(&self, a: usize, b: usize, swaps: &mut usize) -> (usize, usize) {
        if self.less(b, a) {
            *swaps += 1;
            (b, a)
        } else {
            (a, b)
        }
    }

    fn median(&self, a: usize, b: usize, c: usize, swaps: &mut usize) -> usize {
        let (a, b) = self.order2(a, b, swaps);
        let (b, _c) = self.order2(b, c, swaps);
        let (_a, b) = self.order2(a, b, swaps);
        b
    }

    fn median_adjacent(&self, a: usize, swaps: &mut usize) -> usize {
        self.median(a - 1, a, a + 1, swaps)
    }

    fn reverse_range(&mut self, a: usize, b: usize) {
        let (mut i, mut j) = (a, b - 1);
        while i < j {
            self.swap(i, j);
            i += 1;
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests;
