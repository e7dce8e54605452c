//! The REST face: discovery, resource CRUD and patches, watches, `/_sim/` admin endpoints.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};

use crate::faults::{FaultRule, Faults, Verdict};
use crate::patch::PatchType;
use crate::protobuf::{self as proto, Wire};
use crate::resources::Resource;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::StatusError;
use crate::store::{Event, EventType, ListOptions, Part, Store};

/// The response body: a whole JSON document or a watch stream.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Settings of the server.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Events kept for resuming watches (older resourceVersions get 410).
    pub history: usize,
    /// Interval of BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// Seed of the fault dice.
    pub seed: u64,
    /// Save the cluster here after every write and reload it at start.
    pub state_file: Option<std::path::PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            history: 10_000,
            bookmark_interval: Duration::from_secs(10),
            seed: 0,
            state_file: None,
        }
    }
}

/// Everything a running server holds.
#[derive(Debug)]
pub struct Shared {
    /// Settings.
    pub config: SimConfig,
    /// The cluster.
    pub store: Mutex<Store>,
    /// Fault rules.
    pub faults: Mutex<Faults>,
    /// Bumped to close every open watch.
    pub drop_watches: watch::Sender<u64>,
    /// Requests per (method, resource, status).
    pub counters: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// Watches answered with the 410 ERROR event (expired or forced).
    pub expired_watches: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// A server state around a store.
    pub fn with_store(config: SimConfig, store: Store) -> Self {
        Shared {
            store: Mutex::new(store),
            faults: Mutex::new(Faults::new(config.seed)),
            drop_watches: watch::Sender::new(0),
            counters: Mutex::new(BTreeMap::new()),
            expired_watches: std::sync::atomic::AtomicU64::new(0),
            config,
        }
    }
    /// The store, locked.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
    /// The faults, locked.
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }
    fn count(&self, method: &str, resource: &str, status: u16) {
        let mut c = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        *c.entry((method.to_owned(), resource.to_owned(), status))
            .or_default() += 1;
    }
}

fn full(status: u16, body: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(bytes)).boxed_unsync());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error(e: &StatusError) -> Response<Body> {
    full(e.code, &e.to_status())
}

/// An answer in the negotiated form. Errors stay JSON: clients read a body by its
/// `Content-Type`, and every client reads JSON.
fn respond(code: u16, v: &Value, wire: Wire) -> Response<Body> {
    if wire == Wire::Protobuf {
        return match proto::encode(v) {
            Ok(bytes) => {
                let mut resp = Response::new(Full::new(Bytes::from(bytes)).boxed_unsync());
                *resp.status_mut() =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(proto::MEDIA_TYPE),
                );
                resp
            }
            Err(e) => error(&StatusError {
                code: 500,
                reason: "InternalError",
                message: format!("the object cannot be written as protobuf: {e}"),
            }),
        };
    }
    full(code, v)
}

/// The form of the answer, from `Accept` and whether the kind has a protobuf message; a 406
/// when the client takes nothing this server can write.
fn answer_wire(headers: &HeaderMap, res: &Resource) -> Result<Wire, StatusError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let not_acceptable = || StatusError {
        code: 406,
        reason: "NotAcceptable",
        message: format!(
            "only the following media types are accepted: application/json, application/yaml, {}",
            proto::MEDIA_TYPE
        ),
    };
    match proto::negotiate(accept) {
        Some(Wire::Protobuf) if proto::supports(&res.api_version(), &res.kind) => {
            Ok(Wire::Protobuf)
        }
        // Custom resources have no protobuf form: JSON, when the client takes it.
        Some(Wire::Protobuf) if proto::accepts_json(accept) => Ok(Wire::Json),
        Some(Wire::Json) => Ok(Wire::Json),
        _ => Err(not_acceptable()),
    }
}

/// A protobuf request body as the JSON the store takes.
fn request_json(method: &Method, res: &Resource, body: &Bytes) -> Result<Bytes, StatusError> {
    if !matches!(*method, Method::POST | Method::PUT) {
        // DELETE's DeleteOptions: nothing in them changes what this server does.
        return Ok(Bytes::new());
    }
    match proto::decode(body, &res.api_version(), &res.kind) {
        Ok(v) => Ok(Bytes::from(serde_json::to_vec(&v).unwrap_or_default())),
        Err(proto::ProtoError::UnknownKind { .. }) => Err(StatusError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml ({} has no protobuf form)",
                res.kind
            ),
        }),
        Err(e) => Err(StatusError::bad_request(e.to_string())),
    }
}

/// A parsed resource path.
#[derive(Debug, Clone)]
struct Target {
    res: Resource,
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

/// Serves one request.
pub async fn handle(
    shared: Arc<Shared>,
    method: Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let q: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let qv = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let path = path.trim_end_matches('/');
    if let Some(r) = discovery(&shared, path) {
        return r;
    }
    if path.starts_with("/_sim") {
        return admin(&shared, &method, path, &body);
    }
    let target = match parse_target(&shared, path) {
        Ok(t) => t,
        Err(e) => return error(&e),
    };
    let resource_label = target.res.plural.clone();
    let (latency, verdict) = shared
        .faults()
        .decide(method.as_str(), Some(&resource_label));
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Verdict::Error(code) = verdict {
        shared.count(method.as_str(), &resource_label, code);
        let e = StatusError {
            code,
            reason: if code == 429 {
                "TooManyRequests"
            } else {
                "InternalError"
            },
            message: if code == 429 {
                "the server has received too many requests and has asked us to try again later"
                    .into()
            } else {
                "an error on the server (\"injected fault\") has prevented the request from succeeding".into()
            },
        };
        let mut resp = error(&e);
        if code == 429 {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        return resp;
    }
    let protobuf_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(proto::is_protobuf);
    let prepared = answer_wire(headers, &target.res).and_then(|wire| {
        let body = if protobuf_body && method != Method::PATCH {
            request_json(&method, &target.res, &body)?
        } else {
            body
        };
        Ok((wire, body))
    });
    let (wire, body) = match prepared {
        Ok(p) => p,
        Err(e) => {
            shared.count(method.as_str(), &resource_label, e.code);
            return error(&e);
        }
    };
    let is_watch = matches!(qv("watch").as_deref(), Some("true" | "1"));
    let resp = if method == Method::GET && is_watch && target.name.is_none() {
        open_watch(&shared, &target, &q, wire)
    } else {
        serve(&shared, &method, &target, &q, headers, &body, wire)
    };
    let code = resp.status().as_u16();
    shared.count(method.as_str(), &resource_label, code);
    if method != Method::GET
        && (200..300).contains(&code)
        && let Err(e) = save_state(&shared)
    {
        tracing::error!(error = %e, "cannot save the state file");
    }
    resp
}

/// Writes the state file (temp file + rename), when one is configured.
fn save_state(shared: &Shared) -> std::io::Result<()> {
    let Some(path) = &shared.config.state_file else {
        return Ok(());
    };
    let bytes = serde_json::to_vec(&shared.store().export())?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn serve(
    shared: &Shared,
    method: &Method,
    t: &Target,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
    wire: Wire,
) -> Response<Body> {
    let qv = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let ns = t.namespace.clone().unwrap_or_default();
    let part = match t.sub.as_deref() {
        None => Part::Main,
        Some("status") if t.res.status => Part::Status,
        Some(other) => {
            return error(&StatusError::not_found(
                &format!("{}/{other}", t.res.plural),
                t.name.as_deref().unwrap_or_default(),
            ));
        }
    };
    let parse = || {
        serde_json::from_slice::<Value>(body)
            .map_err(|e| StatusError::bad_request(format!("invalid JSON body: {e}")))
    };
    let result = (|| -> Result<(u16, Value), StatusError> {
        match (method, &t.name) {
            (&Method::GET, None) => {
                let opts = list_options(q)?;
                let page = shared.store().list(&t.res, t.namespace.as_deref(), &opts)?;
                let mut meta = json!({"resourceVersion": page.rev.to_string()});
                if let Some(c) = &page.continue_token {
                    meta["continue"] = json!(c);
                    meta["remainingItemCount"] = json!(page.remaining);
                }
                Ok((
                    200,
                    json!({"kind": format!("{}List", t.res.kind), "apiVersion": t.res.api_version(), "metadata": meta, "items": page.items}),
                ))
            }
            (&Method::GET, Some(name)) => Ok((200, shared.store().get(&t.res, &ns, name)?)),
            (&Method::POST, None) => {
                if t.res.namespaced && t.namespace.is_none() {
                    return Err(StatusError {
                        code: 405,
                        reason: "MethodNotAllowed",
                        message: "create needs a namespace".into(),
                    });
                }
                if dry_run(q) {
                    return Ok((201, parse()?));
                }
                Ok((201, shared.store().create(&t.res, &ns, parse()?)?))
            }
            (&Method::PUT, Some(name)) => Ok((
                200,
                shared.store().update(&t.res, &ns, name, parse()?, part)?,
            )),
            (&Method::PATCH, Some(name)) => {
                let ct = headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let kind = PatchType::from_content_type(ct).ok_or_else(|| StatusError {
                    code: 415,
                    reason: "UnsupportedMediaType",
                    message: format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got '{ct}')"),
                })?;
                let manager = qv("fieldManager");
                if kind == PatchType::Apply && manager.is_none() {
                    return Err(StatusError::invalid(
                        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                    ));
                }
                Ok((
                    200,
                    shared.store().patch(
                        &t.res,
                        &ns,
                        name,
                        crate::store::PatchRequest {
                            kind,
                            body: &parse()?,
                            manager: manager.as_deref(),
                            part,
                        },
                    )?,
                ))
            }
            (&Method::DELETE, Some(name)) => Ok((200, shared.store().delete(&t.res, &ns, name)?)),
            (&Method::DELETE, None) => {
                let opts = list_options(q)?;
                let mut store = shared.store();
                let page = store.list(&t.res, t.namespace.as_deref(), &opts)?;
                let mut deleted = Vec::new();
                for item in page.items {
                    let n = item
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let item_ns = item
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    deleted.push(store.delete(&t.res, &item_ns, &n)?);
                }
                Ok((
                    200,
                    json!({"kind": format!("{}List", t.res.kind), "apiVersion": t.res.api_version(), "metadata": {}, "items": deleted}),
                ))
            }
            _ => Err(StatusError {
                code: 405,
                reason: "MethodNotAllowed",
                message: format!("{method} is not supported here"),
            }),
        }
    })();
    match result {
        Ok((code, v)) => respond(code, &v, wire),
        Err(e) => error(&e),
    }
}

fn dry_run(q: &[(String, String)]) -> bool {
    q.iter().any(|(k, v)| k == "dryRun" && v == "All")
}

fn list_options(q: &[(String, String)]) -> Result<ListOptions, StatusError> {
    let qv = |k: &str| {
        q.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    Ok(ListOptions {
        labels: qv("labelSelector")
            .map(|s| LabelSelector::parse(&s))
            .transpose()
            .map_err(StatusError::bad_request)?,
        fields: qv("fieldSelector")
            .map(|s| FieldSelector::parse(&s))
            .transpose()
            .map_err(StatusError::bad_request)?,
        limit: qv("limit").and_then(|l| l.parse().ok()).unwrap_or(0),
        continue_token: qv("continue"),
    })
}

fn parse_target(shared: &Shared, path: &str) -> Result<Target, StatusError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", v, rest),
        ["apis", g, v, rest @ ..] => (g, v, rest),
        _ => return Err(StatusError::not_found("path", path)),
    };
    let store = shared.store();
    let find = |plural: &str| {
        store.find(group, version, plural).ok_or_else(|| {
            StatusError::not_found("the server could not find the requested resource", plural)
        })
    };
    let t = |res: Resource, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| Target {
        res,
        namespace: ns.map(str::to_owned),
        name: name.map(str::to_owned),
        sub: sub.map(str::to_owned),
    };
    match rest {
        ["namespaces", ns, plural, tail @ ..] if find(plural).is_ok_and(|r| r.namespaced) => {
            let res = find(plural)?;
            Ok(t(
                res,
                Some(ns),
                tail.first().copied(),
                tail.get(1).copied(),
            ))
        }
        // A namespaced path to a resource this server does not serve: name that resource,
        // not `namespaces`.
        ["namespaces", _, plural, ..] if find(plural).is_err() => Err(StatusError::not_found(
            "the server could not find the requested resource",
            plural,
        )),
        [plural, tail @ ..] => {
            let res = find(plural)?;
            Ok(t(res, None, tail.first().copied(), tail.get(1).copied()))
        }
        [] => Err(StatusError::not_found("path", path)),
    }
}

// ------------------------------------------------------------------ discovery

/// Kubernetes' version priority, as discovery orders versions and picks the preferred one: GA
/// before beta before alpha, higher numbers first (`v2`, `v1`, `v1beta2`, `v1beta1`,
/// `v1alpha1`), then versions of other shapes alphabetically.
fn version_priority(v: &str) -> (u8, std::cmp::Reverse<u64>, std::cmp::Reverse<u64>, String) {
    use std::cmp::Reverse;
    let other = (3, Reverse(0), Reverse(0), v.to_owned());
    let Some(rest) = v.strip_prefix('v') else {
        return other;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let Ok(major) = rest[..digits].parse::<u64>() else {
        return other;
    };
    let (stability, minor) = match &rest[digits..] {
        "" => (0, 0),
        tail => match tail
            .strip_prefix("beta")
            .map(|n| (1, n))
            .or_else(|| tail.strip_prefix("alpha").map(|n| (2, n)))
        {
            Some((s, n)) => match n.parse::<u64>() {
                Ok(n) => (s, n),
                Err(_) => return other,
            },
            None => return other,
        },
    };
    (stability, Reverse(major), Reverse(minor), String::new())
}

fn discovery(shared: &Shared, path: &str) -> Option<Response<Body>> {
    let store = shared.store();
    let resources = store.resources();
    let groups: BTreeMap<String, BTreeSet<String>> = resources
        .iter()
        .filter(|r| !r.group.is_empty())
        .fold(BTreeMap::new(), |mut m, r| {
            m.entry(r.group.clone())
                .or_default()
                .insert(r.version.clone());
            m
        });
    let group_json = |g: &str, versions: &BTreeSet<String>| {
        let mut ordered: Vec<&String> = versions.iter().collect();
        ordered.sort_by_key(|v| version_priority(v));
        let vs: Vec<Value> = ordered
            .into_iter()
            .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
            .collect();
        json!({"name": g, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(Value::Null)})
    };
    let resource_list = |group: &str, version: &str| {
        let list: Vec<Value> = resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .flat_map(|r| r.discovery())
            .collect();
        let gv = if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        };
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list})
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let body = match segs.as_slice() {
        ["version"] => {
            json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0-kube-sim", "gitCommit": "kube-sim",
            "gitTreeState": "clean", "buildDate": "2026-11-21T00:00:00Z", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"})
        }
        ["healthz"] | ["readyz"] | ["livez"] => return Some(full(200, &json!("ok"))),
        ["api"] => {
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        }
        ["api", "v1"] => resource_list("", "v1"),
        ["apis"] => json!({"kind": "APIGroupList", "apiVersion": "v1",
            "groups": groups.iter().map(|(g, vs)| group_json(g, vs)).collect::<Vec<_>>()}),
        ["apis", g] => match groups.get(*g) {
            Some(vs) => {
                let mut v = group_json(g, vs);
                v["kind"] = json!("APIGroup");
                v["apiVersion"] = json!("v1");
                v
            }
            None => return Some(error(&StatusError::not_found("group", g))),
        },
        ["apis", g, v] => {
            if !groups.get(*g).is_some_and(|vs| vs.contains(*v)) {
                return Some(error(&StatusError::not_found(
                    "group version",
                    &format!("{g}/{v}"),
                )));
            }
            resource_list(g, v)
        }
        ["openapi", "v2"] => {
            let mut resp =
                Response::new(Full::new(Bytes::from(crate::openapi::v2_protobuf())).boxed_unsync());
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::openapi::V2_PROTOBUF),
            );
            return Some(resp);
        }
        ["openapi", "v3", rest @ ..] => {
            let crds = store
                .find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
                .and_then(|res| store.list(&res, None, &ListOptions::default()).ok())
                .map(|page| page.items)
                .unwrap_or_default();
            match rest {
                [] => crate::openapi::v3_root(resources, &crds),
                _ => match crate::openapi::parse_gv(rest)
                    .and_then(|(g, v)| crate::openapi::v3_document(resources, &crds, g, v))
                {
                    Some(doc) => doc,
                    None => {
                        return Some(error(&StatusError::not_found(
                            "openapi document",
                            &rest.join("/"),
                        )));
                    }
                },
            }
        }
        _ => return None,
    };
    Some(full(200, &body))
}

// ------------------------------------------------------------------ watch

fn line(v: &Value) -> Result<Frame<Bytes>, Infallible> {
    let mut bytes = serde_json::to_vec(v).unwrap_or_default();
    bytes.push(b'\n');
    Ok(Frame::data(Bytes::from(bytes)))
}

fn event_json(kind: &str, object: &Value) -> Value {
    json!({"type": kind, "object": object})
}

struct WatchSpec {
    res: Resource,
    namespace: Option<String>,
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl WatchSpec {
    fn selects(&self, obj: &Value) -> bool {
        self.labels.as_ref().is_none_or(|s| s.matches(obj))
            && self.fields.as_ref().is_none_or(|s| s.matches(obj))
    }

    /// The event type this watch sees for a change, if any: a change that moves an object into
    /// the selection is ADDED, out of it DELETED.
    fn classify(&self, e: &Event) -> Option<&'static str> {
        let ours = e.group == self.res.group
            && e.plural == self.res.plural
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| !self.res.namespaced || e.namespace == n);
        if !ours {
            return None;
        }
        let now = self.selects(&e.object);
        match e.kind {
            EventType::Modified => {
                let before = e.old.as_ref().map_or(now, |o| self.selects(o));
                match (before, now) {
                    (true, true) => Some("MODIFIED"),
                    (false, true) => Some("ADDED"),
                    (true, false) => Some("DELETED"),
                    (false, false) => None,
                }
            }
            kind => now.then_some(kind.as_str()),
        }
    }

    fn render(&self, e: &Event, kind: &str) -> Value {
        let mut o = e.object.clone();
        o["apiVersion"] = json!(self.res.api_version());
        event_json(kind, &o)
    }
}

/// One watch event in the stream's form: a JSON line, or a protobuf frame (the object named
/// by the watched resource's kind when it carries none).
fn watch_frame(v: &Value, wire: Wire, res: &Resource) -> Result<Frame<Bytes>, Infallible> {
    if wire == Wire::Json {
        return line(v);
    }
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("ERROR");
    let mut object = v.get("object").cloned().unwrap_or_else(|| json!({}));
    if object.get("kind").is_none()
        && let Value::Object(o) = &mut object
    {
        o.insert("kind".into(), json!(res.kind));
        o.insert("apiVersion".into(), json!(res.api_version()));
    }
    let bytes = proto::watch_frame(kind, &object, &res.api_version()).or_else(|e| {
        let status = StatusError {
            code: 500,
            reason: "InternalError",
            message: format!("the object cannot be written as protobuf: {e}"),
        }
        .to_status();
        proto::watch_frame("ERROR", &status, &res.api_version())
    });
    Ok(Frame::data(Bytes::from(bytes.unwrap_or_default())))
}

fn open_watch(
    shared: &Arc<Shared>,
    t: &Target,
    q: &[(String, String)],
    wire: Wire,
) -> Response<Body> {
    let qv = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let opts = match list_options(q) {
        Ok(o) => o,
        Err(e) => return error(&e),
    };
    let spec = WatchSpec {
        res: t.res.clone(),
        namespace: t.namespace.clone(),
        labels: opts.labels,
        fields: opts.fields,
    };
    let bookmarks = matches!(qv("allowWatchBookmarks").as_deref(), Some("true" | "1"));
    let initial_events = matches!(qv("sendInitialEvents").as_deref(), Some("true" | "1"));
    let timeout = qv("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(Duration::from_secs(1800), Duration::from_secs);
    let rv = qv("resourceVersion").filter(|s| !s.is_empty());
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(256);

    // Snapshot and subscription under one lock: no event can fall between them.
    let mut frames: Vec<Value> = Vec::new();
    let (live, from_rev) = {
        // The one-shot fault is only used up by a watch it applies to (one that resumes).
        let resumes = rv.as_deref().is_some_and(|r| r != "0");
        let force_410 = resumes && std::mem::take(&mut shared.faults().expire_next_watch);
        let store = shared.store();
        let live = store.subscribe();
        let current = store.revision();
        match rv.as_deref() {
            _ if force_410 && rv.as_deref().is_some_and(|r| r != "0") => {
                shared
                    .expired_watches
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                frames.push(event_json(
                    "ERROR",
                    &StatusError::expired("too old resource version (injected)").to_status(),
                ));
                (None, current)
            }
            None | Some("0") => {
                let all = store
                    .list(
                        &spec.res,
                        spec.namespace.as_deref(),
                        &ListOptions::default(),
                    )
                    .map(|p| p.items)
                    .unwrap_or_default();
                for o in all.iter().filter(|o| {
                    spec.labels.as_ref().is_none_or(|s| s.matches(o))
                        && spec.fields.as_ref().is_none_or(|s| s.matches(o))
                }) {
                    frames.push(event_json("ADDED", o));
                }
                if initial_events {
                    frames.push(json!({"type": "BOOKMARK", "object": {"kind": spec.res.kind, "apiVersion": spec.res.api_version(),
                        "metadata": {"resourceVersion": current.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}}}));
                }
                (Some(live), current)
            }
            Some(r) => match r.parse::<u64>() {
                Err(_) => {
                    return error(&StatusError::bad_request(format!(
                        "invalid resourceVersion '{r}'"
                    )));
                }
                Ok(from) => match store.events_since(from) {
                    // As real API servers do: 200 and one ERROR event (kube-runtime re-lists
                    // on it; a bare HTTP 410 would make it retry the stale version forever).
                    Err(e) => {
                        shared
                            .expired_watches
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        frames.push(event_json("ERROR", &e.to_status()));
                        (None, current)
                    }
                    Ok(events) => {
                        for e in &events {
                            if let Some(kind) = spec.classify(e) {
                                frames.push(spec.render(e, kind));
                            }
                        }
                        (Some(live), current)
                    }
                },
            },
        }
    };

    let mut dropper = shared.drop_watches.subscribe();
    let interval = shared
        .config
        .bookmark_interval
        .max(Duration::from_millis(10));
    let res = t.res.clone();
    tokio::spawn(async move {
        for f in &frames {
            if tx.send(watch_frame(f, wire, &res)).await.is_err() {
                return;
            }
        }
        let Some(mut live) = live else { return };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        let mut last_rev = from_rev;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = dropper.changed() => return,
                // The client went away: do not keep a task and a subscription for it.
                _ = tx.closed() => return,
                _ = ticker.tick(), if bookmarks => {
                    let b = json!({"type": "BOOKMARK", "object": {"kind": spec.res.kind, "apiVersion": spec.res.api_version(),
                        "metadata": {"resourceVersion": last_rev.to_string()}}});
                    if tx.send(watch_frame(&b, wire, &res)).await.is_err() { return; }
                }
                event = live.recv() => match event {
                    Ok(e) if e.rev > from_rev => {
                        last_rev = e.rev;
                        if let Some(kind) = spec.classify(&e)
                            && tx.send(watch_frame(&spec.render(&e, kind), wire, &res)).await.is_err()
                        {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // This watcher fell behind the server's buffer: like a compacted
                        // history, it must re-list.
                        let _ = tx.send(watch_frame(&event_json("ERROR", &StatusError::expired("watch fell behind").to_status()), wire, &res)).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
    let mut resp = Response::new(BodyExt::boxed_unsync(StreamBody::new(StreamExt::boxed(
        stream,
    ))));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(match wire {
            Wire::Json => "application/json",
            Wire::Protobuf => proto::WATCH_MEDIA_TYPE,
        }),
    );
    resp
}

// ------------------------------------------------------------------ admin

fn admin(shared: &Shared, method: &Method, path: &str, body: &Bytes) -> Response<Body> {
    match (method, path) {
        (&Method::POST, "/_sim/faults") => match serde_json::from_slice::<FaultRule>(body) {
            Ok(rule) => {
                shared.faults().add(rule);
                full(204, &Value::Null)
            }
            Err(e) => error(&StatusError::bad_request(format!(
                "invalid fault rule: {e}"
            ))),
        },
        (&Method::DELETE, "/_sim/faults") => {
            shared.faults().clear();
            full(204, &Value::Null)
        }
        (&Method::POST, "/_sim/watches/drop") => {
            shared.drop_watches.send_modify(|g| *g += 1);
            full(204, &Value::Null)
        }
        (&Method::POST, "/_sim/watches/expire-next") => {
            shared.faults().expire_next_watch = true;
            full(204, &Value::Null)
        }
        (&Method::POST, "/_sim/compact") => {
            shared.store().compact();
            full(204, &Value::Null)
        }
        (&Method::GET, "/_sim/counters") => {
            let c = shared
                .counters
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let rows: Vec<Value> = c
                .iter()
                .map(|((m, r, s), n)| json!({"method": m, "resource": r, "status": s, "count": n}))
                .collect();
            full(200, &json!(rows))
        }
        _ => error(&StatusError::not_found("path", path)),
    }
}
