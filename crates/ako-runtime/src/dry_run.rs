//! Offline translation of manifests, for either container's `translate` command: files (or
//! directories of them) read into a [`Snapshot`] for the translators' kinds, and their output
//! as the document the commands print.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use translate_core::{KindSpec, Output, Snapshot};

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

/// Reads `paths` (files, or every `.yaml`/`.yml`/`.json` file of a directory, recursively and
/// sorted) into a snapshot of the shared inputs and `kinds`. Objects no translator reads
/// (Deployments, ...) are skipped, each with a line in the returned list.
pub fn load(paths: &[PathBuf], kinds: &[KindSpec]) -> Result<(Snapshot, Vec<String>), LoadError> {
    let mut snapshot = Snapshot::default();
    let mut skipped = Vec::new();
    for p in paths {
        load_path(p, kinds, &mut snapshot, &mut skipped)?;
    }
    Ok((snapshot, skipped))
}

fn load_path(
    path: &Path,
    kinds: &[KindSpec],
    snapshot: &mut Snapshot,
    skipped: &mut Vec<String>,
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
                load_path(&p, kinds, snapshot, skipped)?;
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
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).map_err(|e| LoadError::Syntax {
        path: path.to_owned(),
        // The first line names the position; the following ones quote the document.
        detail: e.to_string().lines().next().unwrap_or_default().to_owned(),
    })?;
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let items = if doc.get("kind").and_then(Value::as_str) == Some("List") {
            match doc.get("items").and_then(Value::as_array) {
                Some(items) => items.clone(),
                None => {
                    skipped.push(format!("{}: a List without items", path.display()));
                    continue;
                }
            }
        } else {
            vec![doc]
        };
        for item in items {
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
}
