//! Protobuf bodies for built-in kinds (`application/vnd.kubernetes.protobuf`), as kubectl's
//! `create` generators and every client-go program send them and as they ask for answers.
//!
//! The wire format is Kubernetes': the magic `k8s\0`, then a `runtime.Unknown` whose `typeMeta`
//! names the kind and whose `raw` holds the object's message. Watches frame each event with a
//! 4-byte big-endian length; the event is a `meta.v1.WatchEvent` whose object is itself such an
//! envelope.
//!
//! The messages are Kubernetes 1.35's own `generated.proto` files (as the `k8s-rs-pb` crate
//! ships them), compiled into the descriptor set `protobuf/kubernetes-1.35.binpb` by
//! `cargo xtask protos` (see `docs/kube-sim.md`). One converter, driven by those descriptors
//! through rust-protobuf's reflection, maps any message to and from the JSON the store holds. Only the types whose JSON is not their message are special:
//! `Time`/`MicroTime` (RFC 3339), `Duration` (Go's notation), `IntOrString`, `Quantity`,
//! `RawExtension`, `FieldsV1` and apiextensions' `JSON` (embedded JSON), and the
//! `JSONSchemaProps` names and `...Or...` unions of CRD schemas.
//!
//! Go writes every non-pointer field, so a message carries `""` for each unset string and
//! empty `Time`s: the converter leaves those out, as Go's `omitempty` JSON does. Zero numbers and
//! `false` are kept (a pointer's `0` or `false` is meaningful and the wire cannot tell them
//! apart).

use std::collections::HashMap;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use protobuf::Message as _;
use protobuf::MessageDyn;
use protobuf::descriptor::FileDescriptorSet;
use protobuf::reflect::{
    FieldDescriptor, FileDescriptor, MessageDescriptor, ReflectValueBox, ReflectValueRef,
    RuntimeFieldType, RuntimeType,
};
use serde_json::{Map, Value};

/// The media type.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// The media type of a protobuf watch stream.
pub const WATCH_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";
const MAGIC: &[u8; 4] = b"k8s\0";
/// Nesting beyond this is refused (rust-protobuf's own parser stops at 100 too).
const MAX_DEPTH: usize = 100;

/// Why a protobuf body could not be read or written.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProtoError {
    /// The body does not start with `k8s\0`.
    #[error("the protobuf body does not start with the magic bytes \"k8s\\0\"")]
    NoMagic,
    /// The envelope or the message does not parse.
    #[error("the protobuf body does not parse: {0}")]
    Malformed(String),
    /// No message is known for this kind.
    #[error("no protobuf message is known for {api_version}, Kind={kind}")]
    UnknownKind {
        /// The group/version.
        api_version: String,
        /// The kind.
        kind: String,
    },
    /// The envelope names another kind than the resource addressed.
    #[error("the body holds {got}, but this resource takes {want}")]
    WrongKind {
        /// The kind the resource takes.
        want: String,
        /// The kind in the envelope.
        got: String,
    },
    /// A JSON value does not fit its field.
    #[error("{path}: {message}")]
    Field {
        /// Where in the object.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// How a response body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// JSON.
    Json,
    /// Kubernetes protobuf.
    Protobuf,
}

/// Whether a `Content-Type` is protobuf.
pub fn is_protobuf(content_type: &str) -> bool {
    media_type(content_type) == MEDIA_TYPE
}

fn media_type(s: &str) -> String {
    s.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// What an `Accept` header asks for: the first media range this server can write.
/// `None` when it names only types this server cannot write (406).
pub fn negotiate(accept: Option<&str>) -> Option<Wire> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Wire::Json);
    };
    accept
        .split(',')
        .find_map(|range| match media_type(range).as_str() {
            MEDIA_TYPE => Some(Wire::Protobuf),
            "application/json" | "application/*" | "*/*" | "application/yaml" => Some(Wire::Json),
            _ => None,
        })
}

/// Whether an `Accept` header would also take JSON (a kind without a message falls back to it).
pub fn accepts_json(accept: Option<&str>) -> bool {
    accept.is_none_or(|a| {
        a.trim().is_empty()
            || a.split(',').any(|r| {
                matches!(
                    media_type(r).as_str(),
                    "application/json" | "application/*" | "*/*"
                )
            })
    })
}

/// The descriptor set of the Kubernetes API's messages (see the module documentation).
const DESCRIPTORS: &[u8] = include_bytes!("protobuf/kubernetes-1.35.binpb");

fn files() -> Vec<FileDescriptor> {
    FileDescriptorSet::parse_from_bytes(DESCRIPTORS)
        .ok()
        .and_then(|set| FileDescriptor::new_dynamic_fds(set.file, &[]).ok())
        .unwrap_or_default()
}

/// Messages by (package, name).
fn messages() -> &'static HashMap<(String, String), MessageDescriptor> {
    static MESSAGES: OnceLock<HashMap<(String, String), MessageDescriptor>> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        files()
            .into_iter()
            .flat_map(|f| {
                let package = f.package().to_owned();
                f.messages()
                    .map(move |m| ((package.clone(), m.name().to_owned()), m))
                    .collect::<Vec<_>>()
            })
            .collect()
    })
}

const RUNTIME: &str = "apimachinery.pkg.runtime";
const META: &str = "apimachinery.pkg.apis.meta.v1";

/// A message of the envelope's packages.
fn envelope_message(package: &str, name: &str) -> Result<MessageDescriptor, ProtoError> {
    messages()
        .get(&(package.to_owned(), name.to_owned()))
        .cloned()
        .ok_or_else(|| ProtoError::Malformed(format!("no descriptor of {package}.{name}")))
}

/// The protobuf package of a group/version (`v1`, `apps/v1`, `apiextensions.k8s.io/v1`).
fn package(api_version: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    match group {
        "" => format!("api.core.{version}"),
        "apiextensions.k8s.io" => {
            format!("apiextensions_apiserver.pkg.apis.apiextensions.{version}")
        }
        "meta.k8s.io" => format!("apimachinery.pkg.apis.meta.{version}"),
        g => format!("api.{}.{version}", g.split('.').next().unwrap_or(g)),
    }
}

/// The message of `kind` in `api_version`; `Status`, `List`-less meta kinds and `WatchEvent`
/// live in meta/v1 whatever group they answer for.
pub fn descriptor(api_version: &str, kind: &str) -> Option<MessageDescriptor> {
    let m = messages();
    m.get(&(package(api_version), kind.to_owned()))
        .or_else(|| {
            matches!(
                kind,
                "Status" | "WatchEvent" | "DeleteOptions" | "APIResourceList"
            )
            .then(|| m.get(&("apimachinery.pkg.apis.meta.v1".to_owned(), kind.to_owned())))
            .flatten()
        })
        .cloned()
}

/// Whether objects of this kind have a protobuf form.
pub fn supports(api_version: &str, kind: &str) -> bool {
    descriptor(api_version, kind).is_some()
}

// ------------------------------------------------------------------ envelope

fn unknown(api_version: &str, kind: &str, raw: Vec<u8>) -> Result<Vec<u8>, ProtoError> {
    let mut tm = envelope_message(RUNTIME, "TypeMeta")?.new_instance();
    set(
        &mut *tm,
        "apiVersion",
        ReflectValueBox::String(api_version.to_owned()),
    );
    set(&mut *tm, "kind", ReflectValueBox::String(kind.to_owned()));
    let mut u = envelope_message(RUNTIME, "Unknown")?.new_instance();
    set(&mut *u, "typeMeta", ReflectValueBox::Message(tm));
    set(&mut *u, "raw", ReflectValueBox::Bytes(raw));
    let mut out = MAGIC.to_vec();
    out.extend(
        u.write_to_bytes_dyn()
            .map_err(|e| ProtoError::Malformed(e.to_string()))?,
    );
    Ok(out)
}

/// The parts of an envelope: its kind (may be empty), content encoding and raw message.
struct Envelope {
    kind: String,
    content_encoding: String,
    raw: Vec<u8>,
}

fn open_envelope(body: &[u8]) -> Result<Envelope, ProtoError> {
    let rest = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or(ProtoError::NoMagic)?;
    let d = envelope_message(RUNTIME, "Unknown")?;
    let u = d
        .parse_from_bytes(rest)
        .map_err(|e| ProtoError::Malformed(e.to_string()))?;
    let kind = d
        .field_by_name("typeMeta")
        .and_then(|f| f.get_singular(&*u))
        .and_then(|v| match v {
            ReflectValueRef::Message(m) => {
                let td = m.descriptor_dyn();
                str_field(&*m, &td, "kind")
            }
            _ => None,
        })
        .unwrap_or_default();
    Ok(Envelope {
        kind,
        content_encoding: str_field(&*u, &d, "contentEncoding").unwrap_or_default(),
        raw: bytes_field(&*u, &d, "raw").unwrap_or_default(),
    })
}

/// Reads a request body for a resource of `api_version`/`kind` into its JSON form (with
/// `apiVersion` and `kind` set).
pub fn decode(body: &[u8], api_version: &str, kind: &str) -> Result<Value, ProtoError> {
    let u = open_envelope(body)?;
    if !u.content_encoding.is_empty() {
        return Err(ProtoError::Malformed(format!(
            "content encoding {:?} is not supported",
            u.content_encoding
        )));
    }
    let got = u.kind;
    if !got.is_empty() && got != kind {
        return Err(ProtoError::WrongKind {
            want: kind.to_owned(),
            got,
        });
    }
    let d = descriptor(api_version, kind).ok_or_else(|| ProtoError::UnknownKind {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
    })?;
    let msg = d
        .parse_from_bytes(&u.raw)
        .map_err(|e| ProtoError::Malformed(e.to_string()))?;
    let mut v = message_to_json(&*msg, 0)?;
    if let Value::Object(o) = &mut v {
        o.insert("apiVersion".into(), Value::String(api_version.to_owned()));
        o.insert("kind".into(), Value::String(kind.to_owned()));
    }
    Ok(v)
}

/// Writes a JSON object (its `apiVersion` and `kind` pick the message) in the envelope.
pub fn encode(v: &Value) -> Result<Vec<u8>, ProtoError> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (s("apiVersion"), s("kind"));
    let d = descriptor(api_version, kind).ok_or_else(|| ProtoError::UnknownKind {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
    })?;
    let msg = json_to_message(&d, v, "", 0)?;
    let raw = msg
        .write_to_bytes_dyn()
        .map_err(|e| ProtoError::Malformed(e.to_string()))?;
    unknown(api_version, kind, raw)
}

/// One watch frame: length, then a `WatchEvent` envelope around the object's envelope.
pub fn watch_frame(
    event_type: &str,
    object: &Value,
    api_version: &str,
) -> Result<Vec<u8>, ProtoError> {
    let inner = encode(object)?;
    let mut raw = envelope_message(RUNTIME, "RawExtension")?.new_instance();
    set(&mut *raw, "raw", ReflectValueBox::Bytes(inner));
    let mut e = envelope_message(META, "WatchEvent")?.new_instance();
    set(
        &mut *e,
        "type",
        ReflectValueBox::String(event_type.to_owned()),
    );
    set(&mut *e, "object", ReflectValueBox::Message(raw));
    let body = unknown(
        api_version,
        "WatchEvent",
        e.write_to_bytes_dyn()
            .map_err(|e| ProtoError::Malformed(e.to_string()))?,
    )?;
    let len =
        u32::try_from(body.len()).map_err(|_| ProtoError::Malformed("frame too large".into()))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend(body);
    Ok(out)
}

// ------------------------------------------------------------------ names

const SCHEMA_PROPS: &str = "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";

/// The JSON name of a field (JSONSchemaProps keeps `$ref` and the `x-kubernetes-` names).
fn json_name(message: &str, field: &str) -> String {
    if message == SCHEMA_PROPS {
        match field {
            "ref" => return "$ref".into(),
            "schema" => return "$schema".into(),
            f if f.starts_with("xKubernetes") => {
                let mut out = String::from("x-kubernetes");
                for c in f["xKubernetes".len()..].chars() {
                    if c.is_ascii_uppercase() {
                        out.push('-');
                        out.push(c.to_ascii_lowercase());
                    } else {
                        out.push(c);
                    }
                }
                return out;
            }
            _ => {}
        }
    }
    field.to_owned()
}

/// Go structs embedded with `json:",inline"`: a field in the message, their fields in the JSON.
const INLINE: &[(&str, &str)] = &[
    ("api.core.v1.Volume", "volumeSource"),
    ("api.core.v1.PersistentVolumeSpec", "persistentVolumeSource"),
    ("api.core.v1.Probe", "handler"),
    ("api.core.v1.EphemeralContainer", "ephemeralContainerCommon"),
    ("api.networking.v1.IngressRule", "ingressRuleValue"),
];

/// Non-pointer numbers Go leaves out of JSON when zero (`omitempty`) but always writes in
/// protobuf; elsewhere a zero is kept, since a pointer's zero means something.
const OMIT_ZERO: &[(&str, &str)] = &[
    ("api.core.v1.ServicePort", "nodePort"),
    ("api.core.v1.ContainerPort", "hostPort"),
    ("api.core.v1.Event", "count"),
    ("apimachinery.pkg.apis.meta.v1.ObjectMeta", "generation"),
];

fn inline_field(d: &MessageDescriptor) -> Option<FieldDescriptor> {
    INLINE
        .iter()
        .find(|(m, _)| *m == d.full_name())
        .and_then(|(_, f)| d.field_by_name(f))
}

fn field_for(d: &MessageDescriptor, key: &str) -> Option<FieldDescriptor> {
    if d.full_name() == SCHEMA_PROPS {
        return d
            .fields()
            .find(|f| json_name(SCHEMA_PROPS, f.name()) == key);
    }
    d.field_by_name(key)
}

// ------------------------------------------------------------------ protobuf → JSON

fn message_to_json(m: &dyn MessageDyn, depth: usize) -> Result<Value, ProtoError> {
    if depth > MAX_DEPTH {
        return Err(ProtoError::Malformed("nested too deeply".into()));
    }
    let d = m.descriptor_dyn();
    if let Some(v) = special_to_json(&d, m)? {
        return Ok(v);
    }
    let mut out = Map::new();
    for f in d.fields() {
        let name = json_name(d.full_name(), f.name());
        let v = match f.runtime_field_type() {
            RuntimeFieldType::Singular(_) => match f.get_singular(m) {
                Some(v) => value_to_json(v, depth)?,
                None => continue,
            },
            RuntimeFieldType::Repeated(_) => {
                let r = f.get_repeated(m);
                if r.is_empty() {
                    continue;
                }
                Value::Array(
                    (&r).into_iter()
                        .map(|v| value_to_json(v, depth))
                        .collect::<Result<_, _>>()?,
                )
            }
            RuntimeFieldType::Map(_, _) => {
                let r = f.get_map(m);
                if r.is_empty() {
                    continue;
                }
                let mut o = Map::new();
                for (k, v) in &r {
                    let key = match k {
                        ReflectValueRef::String(s) => s.to_owned(),
                        other => other.to_string(),
                    };
                    o.insert(key, value_to_json(v, depth)?);
                }
                Value::Object(o)
            }
        };
        if v == Value::String(String::new()) || v.is_null() {
            continue;
        }
        if v.as_i64() == Some(0) && OMIT_ZERO.contains(&(d.full_name(), f.name())) {
            continue;
        }
        if inline_field(&d).is_some_and(|i| i.name() == f.name())
            && let Value::Object(inner) = v
        {
            out.extend(inner);
            continue;
        }
        out.insert(name, v);
    }
    Ok(Value::Object(out))
}

fn value_to_json(v: ReflectValueRef<'_>, depth: usize) -> Result<Value, ProtoError> {
    Ok(match v {
        ReflectValueRef::U32(n) => n.into(),
        ReflectValueRef::U64(n) => n.into(),
        ReflectValueRef::I32(n) => n.into(),
        ReflectValueRef::I64(n) => n.into(),
        ReflectValueRef::F32(n) => {
            serde_json::Number::from_f64(f64::from(n)).map_or(Value::Null, Value::Number)
        }
        ReflectValueRef::F64(n) => {
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
        }
        ReflectValueRef::Bool(b) => b.into(),
        ReflectValueRef::String(s) => s.into(),
        ReflectValueRef::Bytes(b) => B64.encode(b).into(),
        ReflectValueRef::Enum(d, n) => d
            .value_by_number(n)
            .map_or_else(|| n.into(), |e| e.name().into()),
        ReflectValueRef::Message(m) => message_to_json(&*m, depth + 1)?,
    })
}

fn int_field(m: &dyn MessageDyn, d: &MessageDescriptor, name: &str) -> i64 {
    d.field_by_name(name)
        .and_then(|f| f.get_singular(m))
        .map_or(0, |v| match v {
            ReflectValueRef::I64(n) => n,
            ReflectValueRef::I32(n) => i64::from(n),
            _ => 0,
        })
}

fn str_field(m: &dyn MessageDyn, d: &MessageDescriptor, name: &str) -> Option<String> {
    d.field_by_name(name)
        .and_then(|f| f.get_singular(m))
        .and_then(|v| match v {
            ReflectValueRef::String(s) => Some(s.to_owned()),
            _ => None,
        })
}

fn bytes_field(m: &dyn MessageDyn, d: &MessageDescriptor, name: &str) -> Option<Vec<u8>> {
    d.field_by_name(name)
        .and_then(|f| f.get_singular(m))
        .and_then(|v| match v {
            ReflectValueRef::Bytes(b) => Some(b.to_vec()),
            _ => None,
        })
}

fn embedded_json(raw: Option<Vec<u8>>) -> Result<Value, ProtoError> {
    match raw {
        None => Ok(Value::Null),
        Some(b) if b.is_empty() => Ok(Value::Null),
        Some(b) => serde_json::from_slice(&b)
            .map_err(|e| ProtoError::Malformed(format!("embedded JSON: {e}"))),
    }
}

/// The types whose JSON is not their message.
fn special_to_json(d: &MessageDescriptor, m: &dyn MessageDyn) -> Result<Option<Value>, ProtoError> {
    Ok(Some(match d.full_name() {
        "apimachinery.pkg.apis.meta.v1.Time" | "apimachinery.pkg.apis.meta.v1.MicroTime" => {
            let (secs, nanos) = (int_field(m, d, "seconds"), int_field(m, d, "nanos"));
            if secs == 0 && nanos == 0 {
                return Ok(Some(Value::Null));
            }
            let micro = d.name() == "MicroTime";
            Value::String(format_time(secs, nanos, micro)?)
        }
        "apimachinery.pkg.apis.meta.v1.Duration" => {
            Value::String(format_duration(int_field(m, d, "duration")))
        }
        "apimachinery.pkg.util.intstr.IntOrString" => {
            if int_field(m, d, "type") == 1 {
                Value::String(str_field(m, d, "strVal").unwrap_or_default())
            } else {
                Value::from(int_field(m, d, "intVal"))
            }
        }
        "apimachinery.pkg.api.resource.Quantity" => {
            Value::String(str_field(m, d, "string").unwrap_or_default())
        }
        "apimachinery.pkg.runtime.RawExtension"
        | "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON" => {
            embedded_json(bytes_field(m, d, "raw"))?
        }
        "apimachinery.pkg.apis.meta.v1.FieldsV1" => embedded_json(bytes_field(m, d, "Raw"))?,
        "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool" => {
            match schema_of(d, m)? {
                Some(s) => s,
                None => Value::Bool(
                    d.field_by_name("allows")
                        .and_then(|f| f.get_singular(m))
                        .is_some_and(|v| matches!(v, ReflectValueRef::Bool(true))),
                ),
            }
        }
        "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray" => {
            either_list(d, m, "jSONSchemas")?
        }
        "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray" => {
            either_list(d, m, "property")?
        }
        _ => return Ok(None),
    }))
}

fn schema_of(d: &MessageDescriptor, m: &dyn MessageDyn) -> Result<Option<Value>, ProtoError> {
    match d.field_by_name("schema").and_then(|f| f.get_singular(m)) {
        Some(v) => Ok(Some(value_to_json(v, 1)?)),
        None => Ok(None),
    }
}

fn either_list(d: &MessageDescriptor, m: &dyn MessageDyn, list: &str) -> Result<Value, ProtoError> {
    if let Some(f) = d.field_by_name(list) {
        let r = f.get_repeated(m);
        if !r.is_empty() {
            return Ok(Value::Array(
                (&r).into_iter()
                    .map(|v| value_to_json(v, 1))
                    .collect::<Result<_, _>>()?,
            ));
        }
    }
    Ok(schema_of(d, m)?.unwrap_or(Value::Null))
}

fn format_time(secs: i64, nanos: i64, micro: bool) -> Result<String, ProtoError> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| ProtoError::Malformed(format!("time: {e}")))?;
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    Ok(if micro {
        format!("{base}.{:06}Z", nanos.clamp(0, 999_999_999) / 1000)
    } else {
        format!("{base}Z")
    })
}

fn parse_time(s: &str) -> Option<(i64, i32)> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp(), i32::try_from(t.nanosecond()).ok()?))
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `150ms`, `0s`.
fn format_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let n = ns.unsigned_abs();
    if n < 1_000_000_000 {
        let (v, unit) = if n < 1_000 {
            (n as f64, "ns")
        } else if n < 1_000_000 {
            (n as f64 / 1e3, "µs")
        } else {
            (n as f64 / 1e6, "ms")
        };
        return format!("{sign}{v}{unit}");
    }
    let (h, rest) = (n / 3_600_000_000_000, n % 3_600_000_000_000);
    let (m, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let s = rest as f64 / 1e9;
    match (h, m) {
        (0, 0) => format!("{sign}{s}s"),
        (0, m) => format!("{sign}{m}m{s}s"),
        (h, m) => format!("{sign}{h}h{m}m{s}s"),
    }
}

fn parse_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&n| n > 0)?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > i64::MAX as f64 {
        return None;
    }
    let n = total as i64;
    Some(if neg { -n } else { n })
}

// ------------------------------------------------------------------ JSON → protobuf

fn bad(path: &str, message: impl Into<String>) -> ProtoError {
    ProtoError::Field {
        path: if path.is_empty() {
            ".".into()
        } else {
            path.to_owned()
        },
        message: message.into(),
    }
}

fn json_to_message(
    d: &MessageDescriptor,
    v: &Value,
    path: &str,
    depth: usize,
) -> Result<Box<dyn MessageDyn>, ProtoError> {
    if depth > MAX_DEPTH {
        return Err(bad(path, "nested too deeply"));
    }
    let mut m = d.new_instance();
    if special_from_json(d, v, &mut *m, path, depth)? {
        return Ok(m);
    }
    let Value::Object(o) = v else {
        return Err(bad(path, format!("expected an object for {}", d.name())));
    };
    let inline = inline_field(d);
    let mut inlined = Map::new();
    for (key, value) in o {
        if value.is_null() {
            continue;
        }
        // TypeMeta is the envelope's; fields this version does not know are left out, as a
        // newer server's fields are by an older client.
        let Some(f) = field_for(d, key) else {
            if let Some(i) = &inline
                && let RuntimeFieldType::Singular(RuntimeType::Message(im)) = i.runtime_field_type()
                && im.field_by_name(key).is_some()
            {
                inlined.insert(key.clone(), value.clone());
            }
            continue;
        };
        let p = format!("{path}.{key}");
        match f.runtime_field_type() {
            RuntimeFieldType::Singular(t) => {
                let b = json_to_value(&t, value, &p, depth)?;
                f.set_singular_field(&mut *m, b);
            }
            RuntimeFieldType::Repeated(t) => {
                let Value::Array(items) = value else {
                    return Err(bad(&p, "expected a list"));
                };
                let mut r = f.mut_repeated(&mut *m);
                for (i, item) in items.iter().enumerate() {
                    r.push(json_to_value(&t, item, &format!("{p}[{i}]"), depth)?);
                }
            }
            RuntimeFieldType::Map(kt, vt) => {
                let Value::Object(entries) = value else {
                    return Err(bad(&p, "expected a map"));
                };
                let mut r = f.mut_map(&mut *m);
                for (k, item) in entries {
                    let key = json_to_value(&kt, &Value::String(k.clone()), &p, depth)?;
                    r.insert(key, json_to_value(&vt, item, &format!("{p}.{k}"), depth)?);
                }
            }
        }
    }
    if let Some(i) = inline
        && !inlined.is_empty()
        && let RuntimeFieldType::Singular(t) = i.runtime_field_type()
    {
        let b = json_to_value(&t, &Value::Object(inlined), path, depth)?;
        i.set_singular_field(&mut *m, b);
    }
    Ok(m)
}

fn json_to_value(
    t: &RuntimeType,
    v: &Value,
    path: &str,
    depth: usize,
) -> Result<ReflectValueBox, ProtoError> {
    let int = || {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| bad(path, format!("expected an integer, got {v}")))
    };
    Ok(match t {
        RuntimeType::I32 => ReflectValueBox::I32(
            i32::try_from(int()?).map_err(|_| bad(path, "out of range for int32"))?,
        ),
        RuntimeType::I64 => ReflectValueBox::I64(int()?),
        RuntimeType::U32 => ReflectValueBox::U32(
            u32::try_from(int()?).map_err(|_| bad(path, "out of range for uint32"))?,
        ),
        RuntimeType::U64 => ReflectValueBox::U64(
            u64::try_from(int()?).map_err(|_| bad(path, "out of range for uint64"))?,
        ),
        RuntimeType::F32 | RuntimeType::F64 => {
            let f = v
                .as_f64()
                .ok_or_else(|| bad(path, format!("expected a number, got {v}")))?;
            if matches!(t, RuntimeType::F32) {
                ReflectValueBox::F32(f as f32)
            } else {
                ReflectValueBox::F64(f)
            }
        }
        RuntimeType::Bool => ReflectValueBox::Bool(
            v.as_bool()
                .ok_or_else(|| bad(path, format!("expected a boolean, got {v}")))?,
        ),
        RuntimeType::String => ReflectValueBox::String(match v {
            Value::String(s) => s.clone(),
            // Go's JSON would refuse a number here; keeping its text loses nothing.
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(bad(path, format!("expected a string, got {v}"))),
        }),
        RuntimeType::VecU8 => ReflectValueBox::Bytes(
            v.as_str()
                .and_then(|s| B64.decode(s).ok())
                .ok_or_else(|| bad(path, "expected base64 data"))?,
        ),
        RuntimeType::Enum(e) => {
            let n = match v {
                Value::String(s) => e.value_by_name(s).map(|x| x.value()),
                Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                _ => None,
            }
            .ok_or_else(|| bad(path, format!("not a value of {}", e.name())))?;
            ReflectValueBox::Enum(e.clone(), n)
        }
        RuntimeType::Message(d) => {
            ReflectValueBox::Message(json_to_message(d, v, path, depth + 1)?)
        }
    })
}

fn set(m: &mut dyn MessageDyn, name: &str, v: ReflectValueBox) {
    if let Some(f) = m.descriptor_dyn().field_by_name(name) {
        f.set_singular_field(m, v);
    }
}

/// Fills `m` when `d` is one of the types whose JSON is not their message; false otherwise.
fn special_from_json(
    d: &MessageDescriptor,
    v: &Value,
    m: &mut dyn MessageDyn,
    path: &str,
    depth: usize,
) -> Result<bool, ProtoError> {
    match d.full_name() {
        "apimachinery.pkg.apis.meta.v1.Time" | "apimachinery.pkg.apis.meta.v1.MicroTime" => {
            let s = v
                .as_str()
                .ok_or_else(|| bad(path, "expected an RFC 3339 time"))?;
            let (secs, nanos) =
                parse_time(s).ok_or_else(|| bad(path, format!("not an RFC 3339 time: {s:?}")))?;
            set(m, "seconds", ReflectValueBox::I64(secs));
            set(m, "nanos", ReflectValueBox::I32(nanos));
        }
        "apimachinery.pkg.apis.meta.v1.Duration" => {
            let s = v.as_str().ok_or_else(|| bad(path, "expected a duration"))?;
            let ns =
                parse_duration(s).ok_or_else(|| bad(path, format!("not a duration: {s:?}")))?;
            set(m, "duration", ReflectValueBox::I64(ns));
        }
        "apimachinery.pkg.util.intstr.IntOrString" => match v {
            Value::String(s) => {
                set(m, "type", ReflectValueBox::I64(1));
                set(m, "strVal", ReflectValueBox::String(s.clone()));
            }
            Value::Number(n) => {
                let n = n
                    .as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| bad(path, "out of range for an int-or-string"))?;
                set(m, "type", ReflectValueBox::I64(0));
                set(m, "intVal", ReflectValueBox::I32(n));
            }
            _ => return Err(bad(path, "expected an integer or a string")),
        },
        "apimachinery.pkg.api.resource.Quantity" => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(bad(path, "expected a quantity")),
            };
            set(m, "string", ReflectValueBox::String(s));
        }
        "apimachinery.pkg.runtime.RawExtension"
        | "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON" => {
            let raw = serde_json::to_vec(v).map_err(|e| bad(path, e.to_string()))?;
            set(m, "raw", ReflectValueBox::Bytes(raw));
        }
        "apimachinery.pkg.apis.meta.v1.FieldsV1" => {
            let raw = serde_json::to_vec(v).map_err(|e| bad(path, e.to_string()))?;
            set(m, "Raw", ReflectValueBox::Bytes(raw));
        }
        "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool" => match v {
            Value::Bool(b) => set(m, "allows", ReflectValueBox::Bool(*b)),
            _ => {
                set_schema(d, m, v, path, depth)?;
                set(m, "allows", ReflectValueBox::Bool(true));
            }
        },
        "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray"
        | "apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray" => {
            match v {
                Value::Array(items) => {
                    let list = if d.name() == "JSONSchemaPropsOrArray" {
                        "jSONSchemas"
                    } else {
                        "property"
                    };
                    let Some(f) = d.field_by_name(list) else {
                        return Ok(true);
                    };
                    let RuntimeFieldType::Repeated(t) = f.runtime_field_type() else {
                        return Ok(true);
                    };
                    let mut r = f.mut_repeated(m);
                    for (i, item) in items.iter().enumerate() {
                        r.push(json_to_value(&t, item, &format!("{path}[{i}]"), depth)?);
                    }
                }
                _ => set_schema(d, m, v, path, depth)?,
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn set_schema(
    d: &MessageDescriptor,
    m: &mut dyn MessageDyn,
    v: &Value,
    path: &str,
    depth: usize,
) -> Result<(), ProtoError> {
    if let Some(f) = d.field_by_name("schema")
        && let RuntimeFieldType::Singular(t) = f.runtime_field_type()
    {
        let b = json_to_value(&t, v, path, depth)?;
        f.set_singular_field(m, b);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
