//! Offline translation of manifests, for either container's `translate` command: the flags
//! both share ([`TranslateArgs`]), files (or directories of them) read into a [`Snapshot`] for
//! the translators' kinds, and their output as the document the commands print.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use translate_core::{
    Component, IstioRefs, KindSpec, Output, ServiceType, Settings, Snapshot, Translator,
};

/// The flags of both containers' `translate` commands.
#[derive(Debug, Clone, clap::Args)]
pub struct TranslateArgs {
    /// Manifest files or directories (multi-document YAML or JSON).
    #[arg(short = 'f', long = "filename", required = true)]
    pub paths: Vec<PathBuf>,
    /// `CLUSTER_NAME`.
    #[arg(long, default_value = "cluster")]
    pub cluster_name: String,
    /// The namespace AKO runs in.
    #[arg(long, default_value = "avi-system")]
    pub namespace: String,
    /// Avi tenant.
    #[arg(long, default_value = "admin")]
    pub tenant: String,
    /// `ClusterIP` or `NodePort`.
    #[arg(long, default_value = "ClusterIP")]
    pub service_type: String,
    /// Istio is on and its Avi objects exist.
    #[arg(long)]
    pub istio: bool,
    /// Which backends get Istio mTLS.
    #[arg(long, value_enum, default_value_t = crate::cli::Backends::Mesh)]
    pub istio_backends: crate::cli::Backends,
    /// The Avi controller API version the objects are for (AKO's `controllerVersion`).
    #[arg(long, default_value = "22.1.3")]
    pub controller_version: String,
    /// The network VIPs are allocated from (AKO's `VIP_NETWORK_LIST`, a JSON list).
    #[arg(long, env = "VIP_NETWORK_LIST", default_value = "")]
    pub vip_network_list: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Json)]
    pub output: Format,
}

/// Output format of a dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Why a dry run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DryRunError {
    /// A flag's value is not usable.
    #[error("{0}")]
    Flag(String),
    /// The manifests could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The output could not be written (a closed pipe, a full disk) or encoded.
    #[error("cannot write the output: {0}")]
    Write(String),
}

impl TranslateArgs {
    /// The settings these flags describe, for the objects of `component`.
    pub fn settings(&self, component: Component) -> Result<Settings, DryRunError> {
        let service_type = match self.service_type.as_str() {
            "ClusterIP" => ServiceType::ClusterIP,
            "NodePort" => ServiceType::NodePort,
            other => {
                return Err(DryRunError::Flag(format!(
                    "--service-type must be ClusterIP or NodePort, not {}",
                    other.escape_debug()
                )));
            }
        };
        // AKO's rule for CLUSTER_NAME: it prefixes every name, and DataScripts quote it.
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !valid(&self.cluster_name) {
            return Err(DryRunError::Flag(
                "--cluster-name must be letters, digits, '-' and '_' (AKO's CLUSTER_NAME)".into(),
            ));
        }
        Ok(Settings {
            component,
            istio_refs: self
                .istio
                .then(|| IstioRefs::for_cluster(&self.cluster_name, &self.namespace)),
            cluster_name: self.cluster_name.clone(),
            ako_namespace: self.namespace.clone(),
            tenant: self.tenant.clone(),
            service_type,
            istio_enabled: self.istio,
            istio_backends: self.istio_backends.into(),
            controller_version: self.controller_version.clone(),
            vip_networks: translate_core::vip::parse_vip_network_list(&self.vip_network_list)
                .map_err(|e| DryRunError::Flag(e.to_string()))?,
            ..Settings::default()
        })
    }

    /// Reads the manifests, translates them with `translator` as `component`'s objects, and
    /// prints [`document`] to stdout; objects no translator reads are named on stderr.
    pub fn run(
        &self,
        translator: &dyn Translator,
        component: Component,
    ) -> Result<(), DryRunError> {
        let settings = self.settings(component)?;
        let (snapshot, skipped) = load(&self.paths, &translator.kinds())?;
        for s in skipped {
            crate::cli::stderr_line(format_args!("{s}"));
        }
        let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::now(),
        );
        let doc = document(&translator.translate(&snapshot, &settings, &now));
        let text = match self.output {
            Format::Json => serde_json::to_string_pretty(&doc)
                .map(|t| t + "\n")
                .map_err(|e| DryRunError::Write(e.to_string()))?,
            Format::Yaml => {
                serde_saphyr::to_string(&doc).map_err(|e| DryRunError::Write(e.to_string()))?
            }
        };
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| DryRunError::Write(e.to_string()))
    }
}

/// Why manifests could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a regular file (a FIFO, a device): never read, it could block or never end.
    #[error("{path} is not a regular file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// Larger than [`MAX_FILE_BYTES`].
    #[error("{path} is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge {
        /// The path.
        path: PathBuf,
    },
    /// A file is not YAML or JSON.
    #[error("{path} is not valid YAML: {detail}")]
    Syntax {
        /// The path.
        path: PathBuf,
        /// The parser's words, without the offending text (it may be a Secret's key).
        detail: String,
    },
}

/// The largest manifest file read (a 20,000-object export is about 40 MB).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Documents one file may hold: an export of everything the controller handles (20,000 routes
/// and their Services, EndpointSlices, ...) with room to spare.
pub const MAX_DOCUMENTS: usize = 200_000;
/// YAML nodes one file may hold (a route is about 60; a file at [`MAX_FILE_BYTES`] cannot hold
/// more than about this many).
pub const MAX_NODES: usize = 40_000_000;

/// The parser's limits, raised from its defaults (1,024 documents, 250,000 nodes) to what a
/// file within [`MAX_FILE_BYTES`] can hold; nesting stays bounded, and errors quote nothing.
fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: Some(usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX)),
            max_documents: MAX_DOCUMENTS,
            max_nodes: MAX_NODES,
            max_events: 2 * MAX_NODES,
            max_total_scalar_bytes: usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX),
        },
        with_snippet: false,
    }
}

/// Reads `paths` (files, or every `.yaml`/`.yml`/`.json` file of a directory, recursively and
/// sorted) into a snapshot of the shared inputs and `kinds`. Objects no translator reads
/// (Deployments, ...) are skipped, each with a line in the returned list.
pub fn load(paths: &[PathBuf], kinds: &[KindSpec]) -> Result<(Snapshot, Vec<String>), LoadError> {
    let mut snapshot = Snapshot::default();
    let mut skipped = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for p in paths {
        load_path(p, kinds, &mut snapshot, &mut skipped, &mut seen)?;
    }
    Ok((snapshot, skipped))
}

/// `kind group namespace/name` of a manifest, to find the same object given twice.
fn identity(doc: &Value) -> String {
    let s = |p: &str| doc.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let group = s("/apiVersion").rsplit_once('/').map_or("", |(g, _)| g);
    format!(
        "{} {group} {}/{}",
        s("/kind"),
        s("/metadata/namespace"),
        s("/metadata/name")
    )
}

fn load_path(
    path: &Path,
    kinds: &[KindSpec],
    snapshot: &mut Snapshot,
    skipped: &mut Vec<String>,
    seen: &mut std::collections::BTreeSet<String>,
) -> Result<(), LoadError> {
    let read_err = |source| LoadError::Read {
        path: path.to_owned(),
        source,
    };
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(read_err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            let manifest = p
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json");
            if p.is_dir() || (manifest && p.is_file()) {
                load_path(&p, kinds, snapshot, skipped, seen)?;
            }
        }
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile {
            path: path.to_owned(),
        });
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
        });
    }
    let mut text = String::new();
    {
        use std::io::Read;
        let file = std::fs::File::open(path).map_err(read_err)?;
        // The size may grow between the check and the read.
        file.take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(read_err)?;
    }
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
        });
    }
    load_text(&text, path, kinds, snapshot, skipped, seen)
}

/// Reads the manifests of one file's `text` (named `path` in messages) into `snapshot`, as
/// [`load`] does for a file; `seen` finds objects given twice across calls.
pub fn load_text(
    text: &str,
    path: &Path,
    kinds: &[KindSpec],
    snapshot: &mut Snapshot,
    skipped: &mut Vec<String>,
    seen: &mut std::collections::BTreeSet<String>,
) -> Result<(), LoadError> {
    // A NUL byte ends the text for the YAML parser: what follows would vanish without a word.
    if let Some(at) = text.find('\0') {
        return Err(LoadError::Syntax {
            path: path.to_owned(),
            detail: format!("a NUL byte at offset {at}: not a text manifest"),
        });
    }
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, parse_options())
        .map_err(|e| {
            LoadError::Syntax {
                path: path.to_owned(),
                // The first line names the position (or the limit); no snippet quotes the text,
                // which may be a Secret's key.
                detail: e.to_string().lines().next().unwrap_or_default().to_owned(),
            }
        })?;
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let items = if doc.get("kind").and_then(Value::as_str) == Some("List") {
            match doc.get("items") {
                Some(Value::Array(items)) => items.clone(),
                None | Some(Value::Null) => Vec::new(),
                Some(_) => {
                    skipped.push(format!(
                        "{}: skipped: a List whose items is not a list",
                        path.display()
                    ));
                    continue;
                }
            }
        } else {
            vec![doc]
        };
        for item in items {
            let id = identity(&item);
            if !seen.insert(id.clone()) {
                // As `kubectl apply` of the same files would: the later one is what stays.
                skipped.push(format!(
                    "{}: {id} is given again; the later one replaces the earlier",
                    path.display()
                ));
            }
            if let Err(e) = snapshot.insert_json(item, kinds) {
                skipped.push(format!("{}: skipped: {e}", path.display()));
            }
        }
    }
    Ok(())
}

/// `{"avi": {"<type>": [objects]}, "status": [{kind, namespace, name, status}], "warnings":
/// [...]}`: what the `translate` commands print. Private keys show as `<sensitive>`.
pub fn document(output: &Output) -> Value {
    let statuses: Vec<Value> = output
        .statuses
        .iter()
        .map(|s| {
            json!({"kind": s.key.kind(),
                "namespace": (!s.key.namespace.is_empty()).then_some(&s.key.namespace),
                "name": s.key.name, "status": s.status})
        })
        .collect();
    let warnings: Vec<Value> = output
        .notices
        .iter()
        .filter(|n| !n.when_synced)
        .map(|n| {
            json!({"kind": n.object.kind(), "namespace": n.object.namespace, "name": n.object.name,
                "reason": n.reason, "message": n.message,
                "type": match n.severity { translate_core::Severity::Normal => "Normal", translate_core::Severity::Warning => "Warning" }})
        })
        .collect();
    json!({"avi": output.model.to_json(), "status": statuses, "warnings": warnings})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("a.yaml");
        std::fs::write(
            &ok,
            "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: apps}\n",
        )
        .unwrap();
        let (s, skipped) = load(std::slice::from_ref(&ok), &[]).unwrap();
        assert_eq!(s.shared.services.len(), 1);
        assert!(skipped.is_empty());
        let err = load(&[PathBuf::from("/dev/zero")], &[]).unwrap_err();
        assert!(matches!(err, LoadError::NotAFile { .. }), "{err}");
    }

    #[test]
    fn the_same_object_twice_is_said_and_a_bad_list_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(
            &p,
            "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\n---\napiVersion: v1\nkind: List\nitems: {a: 1}\n",
        )
        .unwrap();
        let (s, skipped) = load(&[p], &[]).unwrap();
        assert_eq!(s.shared.services.len(), 1);
        assert!(
            skipped
                .iter()
                .any(|l| l.contains("Service  x/a is given again")),
            "{skipped:?}"
        );
        assert!(
            skipped.iter().any(|l| l.contains("items is not a list")),
            "{skipped:?}"
        );
    }

    #[test]
    fn a_nul_byte_is_refused_not_the_end_of_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(
            &p,
            "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\n\0\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: x}\n",
        )
        .unwrap();
        let err = load(&[p], &[]).unwrap_err();
        assert!(err.to_string().contains("NUL byte at offset"), "{err}");
    }

    #[test]
    fn a_syntax_error_quotes_no_line_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(
            &p,
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\nstringData:\n  tls.key: \"-----BEGIN PRIVATE KEY-----MIIEsecret\n  bad: [unclosed\n",
        )
        .unwrap();
        let err = load(&[p], &[]).unwrap_err().to_string();
        assert!(
            !err.contains("MIIEsecret") && !err.contains("PRIVATE"),
            "{err}"
        );
    }

    #[test]
    fn an_export_of_25000_objects_loads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.yaml");
        let mut text = String::new();
        for i in 0..25_000 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: x, labels: {{app: a{i}}}}}\nspec:\n  ports: [{{name: http, port: 80, targetPort: 8080}}]\n"
            ));
        }
        std::fs::write(&p, text).unwrap();
        let (s, _) = load(&[p], &[]).unwrap();
        assert_eq!(s.shared.services.len(), 25_000);
    }
}
