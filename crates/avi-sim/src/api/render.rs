//! Stored objects as the controller renders them: absolute URLs, `#name` where the controller
//! adds it, the key hidden.

use serde_json::{Map, Value};

use crate::schema::{ApiVersion, Schema};
use crate::store::{Object, Store};

/// How an object is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// GET: refs without `#name` unless `include_name`; a stored key shows as `<sensitive>`.
    Read {
        /// `include_name` was given.
        names: bool,
    },
    /// POST/PUT/PATCH answer: `#name` on the url and every ref; no key, and (as on a real
    /// controller) no certificate PEM, public key or text dump.
    Written,
}

/// Renders one object for a client that reached the controller at `base` (`https://host:port`).
/// A client that sent `X-Avi-Version: v` gets no field introduced after `v`, as the controller
/// answers "according to the specified version"; so what it GETs it can PUT back.
pub fn render(
    store: &Store,
    obj: &Object,
    base: &str,
    mode: Mode,
    fields: Option<&[String]>,
    version: Option<&ApiVersion>,
) -> Value {
    let names = matches!(mode, Mode::Written | Mode::Read { names: true });
    let mut body = Value::Object(obj.body.clone());
    for r in &obj.refs {
        if let Some(slot) = body.pointer_mut(&r.pointer) {
            let name = store.object(&r.ty, &r.uuid).map(|t| t.name.as_str());
            *slot = Value::String(url(base, &r.ty, &r.uuid, name.filter(|_| names)));
        }
    }
    let Value::Object(mut map) = body else {
        return Value::Null;
    };
    if let (Some(v), Ok(schema)) = (version, Schema::embedded()) {
        schema.strip_newer_fields(&obj.ty, &mut map, v);
    }
    map.insert("uuid".into(), Value::String(obj.uuid.clone()));
    map.insert("name".into(), Value::String(obj.name.clone()));
    map.insert(
        "url".into(),
        Value::String(url(
            base,
            &obj.ty,
            &obj.uuid,
            Some(obj.name.as_str()).filter(|_| names),
        )),
    );
    map.insert(
        "_last_modified".into(),
        Value::String(obj.last_modified.to_string()),
    );
    if obj.ty == "vsvip" {
        // The controller shows which virtual services use a VIP.
        let users: Vec<Value> = store
            .referrers_of("vsvip", &obj.uuid)
            .into_iter()
            .filter(|(ty, _)| ty == "virtualservice")
            .map(|(ty, uuid)| {
                let name = store
                    .object(&ty, &uuid)
                    .map(|o| o.name.as_str())
                    .filter(|_| names);
                Value::String(url(base, &ty, &uuid, name))
            })
            .collect();
        if !users.is_empty() {
            map.insert("vs_refs".into(), Value::Array(users));
        }
    }
    if obj.ty == "sslkeyandcertificate" {
        match mode {
            Mode::Read { .. } if obj.secret.is_some() => {
                map.insert("key".into(), Value::String("<sensitive>".into()));
            }
            Mode::Written => {
                if let Some(Value::Object(cert)) = map.get_mut("certificate") {
                    for hidden in ["certificate", "public_key", "text"] {
                        cert.remove(hidden);
                    }
                }
            }
            Mode::Read { .. } => {}
        }
    }
    if let Some(fields) = fields {
        let keep = |k: &str| matches!(k, "name" | "url" | "uuid") || fields.iter().any(|f| f == k);
        map = map
            .into_iter()
            .filter(|(k, _)| keep(k))
            .collect::<Map<_, _>>();
    }
    Value::Object(map)
}

fn url(base: &str, ty: &str, uuid: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{base}/api/{ty}/{uuid}#{n}"),
        None => format!("{base}/api/{ty}/{uuid}"),
    }
}
