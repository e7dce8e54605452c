//! The HTTP face of the controller: login, sessions and CSRF, tenants, the object API, the
//! infrastructure endpoints and the `/_sim/` admin endpoints.

mod render;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use url::form_urlencoded;

use crate::config::SimConfig;
use crate::faults::{FaultRule, Faults, Journal};
use crate::schema::ApiVersion;
use crate::session::{Session, Sessions};
use crate::store::{ADMIN, ApiError, ListFilter, PatchOp, Store, TenantScope, WriteOptions};
pub use render::Mode;

/// Everything one emulated controller holds.
#[derive(Debug)]
pub struct Sim {
    /// Its settings.
    pub config: SimConfig,
    /// The configuration database.
    pub store: RwLock<Store>,
    /// Live sessions.
    pub sessions: Mutex<Sessions>,
    /// Fault rules.
    pub faults: Mutex<Faults>,
    /// Request log and counters.
    pub journal: Mutex<Journal>,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The admin password now (`PUT /api/useraccount` changes it).
    pub password: Mutex<String>,
    /// Singletons without uuid in their URL: `systemconfiguration`, `controllerproperties`.
    pub singletons: Mutex<HashMap<&'static str, (Value, u64)>>,
    /// The Service Engine data plane, when it runs.
    pub data_plane: Option<crate::dataplane::DataPlane>,
}

/// A parsed request, as the dispatcher needs it.
pub struct Req {
    /// Method.
    pub method: Method,
    /// Path without query.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// The response type.
pub type Resp = Response<Full<Bytes>>;

const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 200;

impl Sim {
    /// A controller without a listener or data plane, for driving [`dispatch`] directly
    /// (fuzzing, benchmarks): freshly seeded, with `config`'s credentials.
    pub fn in_memory(config: SimConfig) -> Result<Arc<Sim>, crate::SimError> {
        let store = Store::new().map_err(|e| crate::SimError::Seed(e.message))?;
        Ok(Arc::new(Sim {
            faults: Mutex::new(Faults::new(config.seed)),
            journal: Mutex::new(Journal::new(config.log_capacity)),
            sessions: Mutex::new(Sessions::default()),
            store: RwLock::new(store),
            scheme: "http",
            password: Mutex::new(config.password.clone()),
            singletons: Mutex::new(HashMap::new()),
            data_plane: None,
            config,
        }))
    }

    fn lock_store_read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    fn lock_store_write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    /// The current admin password, locked.
    pub fn password(&self) -> std::sync::MutexGuard<'_, String> {
        self.password
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    /// The fault rules, locked.
    pub fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    /// The journal, locked.
    pub fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The object type a path addresses (`/api/pool/...` → `pool`; `/login` → `login`).
pub fn object_type_of(path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix("/api/") {
        return rest
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
    }
    match path.trim_end_matches('/') {
        "/login" => Some("login".into()),
        "/logout" => Some("logout".into()),
        _ => None,
    }
}

/// Serves one request.
pub fn dispatch(sim: &Arc<Sim>, req: &Req) -> Resp {
    let path = req.path.as_str();
    let result = match (&req.method, path.trim_end_matches('/')) {
        (&Method::POST, "/login") => login(sim, req),
        (&Method::POST, "/logout") => logout(sim, req),
        (&Method::GET, "/api/cluster/status") => Ok(json_response(
            200,
            &json!({"cluster_state": {"state": "CLUSTER_UP_NO_HA"}}),
        )),
        (&Method::GET, "/api/initial-data") => Ok(json_response(200, &initial_data(sim))),
        (_, p) if p.starts_with("/_sim") => admin(sim, req),
        (_, p) if p.starts_with("/api/") => api(sim, req),
        _ => Err(ApiError::new(404, "Not found")),
    };
    result.unwrap_or_else(|e| error_response(&e))
}

fn version_json(sim: &Sim) -> Value {
    json!({"Version": sim.config.version, "Product": "controller", "ProductName": "Avi Cloud Controller",
           "build": 9001, "min_version": 15.2, "Tag": format!("{}-9001-sim", sim.config.version)})
}

fn initial_data(sim: &Sim) -> Value {
    json!({"version": version_json(sim), "user_initialized": true})
}

// ---------------------------------------------------------------- session and auth

fn login(sim: &Arc<Sim>, req: &Req) -> Result<Resp, ApiError> {
    let form = login_fields(req);
    let user = form.get("username").cloned().unwrap_or_default();
    let ok = user == sim.config.username
        && (form.get("password").is_some_and(|p| *p == *sim.password())
            || form
                .get("token")
                .is_some_and(|t| sim.config.tokens.contains(t)));
    if !ok {
        return Err(ApiError::new(401, "Invalid credentials"));
    }
    let (sid, csrf) = sim.sessions().open(&user);
    let base = base_url(sim, &req.headers);
    let tenants: Vec<Value> = {
        let store = sim.lock_store_read();
        store
            .list("tenant", &TenantScope::All, &ListFilter::default())
            .into_iter()
            .map(|t| json!({"url": format!("{base}/api/tenant/{}", t.uuid), "uuid": t.uuid, "name": t.name, "local": true}))
            .collect()
    };
    let body = json!({
        "user_initialized": true,
        "version": version_json(sim),
        "user": {"username": user, "name": user, "is_superuser": true, "local": true, "uuid": "user-1",
                 "full_name": "System Administrator", "email": "",
                 "default_tenant_ref": format!("{base}/api/tenant/{ADMIN}")},
        "tenants": tenants,
        "session_cookie_name": "avi-sessionid",
    });
    let mut resp = json_response(200, &body);
    let h = resp.headers_mut();
    let secure = secure_attr(sim);
    h.insert(
        "avi_api_version",
        HeaderValue::from_static(LEGACY_API_VERSION),
    );
    append_cookie(
        h,
        &format!("csrftoken={csrf}; Max-Age=31449600; Path=/{secure}"),
    );
    set_session_cookies(h, &sid, secure);
    Ok(resp)
}

fn login_fields(req: &Req) -> HashMap<String, String> {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&req.body) {
        return map
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect();
    }
    form_urlencoded::parse(&req.body).into_owned().collect()
}

fn logout(sim: &Arc<Sim>, req: &Req) -> Result<Resp, ApiError> {
    for id in session_ids(&req.headers) {
        sim.sessions().close(&id);
    }
    Ok(json_response(200, &json!({})))
}

fn set_session_cookies(h: &mut HeaderMap, sid: &str, secure: &str) {
    for name in ["avi-sessionid", "sessionid"] {
        append_cookie(
            h,
            &format!("{name}={sid}; HttpOnly; Max-Age=86400; Path=/{secure}"),
        );
    }
}

fn append_cookie(h: &mut HeaderMap, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        h.append(header::SET_COOKIE, v);
    }
}

/// Every value of the two session cookie names, in header order (clients send duplicates).
fn session_ids(headers: &HeaderMap) -> Vec<String> {
    cookies(headers)
        .into_iter()
        .filter(|(k, _)| k == "avi-sessionid" || k == "sessionid")
        .map(|(_, v)| v)
        .collect()
}

fn cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Who is calling: the session (if any) whose cookies get refreshed in the answer.
struct Caller {
    session: Option<String>,
}

/// Checks the caller. On a CSRF failure the session is still live and its cookies are
/// refreshed, as on a real controller; so the session id comes back with the error.
fn authenticate(sim: &Arc<Sim>, req: &Req) -> Result<Caller, (Option<String>, ApiError)> {
    let basic = basic_credentials(&req.headers).filter(|_| sim.config.basic_auth);
    if let Some(creds) = basic {
        if creds == (sim.config.username.clone(), sim.password().clone()) {
            return Ok(Caller { session: None });
        }
        return Err((None, ApiError::new(401, "Invalid credentials")));
    }
    let ids = session_ids(&req.headers);
    let found: Option<(String, Session)> =
        sim.sessions()
            .touch(&ids, sim.config.idle_timeout, sim.config.absolute_timeout);
    let Some((sid, session)) = found else {
        let status = sim.config.expired_status;
        let msg = if ids.is_empty() {
            "Authentication credentials were not provided."
        } else {
            "Invalid or expired session"
        };
        return Err((None, ApiError::new(status, msg)));
    };
    let unsafe_method = !matches!(req.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        let sent = req.headers.get("x-csrftoken").and_then(|v| v.to_str().ok());
        if sent != Some(session.csrf.as_str()) {
            let csrf = ApiError {
                status: 401,
                message: "CSRF token missing or incorrect.".into(),
                plain: true,
            };
            return Err((Some(sid), csrf));
        }
    }
    Ok(Caller { session: Some(sid) })
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

fn tenant_scope(sim: &Sim, headers: &HeaderMap) -> Result<TenantScope, ApiError> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let store = sim.lock_store_read();
    if let Some(name) = header("x-avi-tenant").filter(|s| !s.is_empty()) {
        if name == "*" {
            return Ok(TenantScope::All);
        }
        return store
            .find_by_name("tenant", name, &TenantScope::All)
            .map(|t| TenantScope::One(t.uuid.clone()))
            .ok_or_else(|| ApiError::new(403, format!("Tenant '{name}' does not exist!")));
    }
    if let Some(uuid) = header("x-avi-tenant-uuid").filter(|s| !s.is_empty()) {
        if uuid == "*" {
            return Ok(TenantScope::All);
        }
        return store
            .object("tenant", uuid)
            .map(|t| TenantScope::One(t.uuid.clone()))
            .ok_or_else(|| ApiError::new(403, format!("Tenant '{uuid}' does not exist!")));
    }
    Ok(TenantScope::One(ADMIN.to_owned()))
}

// ---------------------------------------------------------------- object API

/// What a controller answers when the client names no version: it speaks its legacy API.
const LEGACY_API_VERSION: &str = "16_4_2";

fn api(sim: &Arc<Sim>, req: &Req) -> Result<Resp, ApiError> {
    let version = req
        .headers
        .get("x-avi-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (session, mut resp) = match authenticate(sim, req) {
        Ok(caller) => {
            let resp = match &version {
                Some(v) => match v.parse::<ApiVersion>() {
                    Ok(parsed) => objects(sim, req, Some(parsed)),
                    Err(_) => Err(ApiError::bad_request(format!("Invalid version {v}"))),
                },
                None => objects(sim, req, None),
            };
            (caller.session, resp.unwrap_or_else(|e| error_response(&e)))
        }
        Err((session, e)) => (session, error_response(&e)),
    };
    let h = resp.headers_mut();
    let echoed = version.as_deref().unwrap_or(LEGACY_API_VERSION);
    if let Ok(v) = HeaderValue::from_str(echoed) {
        h.insert("avi_api_version", v.clone());
        if version.is_some() {
            h.insert("x-avi-version", v);
        }
    }
    if let Some(sid) = &session {
        set_session_cookies(h, sid, secure_attr(sim));
    }
    Ok(resp)
}

fn secure_attr(sim: &Sim) -> &'static str {
    if sim.scheme == "https" {
        "; Secure"
    } else {
        ""
    }
}

/// The uuid of the Cluster configuration object.
const CLUSTER_UUID: &str = "cluster-0c2a3e8f-6b1d-4f0e-9d8a-5a1c2b3d4e5f";

fn objects(sim: &Arc<Sim>, req: &Req, api_version: Option<ApiVersion>) -> Result<Resp, ApiError> {
    let rest = req.path.trim_start_matches("/api/");
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let ty = segments.next().unwrap_or_default().to_owned();
    let uuid = segments.next().map(str::to_owned);
    if segments.next().is_some() {
        return Err(ApiError::new(404, "Not found"));
    }
    if ty == "cluster" {
        // `/api/cluster` is the Cluster configuration object; its state is
        // `/api/cluster/runtime` (`/api/cluster/status` is answered before login).
        return match uuid.as_deref() {
            None => Ok(json_response(
                200,
                &json!({"uuid": CLUSTER_UUID, "name": "cluster-0-1",
                    "url": format!("{}/api/cluster", base_url(sim, &req.headers)),
                    "nodes": [{"name": "127.0.0.1", "ip": {"addr": "127.0.0.1", "type": "V4"}}]}),
            )),
            Some("runtime") => Ok(json_response(
                200,
                &json!({"node_states": [{"name": "127.0.0.1", "role": "CLUSTER_LEADER"}],
                    "cluster_state": {"state": "CLUSTER_UP_NO_HA"}}),
            )),
            Some(_) => Err(ApiError::new(404, "Not found")),
        };
    }
    if ty == "useraccount" {
        return useraccount(sim, req);
    }
    if let Some(uuid) = SINGLETONS.iter().find(|(t, _)| *t == ty).map(|(_, u)| *u) {
        return singleton(sim, req, &ty, uuid, api_version.as_ref());
    }
    if crate::store::types::lookup(&ty).is_none() {
        // A type of the API the emulator does not model holds no objects: its collection is
        // empty, as on a controller where none was made.
        if req.method == Method::GET && uuid.is_none() && crate::store::catalog::is_api_type(&ty) {
            return Ok(json_response(200, &json!({"count": 0, "results": []})));
        }
        return Err(ApiError::new(404, format!("Unknown object type '{ty}'")));
    }
    let scope = tenant_scope(sim, &req.headers)?;
    let base = base_url(sim, &req.headers);
    let opts = WriteOptions {
        api_version,
        reject_unknown_fields: sim.config.reject_unknown_fields,
    };
    let query: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes())
        .into_owned()
        .collect();
    let names = include_name(&query);
    let fields =
        query_value(&query, "fields").map(|f| f.split(',').map(str::to_owned).collect::<Vec<_>>());

    let api_version = opts.api_version.clone();
    match (&req.method, uuid) {
        (&Method::GET, None) => list(sim, &ty, &scope, &base, &query, req, api_version.as_ref()),
        (&Method::GET, Some(uuid)) => {
            let store = sim.lock_store_read();
            let obj = store
                .get(&ty, &uuid, &scope)
                .ok_or_else(|| not_found(&ty))?;
            Ok(json_response(
                200,
                &render::render(
                    &store,
                    obj,
                    &base,
                    Mode::Read { names },
                    fields.as_deref(),
                    api_version.as_ref(),
                ),
            ))
        }
        (&Method::POST, None) => {
            let body = parse_body(&req.body)?;
            let slug = req.headers.get("slug").and_then(|v| v.to_str().ok());
            let mut store = sim.lock_store_write();
            let uuid = store.create(&ty, body, &scope, slug, &opts)?.uuid.clone();
            committed(sim, &store)?;
            written(&store, &ty, &uuid, &base, 201, api_version.as_ref())
        }
        (&Method::PUT, Some(uuid)) => {
            let body = parse_body(&req.body)?;
            let mut store = sim.lock_store_write();
            store.replace(&ty, &uuid, body, &scope, &opts)?;
            committed(sim, &store)?;
            written(&store, &ty, &uuid, &base, 200, api_version.as_ref())
        }
        (&Method::PATCH, Some(uuid)) => {
            let op = PatchOp::parse(parse_body(&req.body)?)?;
            let mut store = sim.lock_store_write();
            store.patch(&ty, &uuid, &op, &scope, &opts)?;
            committed(sim, &store)?;
            written(&store, &ty, &uuid, &base, 200, api_version.as_ref())
        }
        (&Method::DELETE, Some(uuid)) => {
            let mut store = sim.lock_store_write();
            store.delete(&ty, &uuid, &scope)?;
            committed(sim, &store)?;
            Ok(empty_response(204))
        }
        (m, _) => Err(ApiError::new(405, format!("Method '{m}' not allowed"))),
    }
}

/// Singleton objects: URL type and their fixed uuid.
const SINGLETONS: &[(&str, &str)] = &[
    ("systemconfiguration", "default"),
    ("controllerproperties", "global"),
];

/// The singleton's stored body, made from the schema's defaults on first use.
fn singleton_body(sim: &Sim, ty: &'static str) -> Result<(Value, u64), ApiError> {
    let mut all = sim
        .singletons
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(v) = all.get(ty) {
        return Ok(v.clone());
    }
    let schema =
        crate::schema::Schema::embedded().map_err(|e| ApiError::new(500, e.to_string()))?;
    let mut body = serde_json::Map::new();
    body.insert("name".into(), Value::String(ty.to_owned()));
    schema
        .check(ty, &mut body, &crate::schema::CheckOptions::default())
        .map_err(|e| ApiError::new(500, e.to_string()))?;
    body.remove("name");
    let entry = (Value::Object(body), now_micros());
    all.insert(ty, entry.clone());
    Ok(entry)
}

fn now_micros() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000).unwrap_or(0)
}

/// `GET` / `PUT` on `systemconfiguration` and `controllerproperties` (no uuid in the URL,
/// cannot be deleted).
fn singleton(
    sim: &Arc<Sim>,
    req: &Req,
    ty: &str,
    uuid: &str,
    version: Option<&ApiVersion>,
) -> Result<Resp, ApiError> {
    let ty: &'static str = SINGLETONS
        .iter()
        .find(|(t, _)| *t == ty)
        .map_or("systemconfiguration", |(t, _)| t);
    let base = base_url(sim, &req.headers);
    let (body, modified) = match req.method {
        Method::GET => singleton_body(sim, ty)?,
        Method::PUT => {
            let mut body = match parse_body(&req.body)? {
                Value::Object(m) => m,
                _ => return Err(ApiError::bad_request("Request body must be a JSON object")),
            };
            for ro in ["url", "uuid", "_last_modified"] {
                body.remove(ro);
            }
            body.insert("name".into(), Value::String(ty.to_owned()));
            let schema =
                crate::schema::Schema::embedded().map_err(|e| ApiError::new(500, e.to_string()))?;
            let opts = crate::schema::CheckOptions {
                api_version: version.cloned(),
                ..Default::default()
            };
            schema
                .check(ty, &mut body, &opts)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            body.remove("name");
            let entry = (Value::Object(body), now_micros());
            sim.singletons
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(ty, entry.clone());
            entry
        }
        ref m => return Err(ApiError::new(405, format!("Method '{m}' not allowed"))),
    };
    let mut out = body;
    out["url"] = Value::String(format!("{base}/api/{ty}"));
    out["uuid"] = Value::String(uuid.to_owned());
    out["_last_modified"] = Value::String(modified.to_string());
    Ok(json_response(200, &out))
}

/// `PUT /api/useraccount {"old_password", "password"}`: the logged-in admin changes its password.
fn useraccount(sim: &Arc<Sim>, req: &Req) -> Result<Resp, ApiError> {
    if req.method != Method::PUT {
        return Err(ApiError::new(
            405,
            format!("Method '{}' not allowed", req.method),
        ));
    }
    let body = parse_body(&req.body)?;
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(old), Some(new)) = (field("old_password"), field("password")) else {
        return Err(ApiError::bad_request(
            "Both 'old_password' and 'password' are required",
        ));
    };
    let mut password = sim.password();
    if old != *password {
        return Err(ApiError::bad_request("Old password is incorrect"));
    }
    *password = new;
    Ok(empty_response(200))
}

fn not_found(ty: &str) -> ApiError {
    ApiError::not_found(crate::store::types::lookup(ty).map_or(ty, |i| i.model))
}

fn written(
    store: &Store,
    ty: &str,
    uuid: &str,
    base: &str,
    status: u16,
    version: Option<&ApiVersion>,
) -> Result<Resp, ApiError> {
    let obj = store.object(ty, uuid).ok_or_else(|| not_found(ty))?;
    let body = render::render(store, obj, base, Mode::Written, None, version);
    let mut resp = json_response(status, &body);
    let location = body
        .get("url")
        .and_then(Value::as_str)
        .and_then(|u| HeaderValue::from_str(u).ok());
    if let Some(v) = location.filter(|_| status == 201) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// After every write: the data plane follows the configuration, the state file saves it.
fn committed(sim: &Sim, store: &Store) -> Result<(), ApiError> {
    if let Some(dp) = &sim.data_plane {
        dp.reconcile(store);
    }
    match &sim.config.state_file {
        Some(path) => crate::persist::save(path, store)
            .map_err(|e| ApiError::new(500, format!("cannot save state: {e}"))),
        None => Ok(()),
    }
}

fn include_name(query: &[(String, String)]) -> bool {
    query
        .iter()
        .any(|(k, v)| k == "include_name" && v != "false" && v != "0")
}

fn query_value<'q>(query: &'q [(String, String)], key: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn type_uuid(value: &str) -> Option<(String, String)> {
    let (t, u) = value.split_once(':')?;
    Some((t.to_owned(), u.to_owned()))
}

fn list(
    sim: &Arc<Sim>,
    ty: &str,
    scope: &TenantScope,
    base: &str,
    query: &[(String, String)],
    req: &Req,
    version: Option<&ApiVersion>,
) -> Result<Resp, ApiError> {
    let q = |k: &str| query_value(query, k).map(str::to_owned);
    let split = |v: String| v.split(',').map(str::to_owned).collect::<Vec<_>>();
    let filter = ListFilter {
        name: q("name"),
        name_contains: q("name.contains"),
        name_icontains: q("name.icontains"),
        name_in: q("name.in").map(split),
        uuid_in: q("uuid.in").or_else(|| q("uuid")).map(split),
        created_by: q("created_by"),
        refers_to: q("refers_to").as_deref().and_then(type_uuid),
        referred_by: q("referred_by").as_deref().and_then(type_uuid),
        label: q("label_key").map(|k| (k, q("label_value"))),
        cloud_name: q("cloud_ref.name"),
        cloud_uuid: q("cloud_ref.uuid").or_else(|| q("cloud_uuid")),
        sort: q("sort"),
    };
    let page = match q("page") {
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid page '{p}'")))?,
        None => 1,
    };
    let page_size = match q("page_size") {
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid page_size '{p}'")))?
            .min(MAX_PAGE_SIZE),
        None => DEFAULT_PAGE_SIZE,
    };
    let fields = q("fields").map(split);
    let names = include_name(query);
    let store = sim.lock_store_read();
    let matched = store.list(ty, scope, &filter);
    let count = matched.len();
    let results: Vec<Value> = matched
        .iter()
        .skip((page - 1).saturating_mul(page_size))
        .take(page_size)
        .map(|o| {
            render::render(
                &store,
                o,
                base,
                Mode::Read { names },
                fields.as_deref(),
                version,
            )
        })
        .collect();
    let mut body = json!({"count": count, "results": results});
    if page.saturating_mul(page_size) < count {
        let mut next: Vec<(String, String)> =
            query.iter().filter(|(k, _)| k != "page").cloned().collect();
        next.push(("page".into(), (page + 1).to_string()));
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(next)
            .finish();
        body["next"] = Value::String(format!("{base}{}?{qs}", req.path));
    }
    Ok(json_response(200, &body))
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("JSON parse error - {e}")))
}

// ---------------------------------------------------------------- /_sim admin

fn admin(sim: &Arc<Sim>, req: &Req) -> Result<Resp, ApiError> {
    let path = req.path.trim_end_matches('/');
    match (&req.method, path) {
        (&Method::GET, "/_sim/counters") => {
            Ok(json_response(200, &json!(sim.journal().counters())))
        }
        (&Method::GET, "/_sim/log") => Ok(json_response(200, &json!(sim.journal().log()))),
        (&Method::DELETE, "/_sim/log") => {
            sim.journal().clear();
            Ok(empty_response(204))
        }
        (&Method::GET, "/_sim/faults") => {
            let rules: Vec<Value> = sim
                .faults()
                .rules()
                .into_iter()
                .map(|(r, fired)| json!({"rule": r, "fired": fired}))
                .collect();
            Ok(json_response(200, &json!(rules)))
        }
        (&Method::POST, "/_sim/faults") => {
            let rule: FaultRule = serde_json::from_slice(&req.body)
                .map_err(|e| ApiError::bad_request(format!("invalid fault rule: {e}")))?;
            sim.faults().add(rule);
            Ok(empty_response(204))
        }
        (&Method::DELETE, "/_sim/faults") => {
            sim.faults().clear();
            Ok(empty_response(204))
        }
        (&Method::POST, "/_sim/sessions/expire") => {
            let n = sim.sessions().expire_all();
            Ok(json_response(200, &json!({"expired": n})))
        }
        (&Method::GET, "/_sim/sessions") => {
            Ok(json_response(200, &json!({"live": sim.sessions().len()})))
        }
        (&Method::GET, "/_sim/data-plane") => Ok(json_response(
            200,
            &crate::dataplane::DataPlane::status(sim.data_plane.as_ref()),
        )),
        (&Method::DELETE, "/_sim/data-plane/stats") => {
            if let Some(dp) = &sim.data_plane {
                dp.reset_stats();
            }
            Ok(empty_response(204))
        }
        _ => Err(ApiError::new(404, "Not found")),
    }
}

// ---------------------------------------------------------------- responses

fn base_url(sim: &Sim, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{}://{host}", sim.scheme)
}

/// A JSON response.
pub fn json_response(status: u16, body: &Value) -> Resp {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn empty_response(status: u16) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
    resp
}

/// The controller's error answer: `{"error": msg}`, or plain text where the controller sends it.
pub fn error_response(e: &ApiError) -> Resp {
    if e.plain {
        let mut resp = json_response(e.status, &Value::Null);
        *resp.body_mut() = Full::new(Bytes::from(e.message.clone()));
        return resp;
    }
    json_response(e.status, &json!({"error": e.message}))
}
