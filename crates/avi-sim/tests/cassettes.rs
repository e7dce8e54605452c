//! Replays the traffic the official Python SDK's tests recorded against real controllers
//! (20.1.1 and 20.1.5; VCR cassettes in `shared/reference/avi/cassettes/`) against a fresh
//! emulator per cassette, and compares what matters in every answer.
//!
//! For each cassette: start an emulator with the cassette's credentials (from its login
//! request, or its `Authorization: Basic` header with basic auth enabled, or `setUpModule`'s
//! login when the cassette rode on the suite's shared session) and the controller version its
//! login reported; then send every recorded request in order, with
//!
//! - the recorded host rewritten to the emulator's base URL;
//! - recorded uuids in paths, bodies and `X-Avi-Tenant-UUID` rewritten to the uuids the emulator
//!   assigned (the mapping is learnt from every answer: `uuid`, `url`, `*_ref(s)`, `Location`);
//! - the headers that matter kept (`X-Avi-Tenant`, `X-Avi-Tenant-UUID`, `X-Avi-Version`, `Slug`,
//!   `Content-Type`, `Authorization`, `Referer`), and the session managed here: the cookies and
//!   CSRF token the emulator issued at the last replayed login, except where the recording
//!   deliberately sent a token the controller never issued (`X-CSRFToken: invalid`), which is
//!   sent as recorded.
//!
//! Then the status must match, and the body: objects by `name`, `uuid`/`url` shape (`#name`
//! exactly where recorded), every recorded `*_ref(s)` (same type, same uuid mapping, same
//! `#name`), every recorded value the emulator also returns, the fields a write sent; lists by
//! `count` and result names; errors by `error`; plain text exactly. Values that differ by
//! nature (uuids, `_last_modified`, tokens, generated runtime values, the certificate text dump)
//! are compared by shape. Recorded fields the emulator does not return at all are listed, not
//! failed (`CASSETTE_VERBOSE=1`), unless the write itself sent them.
//!
//! Known emulator bugs and fidelity gaps are in [`KNOWN`]: each names the bug and skips exactly
//! one check (cassette, interactions, check id). An entry whose check passes is stale and fails
//! the test, so a fix forces its removal. `CASSETTE=<name>` replays one cassette.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use avi_sim::{AviSim, RunningSim, SimConfig};
use base64::Engine as _;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Map, Value};

// ------------------------------------------------------------------------------------------
// Known emulator bugs and fidelity gaps: each skips one precise check, and must still fail.

/// One allowed mismatch.
struct Known {
    /// The bug, as the report names it.
    bug: &'static str,
    /// Cassette file name, or `*` for any.
    cassette: &'static str,
    /// Interaction indexes; empty = any interaction of the cassette(s).
    interactions: &'static [usize],
    /// The exact check id (as printed in a failure).
    check: &'static str,
}

const KNOWN: &[Known] = &[
    // EMULATOR GAP "login-tenants-brief" (src/api/mod.rs `login`): the login answer lists
    // non-admin tenants as whole Tenant objects (`_last_modified`, `config_settings`); the
    // emulator gives `url`, `uuid`, `name`, `local` only.
    Known {
        bug: "login-tenants-brief",
        cassette: "test_multiple_tenants",
        interactions: &[1],
        check: "shape login tenants[test-tenant]._last_modified",
    },
    // RECORDING GAP "no-systemconfiguration": the cassette's `PUT /api/systemconfiguration`
    // carries no body (the recorder dropped it), which the controller answered 200; the emulator
    // answers an empty body with 400 (a JSON parse error), as it must for a real empty PUT.
    Known {
        bug: "no-systemconfiguration",
        cassette: "test_user_login",
        interactions: &[5],
        check: "status",
    },
];

// ------------------------------------------------------------------------------------------
// Values that differ by nature between two controllers: compared by shape only.

/// Keys whose values are generated per controller (secrets, allocated runtime slots, the
/// openssl text dump of a certificate): when the emulator returns them, same JSON kind.
const BY_NATURE: &[&str] = &["tls_ticket_key", "redis_db", "redis_port", "text"];

// ------------------------------------------------------------------------------------------
// Cassettes.

struct Interaction {
    method: String,
    uri: String,
    body: Option<String>,
    headers: Vec<(String, String)>,
    status: u16,
    resp_headers: Vec<(String, String)>,
    resp_body: String,
}

impl Interaction {
    fn req_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn resp_header(&self, name: &str) -> Option<&str> {
        self.resp_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn set_cookies(&self) -> Vec<(String, String)> {
        self.resp_headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| cookie_pair(v))
            .collect()
    }
    /// `(origin, path?query)` of the recorded URI.
    fn split_uri(&self) -> (String, String) {
        let url = url::Url::parse(&self.uri)
            .unwrap_or_else(|e| panic!("unparsable recorded uri {}: {e}", self.uri));
        let origin = url.origin().ascii_serialization();
        let mut pq = url.path().to_owned();
        if let Some(q) = url.query() {
            pq.push('?');
            pq.push_str(q);
        }
        (origin, pq)
    }
    fn path(&self) -> String {
        let (_, pq) = self.split_uri();
        pq.split('?').next().unwrap_or_default().to_owned()
    }
    fn is_login(&self) -> bool {
        self.method == "POST" && self.path().trim_end_matches('/') == "/login"
    }
}

struct Cassette {
    name: String,
    interactions: Vec<Interaction>,
}

fn headers_of(v: &Value) -> Vec<(String, String)> {
    let Some(map) = v.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, vals) in map {
        match vals {
            Value::Array(a) => out.extend(
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|s| (k.clone(), s.to_owned())),
            ),
            Value::String(s) => out.push((k.clone(), s.clone())),
            _ => {}
        }
    }
    out
}

fn body_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m.get("string").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

fn load_cassette(path: &Path) -> Cassette {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read cassette {}: {e}", path.display()));
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("cassette {name} is not JSON: {e}"));
    let interactions = doc["interactions"]
        .as_array()
        .unwrap_or_else(|| panic!("cassette {name} has no interactions array"))
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let rq = &it["request"];
            let rs = &it["response"];
            Interaction {
                method: rq["method"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}[{i}]: no request method"))
                    .to_owned(),
                uri: rq["uri"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}[{i}]: no request uri"))
                    .to_owned(),
                body: body_of(&rq["body"]).filter(|b| !b.is_empty()),
                headers: headers_of(&rq["headers"]),
                status: rs["status"]["code"]
                    .as_u64()
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or_else(|| panic!("{name}[{i}]: no response status")),
                resp_headers: headers_of(&rs["headers"]),
                resp_body: body_of(&rs["body"]).unwrap_or_default(),
            }
        })
        .collect();
    Cassette { name, interactions }
}

fn cassette_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/avi/cassettes");
    assert!(
        dir.is_dir(),
        "the recorded controller traffic is missing: expected the VCR cassettes in {} \
         (shared/reference/avi/cassettes beside the repository checkout)",
        dir.display()
    );
    dir
}

fn cookie_pair(set_cookie: &str) -> Option<(String, String)> {
    let first = set_cookie.split(';').next()?;
    let (k, v) = first.split_once('=')?;
    Some((k.trim().to_owned(), v.trim().to_owned()))
}

/// `(username, password)` of a login body (form-encoded, as the Python SDK sends, or JSON).
fn login_credentials(body: &str) -> Option<(String, String)> {
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(body) {
        let u = m.get("username")?.as_str()?.to_owned();
        let p = m.get("password")?.as_str()?.to_owned();
        return Some((u, p));
    }
    let fields: BTreeMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    Some((
        fields.get("username")?.clone(),
        fields.get("password")?.clone(),
    ))
}

fn basic_credentials(value: &str) -> Option<(String, String)> {
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

fn login_version(it: &Interaction) -> Option<String> {
    let body: Value = serde_json::from_str(&it.resp_body).ok()?;
    body.pointer("/version/Version")?
        .as_str()
        .map(str::to_owned)
}

fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// What the whole recorded suite tells about one cassette.
struct Corpus {
    cassettes: Vec<Cassette>,
    /// Every CSRF token a recorded controller issued (Set-Cookie `csrftoken`).
    issued_csrf: HashSet<String>,
}

impl Corpus {
    fn load(dir: &Path) -> Corpus {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no cassette in {}", dir.display());
        let cassettes: Vec<Cassette> = paths.iter().map(|p| load_cassette(p)).collect();
        let issued_csrf = cassettes
            .iter()
            .flat_map(|c| &c.interactions)
            .flat_map(Interaction::set_cookies)
            .filter(|(k, _)| k == "csrftoken")
            .map(|(_, v)| v)
            .collect();
        Corpus {
            cassettes,
            issued_csrf,
        }
    }

    /// The suite's shared login (`setUpModule`): what cassettes without their own login used.
    fn module_login(&self) -> Option<&Interaction> {
        self.cassettes
            .iter()
            .find(|c| c.name == "setUpModule")?
            .interactions
            .iter()
            .find(|it| it.is_login())
    }

    /// A token the recording sent on purpose although no controller ever issued it (the SDK's
    /// CSRF-retry test sends `invalid`). Tokens of the controller's shape (32 alphanumerics)
    /// come from a login outside the recorded suite and are replaced by the emulator's.
    fn deliberately_wrong(&self, token: &str) -> bool {
        let shaped = token.len() == 32 && token.chars().all(|c| c.is_ascii_alphanumeric());
        !self.issued_csrf.contains(token) && !shaped
    }
}

/// How the emulator for one cassette is set up.
struct Setup {
    username: String,
    password: String,
    basic_auth: bool,
    version: String,
    /// The cassette starts on an already logged-in session: log in before replaying.
    bootstrap: bool,
}

fn setup_for(corpus: &Corpus, c: &Cassette) -> Setup {
    let first_login = c.interactions.iter().position(Interaction::is_login);
    let basic = c
        .interactions
        .iter()
        .find_map(|it| it.req_header("authorization").and_then(basic_credentials));
    let module = corpus.module_login();
    let creds = first_login
        .and_then(|i| c.interactions[i].body.as_deref())
        .and_then(login_credentials)
        .or_else(|| basic.clone())
        .or_else(|| {
            module
                .and_then(|m| m.body.as_deref())
                .and_then(login_credentials)
        })
        .unwrap_or_else(|| {
            panic!(
                "{}: no credentials (no login, no basic auth, no setUpModule login)",
                c.name
            )
        });
    let requested = c
        .interactions
        .iter()
        .filter_map(|it| it.req_header("x-avi-version"))
        .max_by_key(|v| version_key(v))
        .map(str::to_owned);
    let version = first_login
        .and_then(|i| login_version(&c.interactions[i]))
        .or(requested)
        .or_else(|| module.and_then(login_version))
        .unwrap_or_else(|| panic!("{}: cannot tell the controller version", c.name));
    let before_login = &c.interactions[..first_login.unwrap_or(c.interactions.len())];
    let bootstrap = before_login
        .iter()
        .any(|it| it.req_header("authorization").is_none());
    Setup {
        username: creds.0,
        password: creds.1,
        basic_auth: basic.is_some(),
        version,
        bootstrap,
    }
}

// ------------------------------------------------------------------------------------------
// References and uuids.

/// A parsed reference: `<origin>/api/<type>[/<uuid>][#name]` or the same relative.
#[derive(Debug, PartialEq)]
struct Ref {
    relative: bool,
    ty: String,
    uuid: Option<String>,
    name: Option<String>,
}

fn parse_ref(value: &str, origin: &str) -> Option<Ref> {
    let (relative, rest) = match value.strip_prefix(origin) {
        Some(rest) => (false, rest),
        None => (true, value),
    };
    let rest = rest.strip_prefix("/api/")?;
    let (path, name) = match rest.split_once('#') {
        Some((p, n)) => (p, Some(n.to_owned())),
        None => (rest, None),
    };
    if path.contains('?') {
        return None;
    }
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    let ty = segs.next()?.to_owned();
    let uuid = segs.next().map(str::to_owned);
    if segs.next().is_some() {
        return None;
    }
    Some(Ref {
        relative,
        ty,
        uuid,
        name,
    })
}

/// `pool-0e96e00e-f2c6-4312-b228-1e926c1554be` → `Some("pool")`: a generated uuid. Fixed ones
/// (`admin`, `default`, a `Slug`-forced `pool-force-42`) → `None`.
fn generated_uuid_type(uuid: &str) -> Option<&str> {
    if uuid.len() < 37 {
        return None;
    }
    let (ty, tail) = uuid.split_at(uuid.len() - 36);
    let ty = ty.strip_suffix('-')?;
    let groups: Vec<&str> = tail.split('-').collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = groups
        .iter()
        .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
    (lens == [8, 4, 4, 4, 12] && hex && !ty.is_empty()).then_some(ty)
}

fn is_ref_key(key: &str) -> bool {
    key.ends_with("_ref") || key.ends_with("_refs")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn snippet(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

// ------------------------------------------------------------------------------------------
// The replay.

struct Session {
    sid: String,
    csrf: String,
}

#[derive(Default)]
struct Report {
    interactions: usize,
    compared: usize,
    failures: Vec<String>,
    known: Vec<String>,
    /// Object type → recorded fields the emulator does not return.
    absent: BTreeMap<String, BTreeSet<String>>,
    /// Object type → top-level fields the emulator returns and the recording does not.
    extra: BTreeMap<String, BTreeSet<String>>,
}

struct Replay<'c> {
    corpus: &'c Corpus,
    cassette: &'c str,
    _sim: RunningSim,
    http: reqwest::Client,
    base: String,
    session: Option<Session>,
    /// Recorded uuid → emulator uuid, and back.
    map: BTreeMap<String, String>,
    rev: BTreeMap<String, String>,
    /// Indexes into [`KNOWN`] that matched.
    hits: &'c mut HashSet<usize>,
    report: Report,
    /// The interaction being compared, for messages.
    current: String,
}

impl Replay<'_> {
    fn check(&mut self, i: usize, id: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.report.compared += 1;
        if ok {
            return;
        }
        let msg = format!(
            "{}[{i}] {}: {id}: {}",
            self.cassette,
            self.current,
            detail()
        );
        let known = KNOWN.iter().position(|k| {
            (k.cassette == "*" || k.cassette == self.cassette)
                && (k.interactions.is_empty() || k.interactions.contains(&i))
                && k.check == id
        });
        match known {
            Some(k) => {
                self.hits.insert(k);
                self.report.known.push(format!("[{}] {msg}", KNOWN[k].bug));
            }
            None => self.report.failures.push(msg),
        }
    }

    /// Rewrites the recorded origin and every learnt uuid.
    fn translate(&self, s: &str, origin: &str) -> String {
        let mut out = s.replace(origin, &self.base);
        let mut pairs: Vec<(&String, &String)> = self.map.iter().filter(|(r, e)| r != e).collect();
        pairs.sort_by_key(|(r, _)| std::cmp::Reverse(r.len()));
        for (rec, emu) in pairs {
            out = out.replace(rec.as_str(), emu);
        }
        out
    }

    /// Records that recorded `rec` is the emulator's `emu`; a contradiction is a mismatch.
    fn learn(&mut self, i: usize, id: &str, rec: &str, emu: &str) {
        let known_emu = self.map.get(rec).cloned();
        let known_rec = self.rev.get(emu).cloned();
        let ok = known_emu.as_deref().is_none_or(|e| e == emu)
            && known_rec.as_deref().is_none_or(|r| r == rec);
        self.check(i, &format!("uuid map {id}"), ok, || {
            format!(
                "recorded {rec} ↔ emulator {emu}, but earlier {rec} ↔ {known_emu:?} and \
                 {known_rec:?} ↔ {emu}"
            )
        });
        if ok {
            self.map.insert(rec.to_owned(), emu.to_owned());
            self.rev.insert(emu.to_owned(), rec.to_owned());
        }
    }

    fn compare_ref(&mut self, i: usize, id: &str, origin: &str, rec: &str, emu: Option<&Value>) {
        let Some(r) = parse_ref(rec, origin) else {
            self.check(i, id, emu.and_then(Value::as_str) == Some(rec), || {
                format!("recorded {rec:?}, got {emu:?}")
            });
            return;
        };
        let e = emu
            .and_then(Value::as_str)
            .and_then(|s| parse_ref(s, &self.base));
        let Some(e) = e else {
            self.check(i, id, false, || {
                format!("recorded a reference {rec}, got {emu:?}")
            });
            return;
        };
        let same = r.relative == e.relative
            && r.ty == e.ty
            && r.name == e.name
            && r.uuid.is_some() == e.uuid.is_some();
        self.check(i, id, same, || {
            format!(
                "recorded {rec}, got {} (type, #name and shape must match)",
                emu.and_then(Value::as_str).unwrap_or_default()
            )
        });
        if let (Some(ru), Some(eu)) = (&r.uuid, &e.uuid) {
            self.learn(i, id, ru, eu);
        }
    }

    fn absent(&mut self, ty: &str, rel: &str) {
        self.report
            .absent
            .entry(ty.to_owned())
            .or_default()
            .insert(rel.to_owned());
    }

    /// One object (`{"uuid", "url", ...}`): identity, references, values.
    #[allow(clippy::too_many_arguments)]
    fn compare_object(
        &mut self,
        i: usize,
        prefix: &str,
        origin: &str,
        rec: &Map<String, Value>,
        emu: &Map<String, Value>,
        ty_hint: &str,
        sent: Option<&Map<String, Value>>,
    ) {
        let ty = rec
            .get("url")
            .and_then(Value::as_str)
            .and_then(|u| parse_ref(u, origin))
            .map_or_else(|| ty_hint.to_owned(), |r| r.ty);
        if let Some(n) = rec.get("name") {
            let got = emu.get("name");
            self.check(i, &format!("{prefix}name"), got == Some(n), || {
                format!("recorded {n}, got {got:?}")
            });
        }
        if let Some(ru) = rec.get("uuid").and_then(Value::as_str) {
            let eu = emu.get("uuid").and_then(Value::as_str);
            let ok = match (generated_uuid_type(ru), eu) {
                (_, None) => false,
                (Some(t), Some(eu)) => generated_uuid_type(eu) == Some(t),
                (None, Some(eu)) => eu == ru,
            };
            self.check(i, &format!("{prefix}uuid"), ok, || {
                format!("recorded {ru}, got {eu:?} (same shape; fixed uuids equal)")
            });
            if let Some(eu) = eu {
                self.learn(i, &format!("{prefix}uuid"), ru, eu);
            }
        }
        if let Some(ru) = rec.get("url").and_then(Value::as_str) {
            self.compare_ref(i, &format!("{prefix}url"), origin, ru, emu.get("url"));
        }
        self.walk(i, prefix, "", origin, rec, emu, &ty, true);
        if let Some(sent) = sent {
            for k in sent.keys() {
                if rec.contains_key(k) && !BY_NATURE.contains(&k.as_str()) {
                    self.check(i, &format!("{prefix}echo {k}"), emu.contains_key(k), || {
                        format!("the write sent {k} and the controller returned it; the emulator did not")
                    });
                }
            }
        }
        for k in emu.keys() {
            if !rec.contains_key(k) {
                self.report
                    .extra
                    .entry(ty.clone())
                    .or_default()
                    .insert(k.clone());
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        i: usize,
        prefix: &str,
        rel: &str,
        origin: &str,
        rec: &Map<String, Value>,
        emu: &Map<String, Value>,
        ty: &str,
        root: bool,
    ) {
        for (k, rv) in rec {
            if root && matches!(k.as_str(), "uuid" | "url" | "name") {
                continue;
            }
            let id = format!("{prefix}{rel}{k}");
            let rel_k = format!("{rel}{k}");
            let ev = emu.get(k);
            if k == "_last_modified" {
                let ok = ev
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()));
                self.check(i, &format!("shape {id}"), ok, || {
                    format!("recorded {rv}, got {ev:?} (a string of microseconds)")
                });
                continue;
            }
            if BY_NATURE.contains(&k.as_str()) {
                match ev {
                    Some(ev) => self.check(i, &format!("shape {id}"), kind(rv) == kind(ev), || {
                        format!("recorded a {}, got a {}", kind(rv), kind(ev))
                    }),
                    None => self.absent(ty, &rel_k),
                }
                continue;
            }
            let ref_like = |v: &Value| {
                v.as_str()
                    .is_some_and(|s| s.starts_with(&format!("{origin}/api/")))
            };
            let is_ref = match rv {
                Value::String(_) => is_ref_key(k) || ref_like(rv),
                Value::Array(a) => {
                    !a.is_empty()
                        && a.iter().all(Value::is_string)
                        && (is_ref_key(k) || a.iter().all(ref_like))
                }
                _ => false,
            };
            if is_ref {
                match rv {
                    Value::String(s) => self.compare_ref(i, &format!("ref {id}"), origin, s, ev),
                    Value::Array(ra) => {
                        let ea = ev.and_then(Value::as_array);
                        let n = ea.map_or(0, Vec::len);
                        self.check(i, &format!("ref {id}"), n == ra.len(), || {
                            format!("recorded {} references, got {ev:?}", ra.len())
                        });
                        for (j, r) in ra.iter().enumerate() {
                            if let (Some(r), Some(e)) = (r.as_str(), ea.and_then(|a| a.get(j))) {
                                self.compare_ref(i, &format!("ref {id}[{j}]"), origin, r, Some(e));
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match (rv, ev) {
                (_, None) => self.absent(ty, &rel_k),
                (Value::Object(ro), Some(Value::Object(eo))) => {
                    self.walk(i, prefix, &format!("{rel_k}."), origin, ro, eo, ty, false);
                }
                (Value::Array(ra), Some(Value::Array(ea))) if ra.iter().any(Value::is_object) => {
                    self.check(i, &format!("field {id}.len"), ra.len() == ea.len(), || {
                        format!("recorded {} items, got {}", ra.len(), ea.len())
                    });
                    for (j, (r, e)) in ra.iter().zip(ea).enumerate() {
                        if let (Some(ro), Some(eo)) = (r.as_object(), e.as_object()) {
                            self.walk(
                                i,
                                prefix,
                                &format!("{rel_k}[{j}]."),
                                origin,
                                ro,
                                eo,
                                ty,
                                false,
                            );
                        }
                    }
                }
                (rv, Some(ev)) => {
                    self.check(i, &format!("field {id}"), rv == ev, || {
                        format!(
                            "recorded {}, got {}",
                            snippet(&rv.to_string()),
                            snippet(&ev.to_string())
                        )
                    });
                }
            }
        }
    }

    fn compare_list(
        &mut self,
        i: usize,
        origin: &str,
        rec: &Map<String, Value>,
        emu: &Map<String, Value>,
        ty: &str,
    ) {
        let rc = rec.get("count");
        let ec = emu.get("count");
        self.check(i, "count", rc == ec, || {
            format!("recorded {rc:?}, got {ec:?}")
        });
        let names = |m: &Map<String, Value>| -> Vec<String> {
            m.get("results")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|o| {
                            o.get("name")
                                .and_then(Value::as_str)
                                .unwrap_or("?")
                                .to_owned()
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let (rn, en) = (names(rec), names(emu));
        self.check(i, "results names", rn == en, || {
            format!("recorded {rn:?}, got {en:?}")
        });
        let rn_next = rec.get("next").is_some();
        let en_next = emu.get("next").is_some();
        self.check(i, "next", rn_next == en_next, || {
            format!("recorded next present={rn_next}, got present={en_next}")
        });
        let empty = Vec::new();
        let rr = rec
            .get("results")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let er = emu
            .get("results")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        for (j, r) in rr.iter().enumerate() {
            let Some(ro) = r.as_object() else { continue };
            let name = ro.get("name");
            let e = er
                .get(j)
                .filter(|e| e.get("name") == name)
                .or_else(|| er.iter().find(|e| e.get("name") == name));
            if let Some(eo) = e.and_then(Value::as_object) {
                self.compare_object(i, &format!("results[{j}]."), origin, ro, eo, ty, None);
            }
        }
    }

    fn compare_login(&mut self, i: usize, origin: &str, rec: &Value, emu: &Value) {
        for ptr in [
            "/version/Version",
            "/session_cookie_name",
            "/user_initialized",
            "/user/username",
            "/user/name",
            "/user/uuid",
            "/user/is_superuser",
            "/user/local",
            "/user/full_name",
        ] {
            if let Some(rv) = rec.pointer(ptr) {
                let ev = emu.pointer(ptr);
                self.check(i, &format!("login {ptr}"), ev == Some(rv), || {
                    format!("recorded {rv}, got {ev:?}")
                });
            }
        }
        if let Some(r) = rec
            .pointer("/user/default_tenant_ref")
            .and_then(Value::as_str)
        {
            let e = emu.pointer("/user/default_tenant_ref");
            self.compare_ref(i, "login /user/default_tenant_ref", origin, r, e);
        }
        let tenants = |v: &Value| -> Vec<Map<String, Value>> {
            v.get("tenants")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|t| t.as_object().cloned()).collect())
                .unwrap_or_default()
        };
        let (rt, et) = (tenants(rec), tenants(emu));
        let names = |ts: &[Map<String, Value>]| -> BTreeSet<String> {
            ts.iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect()
        };
        let (rn, en) = (names(&rt), names(&et));
        self.check(i, "login tenants", rn == en, || {
            format!("recorded {rn:?}, got {en:?}")
        });
        for r in &rt {
            let name = r
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned();
            if let Some(e) = et.iter().find(|e| e.get("name") == r.get("name")) {
                self.compare_object(
                    i,
                    &format!("login tenants[{name}]."),
                    origin,
                    r,
                    e,
                    "tenant",
                    None,
                );
            }
        }
    }

    fn compare_headers(&mut self, i: usize, it: &Interaction, origin: &str, headers: &HeaderMap) {
        let header = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Some(v) = it.resp_header("avi_api_version") {
            let got = header("avi_api_version");
            self.check(
                i,
                &format!("header AVI_API_VERSION: {v}"),
                got.as_deref() == Some(v),
                || format!("recorded {v}, got {got:?}"),
            );
        }
        if let Some(loc) = it.resp_header("location") {
            let got = header(LOCATION.as_str()).map(Value::String);
            self.compare_ref(i, "header Location", origin, loc, got.as_ref());
        }
        if !it.resp_body.is_empty()
            && let Some(ct) = it.resp_header("content-type")
        {
            let media = ct.split(';').next().unwrap_or(ct).trim().to_owned();
            let got = header("content-type");
            self.check(
                i,
                "header Content-Type",
                got.as_deref().is_some_and(|g| g.starts_with(&media)),
                || format!("recorded {ct}, got {got:?}"),
            );
        }
        let emitted: BTreeSet<String> = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(cookie_pair)
            .map(|(k, _)| k)
            .collect();
        // `avi-sessionid=None` (basic auth) is the controller's placeholder, not a session.
        for (name, value) in it.set_cookies() {
            if value == "None" {
                continue;
            }
            self.check(
                i,
                &format!("cookie {name}"),
                emitted.contains(&name),
                || format!("the controller set cookie {name}; the emulator set {emitted:?}"),
            );
        }
    }

    async fn login(&mut self, body: &str) -> Result<(), String> {
        let resp = self
            .http
            .post(format!("{}/login", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("status {status}"));
        }
        self.take_session(resp.headers())
    }

    fn take_session(&mut self, headers: &HeaderMap) -> Result<(), String> {
        let cookies: BTreeMap<String, String> = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(cookie_pair)
            .collect();
        let sid = cookies
            .get("avi-sessionid")
            .or_else(|| cookies.get("sessionid"))
            .ok_or("no session cookie")?;
        let csrf = cookies.get("csrftoken").ok_or("no csrftoken cookie")?;
        self.session = Some(Session {
            sid: sid.clone(),
            csrf: csrf.clone(),
        });
        Ok(())
    }

    async fn step(&mut self, i: usize, it: &Interaction) {
        let (origin, pq) = it.split_uri();
        let is_login = it.is_login();
        self.current = format!("{} {}", it.method, pq);
        self.report.interactions += 1;
        let url = format!("{}{}", self.base, self.translate(&pq, &origin));
        let method = reqwest::Method::from_bytes(it.method.as_bytes())
            .unwrap_or_else(|e| panic!("{}[{i}]: bad method: {e}", self.cassette));
        let mut rb = self.http.request(method, url);
        for (k, v) in &it.headers {
            match k.to_ascii_lowercase().as_str() {
                "x-avi-tenant" | "x-avi-version" | "slug" | "content-type" | "authorization" => {
                    rb = rb.header(k.as_str(), v.as_str());
                }
                "x-avi-tenant-uuid" | "referer" => {
                    rb = rb.header(k.as_str(), self.translate(v, &origin));
                }
                _ => {}
            }
        }
        let wrong = it
            .req_header("x-csrftoken")
            .filter(|t| self.corpus.deliberately_wrong(t));
        if it.req_header("x-csrftoken").is_some() {
            match (wrong, &self.session) {
                (Some(w), _) => rb = rb.header("X-CSRFToken", w),
                (None, Some(s)) => rb = rb.header("X-CSRFToken", s.csrf.as_str()),
                (None, None) => {}
            }
        }
        let basic = it.req_header("authorization").is_some();
        if basic {
            // As recorded: the SDK's `avi-sessionid=None` placeholders next to the credentials.
            if let Some(c) = it.req_header("cookie") {
                rb = rb.header("Cookie", c);
            }
        } else if !is_login && let Some(s) = &self.session {
            let mut cookie = format!(
                "avi-sessionid={0}; csrftoken={1}; sessionid={0}",
                s.sid, s.csrf
            );
            if let Some(w) = wrong
                && it
                    .req_header("cookie")
                    .is_some_and(|c| c.contains(&format!("csrftoken={w}")))
            {
                cookie.push_str(&format!("; csrftoken={w}"));
            }
            rb = rb.header("Cookie", cookie);
        }
        if let Some(b) = &it.body {
            rb = rb.body(if is_login {
                b.clone()
            } else {
                self.translate(b, &origin)
            });
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                self.check(i, "transport", false, || e.to_string());
                return;
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        if is_login && status == 200 {
            let taken = self.take_session(&headers);
            self.check(i, "login cookies", taken.is_ok(), || format!("{taken:?}"));
        }
        self.check(i, "status", status == it.status, || {
            format!("recorded {}, got {status}: {}", it.status, snippet(&text))
        });
        if status != it.status {
            return;
        }

        // The body.
        if it.resp_body.is_empty() {
            self.check(i, "body empty", text.is_empty(), || {
                format!("recorded no body, got {}", snippet(&text))
            });
        } else if let Ok(rec) = serde_json::from_str::<Value>(&it.resp_body) {
            match serde_json::from_str::<Value>(&text) {
                Err(_) => self.check(i, "body json", false, || {
                    format!("recorded JSON, got {}", snippet(&text))
                }),
                Ok(emu) => {
                    let ty = it
                        .path()
                        .trim_start_matches("/api/")
                        .split('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let sent: Option<Map<String, Value>> = it
                        .body
                        .as_deref()
                        .and_then(|b| serde_json::from_str::<Value>(b).ok())
                        .and_then(|v| v.as_object().cloned());
                    match (&rec, &emu) {
                        _ if is_login => self.compare_login(i, &origin, &rec, &emu),
                        (Value::Object(r), Value::Object(e))
                            if r.contains_key("results") && r.contains_key("count") =>
                        {
                            self.compare_list(i, &origin, r, e, &ty);
                        }
                        (Value::Object(r), Value::Object(e)) if r.contains_key("error") => {
                            self.check(i, "error", e.contains_key("error"), || {
                                format!("recorded {rec}, got {emu}")
                            });
                        }
                        (Value::Object(r), Value::Object(e)) => {
                            let writes = matches!(it.method.as_str(), "POST" | "PUT" | "PATCH");
                            self.compare_object(
                                i,
                                "",
                                &origin,
                                r,
                                e,
                                &ty,
                                sent.as_ref().filter(|_| writes),
                            );
                        }
                        _ => self.check(i, "body", rec == emu, || {
                            format!("recorded {rec}, got {emu}")
                        }),
                    }
                }
            }
        } else {
            self.check(i, "body text", text == it.resp_body, || {
                format!("recorded {:?}, got {:?}", it.resp_body, snippet(&text))
            });
        }
        self.compare_headers(i, it, &origin, &headers);
    }
}

async fn replay(corpus: &Corpus, c: &Cassette, hits: &mut HashSet<usize>) -> Report {
    let setup = setup_for(corpus, c);
    let config = SimConfig {
        username: setup.username.clone(),
        password: setup.password.clone(),
        basic_auth: setup.basic_auth,
        version: setup.version.clone(),
        ..SimConfig::default()
    };
    let sim = AviSim::builder()
        .config(config)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{}: the emulator did not start: {e}", c.name));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("http client: {e}"));
    let base = sim.base_url();
    let mut r = Replay {
        corpus,
        cassette: &c.name,
        _sim: sim,
        http,
        base,
        session: None,
        map: BTreeMap::new(),
        rev: BTreeMap::new(),
        hits,
        report: Report::default(),
        current: String::new(),
    };
    if setup.bootstrap {
        // The recording rode on the suite's shared session (setUpModule's login).
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("username", &setup.username)
            .append_pair("password", &setup.password)
            .finish();
        if let Err(e) = r.login(&body).await {
            panic!("{}: the bootstrap login failed: {e}", c.name);
        }
    }
    for (i, it) in c.interactions.iter().enumerate() {
        r.step(i, it).await;
    }
    r.report
}

#[tokio::test]
async fn recorded_controller_traffic_replays_against_the_emulator() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = cassette_dir();
    let corpus = Corpus::load(&dir);
    let only = std::env::var("CASSETTE").ok();
    let verbose = std::env::var_os("CASSETTE_VERBOSE").is_some();
    let mut hits = HashSet::new();
    let mut failures = Vec::new();
    let mut replayed = BTreeSet::new();
    let started = Instant::now();
    for c in &corpus.cassettes {
        if only.as_deref().is_some_and(|o| o != c.name) {
            continue;
        }
        replayed.insert(c.name.clone());
        let t = Instant::now();
        let report = replay(&corpus, c, &mut hits).await;
        let absent: usize = report.absent.values().map(BTreeSet::len).sum();
        println!(
            "{:<28} {:>3} interactions replayed, {:>5} fields compared, {} mismatches, \
             {} known, {} recorded fields absent, {:>4} ms",
            c.name,
            report.interactions,
            report.compared,
            report.failures.len(),
            report.known.len(),
            absent,
            t.elapsed().as_millis()
        );
        for k in &report.known {
            println!("    known {k}");
        }
        if verbose {
            for (ty, fields) in &report.absent {
                println!("    absent from the emulator, {ty}: {fields:?}");
            }
            for (ty, fields) in &report.extra {
                println!("    returned only by the emulator, {ty}: {fields:?}");
            }
        }
        failures.extend(report.failures);
    }
    for (n, k) in KNOWN.iter().enumerate() {
        let applies = k.cassette == "*" || replayed.contains(k.cassette);
        if applies && !hits.contains(&n) && (only.is_none() || k.cassette != "*") {
            failures.push(format!(
                "stale allow-list entry [{}] ({} {:?} `{}`): the check passes now — remove the entry",
                k.bug, k.cassette, k.interactions, k.check
            ));
        }
    }
    println!(
        "{} cassettes replayed in {} ms",
        replayed.len(),
        started.elapsed().as_millis()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches against the recorded controller traffic:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
