//! `--state FILE`: the configuration saved after every write and reloaded at start.

use std::io::Write;
use std::path::Path;

use crate::store::{Object, Store};

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a state file.
    #[error("{}: not an avi-sim state file: {detail}", path.display())]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        detail: String,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StateFile {
    objects: Vec<Object>,
}

/// Writes the store atomically (temp file + rename) so a crash never leaves half a file.
pub fn save(path: &Path, store: &Store) -> Result<(), PersistError> {
    let io = |source| PersistError::Io {
        path: path.to_path_buf(),
        source,
    };
    let state = StateFile {
        objects: store.all_objects().into_iter().cloned().collect(),
    };
    let bytes = serde_json::to_vec(&state).map_err(|e| PersistError::Format {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(&bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Loads a store saved by [`save`]; `None` when the file does not exist yet.
pub fn load(path: &Path) -> Result<Option<Store>, PersistError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PersistError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let format = |detail: String| PersistError::Format {
        path: path.to_path_buf(),
        detail,
    };
    let state: StateFile = serde_json::from_slice(&bytes).map_err(|e| format(e.to_string()))?;
    Store::from_objects(state.objects)
        .map(Some)
        .map_err(|e| format(e.message))
}
