//! The three files istio-agent writes into its `OUTPUT_CERTS` directory.

use std::fmt;
use std::io::Read;
use std::path::Path;

use crate::error::BundleError;

/// Largest file we agree to read: a real Istio file is a few KiB; anything bigger is not ours.
pub const MAX_FILE_SIZE: u64 = 1024 * 1024;

/// One of the files of an Istio certificate directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertFile {
    /// `key.pem`: the workload private key (PKCS#1, SEC1 or PKCS#8).
    Key,
    /// `cert-chain.pem`: the leaf, then any intermediates, often the root(s) at the tail.
    CertChain,
    /// `root-cert.pem`: the mesh trust anchors, one or more roots.
    RootCert,
}

impl CertFile {
    /// All three, in the order istio-agent renames them.
    pub const ALL: [CertFile; 3] = [CertFile::Key, CertFile::CertChain, CertFile::RootCert];

    /// The file name inside the directory.
    pub const fn file_name(self) -> &'static str {
        match self {
            CertFile::Key => "key.pem",
            CertFile::CertChain => "cert-chain.pem",
            CertFile::RootCert => "root-cert.pem",
        }
    }

    /// The file this name belongs to, if it is one of the three.
    pub fn from_file_name(name: &str) -> Option<CertFile> {
        CertFile::ALL.into_iter().find(|f| f.file_name() == name)
    }
}

impl fmt::Display for CertFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// Reads one file of the set through its user-visible path (so `..data` symlinks are followed),
/// refusing anything over [`MAX_FILE_SIZE`].
pub(crate) fn read_limited(dir: &Path, file: CertFile) -> Result<Vec<u8>, BundleError> {
    let path = dir.join(file.file_name());
    // Only a regular file is opened: opening a FIFO blocks until a writer comes (forever, if
    // none does), and a device can be endless.
    match std::fs::metadata(&path) {
        Ok(meta) if !meta.is_file() => {
            return Err(BundleError::Read {
                file,
                source: std::io::Error::other("not a regular file"),
            });
        }
        _ => {}
    }
    let handle = match std::fs::File::open(&path) {
        Ok(h) => h,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BundleError::Missing {
                file,
                dir: dir.to_path_buf(),
            });
        }
        Err(source) => return Err(BundleError::Read { file, source }),
    };
    let mut bytes = Vec::new();
    // Read one byte past the limit so an oversized file is detected without trusting metadata,
    // which can change between stat and read.
    handle
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| BundleError::Read { file, source })?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(BundleError::TooLarge {
            file,
            limit: MAX_FILE_SIZE,
        });
    }
    Ok(bytes)
}

/// True for the temporary names istio-agent renames from (`key.pem.tmp.123456`).
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.contains(".tmp.")
}
