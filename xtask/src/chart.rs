//! Renders a Helm chart without helm, the way `helm template` does, for the subset of Helm's
//! template language that `deploy/helm/ako` keeps to.
//!
//! Supported: `.Values` (the chart's `values.yaml` with overrides deep-merged over it, as
//! `helm template -f` merges them), `.Release.Name`, `.Release.Namespace`, `.Release.Service`,
//! `.Chart.Name`, `.Chart.Version`, `.Chart.AppVersion`; Go template actions as
//! [`gtmpl`] implements them (`if`/`else`/`end`, `range` over lists, `and`, `or`, `not`, `eq`,
//! `le`, ..., `{{-`/`-}}` trimming); and these Helm functions: `quote`, `default`, `int`,
//! `lower`, `toYaml`, `indent`, `nindent`, `b64enc`. Not supported: `define`/`include`,
//! `tpl`, `lookup`, `range` over maps (gtmpl visits map keys in no fixed order), and the other
//! Sprig functions.
//!
//! Output: like `helm template`, every non-empty document under `---` and a `# Source:` line,
//! in Helm's install order of kinds (ServiceAccount, Secret, ..., ClusterRole, ..., Service,
//! StatefulSet, then kinds Helm does not know), then by template file name.
//!
//! ```no_run
//! use xtask::chart::{Release, render};
//!
//! let release = Release { name: "ako".into(), namespace: "avi-system".into() };
//! let yaml = render("deploy/helm/ako".as_ref(), &release, &[]).unwrap();
//! assert!(yaml.contains("kind: StatefulSet"));
//! ```

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use gtmpl::{Func, FuncError, Template, Value};
use serde_json::Value as Json;

/// `helm template <name> --namespace <namespace>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// The release name (`.Release.Name`).
    pub name: String,
    /// The namespace (`.Release.Namespace`).
    pub namespace: String,
}

/// Helm's install order of kinds (`pkg/release/util/kind_sorter.go`), for the kinds a chart like
/// ours renders; other kinds come after these.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Reads a YAML file into JSON-shaped data (an empty file is an empty map).
pub fn read_yaml(path: &Path) -> anyhow::Result<Json> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_yaml(&text).with_context(|| format!("{} is not valid YAML", path.display()))
}

/// Parses one YAML document into JSON-shaped data (an empty document is an empty map).
pub fn parse_yaml(text: &str) -> anyhow::Result<Json> {
    let v: Json = serde_saphyr::from_str(text).map_err(|e| anyhow!("{e}"))?;
    Ok(if v.is_null() {
        Json::Object(Default::default())
    } else {
        v
    })
}

/// Helm's merge of `-f` files: maps merge key by key, anything else replaces.
pub fn merge(base: &mut Json, over: &Json) {
    match (base, over) {
        (Json::Object(b), Json::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// Renders the chart in `dir` with its `values.yaml` and `overrides` merged over it, in order.
pub fn render(dir: &Path, release: &Release, overrides: &[Json]) -> anyhow::Result<String> {
    let chart = read_yaml(&dir.join("Chart.yaml"))?;
    let mut values = read_yaml(&dir.join("values.yaml"))?;
    for o in overrides {
        merge(&mut values, o);
    }
    let field = |k: &str| -> anyhow::Result<Json> {
        chart
            .get(k)
            .cloned()
            .ok_or_else(|| anyhow!("Chart.yaml has no {k}"))
    };
    let chart_name = field("name")?;
    let context = serde_json::json!({
        "Values": values,
        "Release": {
            "Name": release.name,
            "Namespace": release.namespace,
            "Service": "Helm",
            "IsInstall": true,
            "IsUpgrade": false,
            "Revision": 1,
        },
        "Chart": {
            "Name": chart_name,
            "Version": field("version")?,
            "AppVersion": field("appVersion")?,
        },
    });
    let context = to_gtmpl(&context);

    let mut files: Vec<_> = std::fs::read_dir(dir.join("templates"))
        .with_context(|| format!("cannot list {}/templates", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| {
        p.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('_'))
    });
    files.sort();

    let chart_name = chart_name.as_str().unwrap_or("chart").to_owned();
    let mut docs: Vec<(usize, String, String)> = Vec::new();
    for path in files {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let rendered = render_template(&text, &context)
            .with_context(|| format!("cannot render templates/{file}"))?;
        for doc in split_documents(&rendered) {
            let kind = parse_yaml(&doc)
                .with_context(|| format!("templates/{file} renders invalid YAML:\n{doc}"))?
                .get("kind")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned();
            let rank = INSTALL_ORDER
                .iter()
                .position(|k| *k == kind)
                .unwrap_or(INSTALL_ORDER.len());
            docs.push((rank, format!("{chart_name}/templates/{file}"), doc));
        }
    }
    // Stable: documents of one kind keep their file and in-file order.
    docs.sort_by_key(|d| d.0);
    let mut out = String::new();
    for (_, source, doc) in docs {
        out.push_str("---\n# Source: ");
        out.push_str(&source);
        out.push('\n');
        out.push_str(&doc);
        out.push('\n');
    }
    Ok(out)
}

/// One template's text rendered with `context` (`.Values`, `.Release`, `.Chart`).
pub fn render_template(text: &str, context: &Value) -> anyhow::Result<String> {
    let mut t = Template::default();
    t.add_funcs(&HELM_FUNCS);
    t.parse(text).map_err(|e| anyhow!("{e}"))?;
    let out = t
        .render(&gtmpl::Context::from(context.clone()))
        .map_err(|e| anyhow!("{e}"))?;
    // Helm renders missing values as empty, not as Go's "<no value>".
    Ok(out.replace("<no value>", ""))
}

/// The documents of a rendered template: split on `---` lines, comments-only and blank ones
/// dropped (as Helm drops them), trailing whitespace trimmed.
fn split_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        let has_content = current.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        });
        if has_content {
            docs.push(current.trim().to_owned());
        }
        current.clear();
    };
    for line in text.lines() {
        if line.trim_end() == "---" {
            flush(&mut current);
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    flush(&mut current);
    docs
}

/// JSON-shaped data as template data. Maps become `Value::Map`, whose missing keys read as
/// empty, as Helm's do.
pub fn to_gtmpl(v: &Json) -> Value {
    match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                Value::from(n.as_f64().unwrap_or_default())
            }
        }
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(to_gtmpl).collect()),
        Json::Object(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), to_gtmpl(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::NoValue | Value::Nil | Value::Function(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Json::from(u)
            } else if let Some(i) = n.as_i64() {
                Json::from(i)
            } else {
                n.as_f64().map_or(Json::Null, Json::from)
            }
        }
        Value::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        Value::Object(m) | Value::Map(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// Go's `fmt.Sprint` of a value, for the string functions.
fn text(v: &Value) -> String {
    match v {
        Value::NoValue | Value::Nil => String::new(),
        other => other.to_string(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::NoValue | Value::Nil => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) | Value::Map(m) => m.is_empty(),
        Value::Number(n) => n.as_u64() == Some(0) || n.as_f64() == Some(0.0),
        Value::Function(_) => false,
    }
}

fn arity(name: &str, args: &[Value], n: usize) -> Result<(), FuncError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(FuncError::ExactlyXArgs(name.into(), n))
    }
}

fn count(name: &str, v: &Value) -> Result<usize, FuncError> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .and_then(|u| usize::try_from(u).ok())
            .ok_or_else(|| FuncError::Generic(format!("{name}: {n} is not a count"))),
        other => Err(FuncError::Generic(format!(
            "{name}: {other} is not a number"
        ))),
    }
}

const HELM_FUNCS: [(&str, Func); 9] = [
    ("quote", quote),
    ("default", default),
    ("int", int),
    ("lower", lower),
    ("toYaml", to_yaml),
    ("indent", indent),
    ("nindent", nindent),
    ("b64enc", b64enc),
    ("toJson", to_json_text),
];

/// `quote`: each argument as a double-quoted string, nil arguments skipped.
fn quote(args: &[Value]) -> Result<Value, FuncError> {
    let quoted: Vec<String> = args
        .iter()
        .filter(|a| !matches!(a, Value::Nil | Value::NoValue))
        .map(|a| serde_json::to_string(&text(a)).unwrap_or_default())
        .collect();
    Ok(Value::String(quoted.join(" ")))
}

/// `default D V`: V unless it is empty (nil, false, 0, "", empty list or map), else D.
fn default(args: &[Value]) -> Result<Value, FuncError> {
    arity("default", args, 2)?;
    Ok(if is_empty(&args[1]) {
        args[0].clone()
    } else {
        args[1].clone()
    })
}

/// `int`: numbers truncated, numeric strings parsed, anything else 0 (Sprig's `toInt`).
fn int(args: &[Value]) -> Result<Value, FuncError> {
    arity("int", args, 1)?;
    let n: i64 = match &args[0] {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or_default(),
        Value::String(s) => s.trim().parse().unwrap_or_default(),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    };
    Ok(Value::from(n))
}

fn lower(args: &[Value]) -> Result<Value, FuncError> {
    arity("lower", args, 1)?;
    Ok(Value::String(text(&args[0]).to_lowercase()))
}

/// `toYaml`: the value as YAML without the final newline.
fn to_yaml(args: &[Value]) -> Result<Value, FuncError> {
    arity("toYaml", args, 1)?;
    let y = crate::yaml::to_yaml(&to_json(&args[0]));
    Ok(Value::String(y.trim_end_matches('\n').to_owned()))
}

/// `toJson`: the value as compact JSON.
fn to_json_text(args: &[Value]) -> Result<Value, FuncError> {
    arity("toJson", args, 1)?;
    Ok(Value::String(
        serde_json::to_string(&to_json(&args[0])).unwrap_or_default(),
    ))
}

fn indent_by(n: usize, s: &str) -> String {
    let pad = " ".repeat(n);
    format!("{pad}{}", s.replace('\n', &format!("\n{pad}")))
}

/// `indent N S`: every line of S indented by N spaces.
fn indent(args: &[Value]) -> Result<Value, FuncError> {
    arity("indent", args, 2)?;
    Ok(Value::String(indent_by(
        count("indent", &args[0])?,
        &text(&args[1]),
    )))
}

/// `nindent N S`: a newline, then `indent N S`.
fn nindent(args: &[Value]) -> Result<Value, FuncError> {
    arity("nindent", args, 2)?;
    Ok(Value::String(format!(
        "\n{}",
        indent_by(count("nindent", &args[0])?, &text(&args[1]))
    )))
}

fn b64enc(args: &[Value]) -> Result<Value, FuncError> {
    arity("b64enc", args, 1)?;
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(text(&args[0])),
    ))
}

/// Fails unless `rendered` (a multi-document YAML stream) parses, document by document.
pub fn parse_documents(rendered: &str) -> anyhow::Result<Vec<Json>> {
    let mut out = Vec::new();
    for doc in split_documents(rendered) {
        let v = parse_yaml(&doc).with_context(|| format!("invalid YAML document:\n{doc}"))?;
        if !v.is_object() {
            bail!("a document is not a mapping:\n{doc}");
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str, values: Json) -> String {
        render_template(t, &to_gtmpl(&json!({"Values": values}))).unwrap()
    }

    #[test]
    fn helm_functions_behave_as_helm_s() {
        assert_eq!(r("{{ .Values.b | quote }}", json!({"b": true})), "\"true\"");
        assert_eq!(
            r("{{ .Values.s | quote }}", json!({"s": "a\"b"})),
            "\"a\\\"b\""
        );
        assert_eq!(r("{{ .Values.t | default \"x\" }}", json!({"t": ""})), "x");
        assert_eq!(r("{{ .Values.t | default \"x\" }}", json!({"t": "y"})), "y");
        assert_eq!(r("{{ .Values.missing | default \"x\" }}", json!({})), "x");
        assert_eq!(r("{{ .Values.l | lower }}", json!({"l": "WARN"})), "warn");
        assert_eq!(
            r("{{ if le (int .Values.n) 1 }}one{{ end }}", json!({"n": 1})),
            "one"
        );
        assert_eq!(
            r("{{ if le (int .Values.n) 1 }}one{{ end }}", json!({"n": 2})),
            ""
        );
        assert_eq!(
            r("{{ .Values.p | b64enc }}", json!({"p": "avi123"})),
            "YXZpMTIz"
        );
        assert_eq!(
            r(
                "a:{{ toYaml .Values.m | nindent 2 }}",
                json!({"m": {"z": 1, "x": [1]}})
            ),
            "a:\n  x:\n  - 1\n  z: 1"
        );
        assert_eq!(r("{{ .Values.missing }}", json!({})), "");
    }

    #[test]
    fn documents_split_on_separators_and_comment_only_ones_go() {
        let docs = split_documents("# only a comment\n---\na: 1\n---\n\n---\nb: 2\n");
        assert_eq!(docs, vec!["a: 1".to_owned(), "b: 2".to_owned()]);
    }

    #[test]
    fn overrides_merge_maps_and_replace_the_rest() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": true});
        merge(&mut base, &json!({"a": {"c": [3]}, "d": false, "e": "x"}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3]}, "d": false, "e": "x"}));
    }
}
