//! An istio-agent-like `OUTPUT_CERTS` writer.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{SimError, WorkloadCert};

/// The private key file istio-agent writes.
pub const KEY_FILE: &str = "key.pem";
/// The certificate chain file istio-agent writes (leaf, intermediates, root bundle).
pub const CHAIN_FILE: &str = "cert-chain.pem";
/// The trust bundle file istio-agent writes.
pub const ROOT_FILE: &str = "root-cert.pem";

/// How many temp names to try before giving up, like Go's `os.CreateTemp`.
const TEMP_ATTEMPTS: u32 = 10_000;

/// Writes `key.pem`, `cert-chain.pem` and `root-cert.pem` exactly as istio-agent's
/// `OutputKeyCertToDir` does: in that order, each only if its bytes changed, each atomically
/// (temp file `<name>.tmp.<digits>` in the same directory → chmod → write → close → rename),
/// but the set of files **not** atomically: a reader between two renames sees a new key with
/// the old chain.
///
/// ```
/// use istio_sim::{OutputCertsWriter, CHAIN_FILE, ROOT_FILE};
///
/// let dir = tempfile::tempdir()?;
/// let writer = OutputCertsWriter::new(dir.path().join("certs"));
/// // A ROOTCA push writes the trust bundle only.
/// let report = writer.write_files(None, None, Some("root bundle\n"))?;
/// assert_eq!(report.written, vec![ROOT_FILE]);
/// let again = writer.write_files(None, None, Some("root bundle\n"))?;
/// assert!(again.written.is_empty());
/// assert_eq!(again.skipped, vec![ROOT_FILE]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputCertsWriter {
    dir: PathBuf,
    pause: Duration,
    mode: u32,
}

/// What one write call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files renamed into place, in the order of their renames.
    pub written: Vec<&'static str>,
    /// Files left alone because they already held the same bytes. Files passed as `None`
    /// appear in neither list.
    pub skipped: Vec<&'static str>,
}

impl OutputCertsWriter {
    /// A writer for `dir` (the `OUTPUT_CERTS` directory), created on first write if missing.
    /// Mode 0o644 (istio-agent's mode inside Kubernetes), no pause.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            pause: Duration::ZERO,
            mode: 0o644,
        }
    }

    /// Sleeps `pause` between the renames of consecutive files, to hold the torn
    /// (new key, old chain) window open on purpose.
    #[must_use]
    pub fn with_pause(self, pause: Duration) -> Self {
        Self { pause, ..self }
    }

    /// File mode of written files (0o600 is istio-agent's mode outside Kubernetes).
    /// Ignored on non-Unix platforms.
    #[must_use]
    pub fn with_mode(self, mode: u32) -> Self {
        Self { mode, ..self }
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes all three files of `cert`, as after a fresh CSR for the `default` resource.
    pub fn write(&self, cert: &WorkloadCert) -> Result<WriteReport, SimError> {
        self.write_files(
            Some(&cert.key_pem),
            Some(&cert.cert_chain_pem),
            Some(&cert.root_cert_pem),
        )
    }

    /// Writes the given files, in istio-agent's order (key, chain, root); `None` files are not
    /// touched. E.g. a `ROOTCA` push is `write_files(None, None, Some(roots))`.
    pub fn write_files(
        &self,
        key: Option<&str>,
        chain: Option<&str>,
        root: Option<&str>,
    ) -> Result<WriteReport, SimError> {
        fs::create_dir_all(&self.dir).map_err(|source| SimError::Io {
            op: "create dir",
            path: self.dir.clone(),
            source,
        })?;
        let mut report = WriteReport::default();
        for (name, data) in [(KEY_FILE, key), (CHAIN_FILE, chain), (ROOT_FILE, root)] {
            let Some(data) = data else { continue };
            let path = self.dir.join(name);
            // istio's writeIfNotEqual: any read error just means "write it".
            if fs::read(&path).is_ok_and(|old| old == data.as_bytes()) {
                report.skipped.push(name);
                continue;
            }
            if !report.written.is_empty() && !self.pause.is_zero() {
                std::thread::sleep(self.pause);
            }
            self.atomic_write(name, &path, data.as_bytes())?;
            report.written.push(name);
        }
        Ok(report)
    }

    /// istio's `file.AtomicWrite`: CreateTemp(dir, name+".tmp.") → Chmod → Write → Close → Rename.
    fn atomic_write(&self, name: &str, path: &Path, data: &[u8]) -> Result<(), SimError> {
        let (tmp, mut file) = self.create_temp(name)?;
        let result = set_mode(&file, self.mode)
            .map_err(|source| SimError::Io {
                op: "chmod",
                path: tmp.clone(),
                source,
            })
            .and_then(|()| {
                file.write_all(data).map_err(|source| SimError::Io {
                    op: "write",
                    path: tmp.clone(),
                    source,
                })
            })
            .and_then(|()| {
                drop(file);
                fs::rename(&tmp, path).map_err(|source| SimError::Io {
                    op: "rename",
                    path: tmp.clone(),
                    source,
                })
            });
        if result.is_err() {
            // Best effort, like istio's deferred os.Remove of the temp file.
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn create_temp(&self, name: &str) -> Result<(PathBuf, fs::File), SimError> {
        let mut last = None;
        for _ in 0..TEMP_ATTEMPTS {
            let tmp = self
                .dir
                .join(format!("{name}.tmp.{}", rand::random::<u32>()));
            match create_new(&tmp) {
                Ok(file) => return Ok((tmp, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some((tmp, e)),
                Err(source) => {
                    return Err(SimError::Io {
                        op: "create temp file",
                        path: tmp,
                        source,
                    });
                }
            }
        }
        let (path, source) = last.unwrap_or_else(|| {
            (
                self.dir.join(name),
                io::Error::other("no temp name attempted"),
            )
        });
        Err(SimError::Io {
            op: "create temp file",
            path,
            source,
        })
    }
}

/// Go's `os.CreateTemp` opens with O_CREATE|O_EXCL and mode 0600.
fn create_new(path: &Path) -> io::Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

#[cfg(unix)]
fn set_mode(file: &fs::File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &fs::File, _mode: u32) -> io::Result<()> {
    Ok(())
}
