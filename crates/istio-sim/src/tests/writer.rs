use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::{CHAIN_FILE, KEY_FILE, OutputCertsWriter, ROOT_FILE, SimError, WorkloadCert};

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn assert_files(dir: &Path, cert: &WorkloadCert) {
    assert_eq!(
        fs::read_to_string(dir.join(KEY_FILE)).unwrap(),
        cert.key_pem
    );
    assert_eq!(
        fs::read_to_string(dir.join(CHAIN_FILE)).unwrap(),
        cert.cert_chain_pem
    );
    assert_eq!(
        fs::read_to_string(dir.join(ROOT_FILE)).unwrap(),
        cert.root_cert_pem
    );
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn first_write_creates_dir_and_all_files_in_istio_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("etc/istio-output-certs");
    let cert = ec_ca().issue(&ec_req()).unwrap();
    let writer = OutputCertsWriter::new(&dir);
    assert_eq!(writer.dir(), dir);

    let report = writer.write(&cert).unwrap();
    assert_eq!(report.written, vec![KEY_FILE, CHAIN_FILE, ROOT_FILE]);
    assert!(report.skipped.is_empty());
    assert_files(&dir, &cert);
    // No temp files left behind.
    assert_eq!(entries(&dir), vec![CHAIN_FILE, KEY_FILE, ROOT_FILE]);
    for f in [KEY_FILE, CHAIN_FILE, ROOT_FILE] {
        assert_eq!(mode(&dir.join(f)), 0o644, "{f}");
    }
}

#[test]
fn unchanged_files_are_skipped_and_not_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = ec_ca();
    let first = ca.issue(&ec_req()).unwrap();
    let writer = OutputCertsWriter::new(tmp.path());
    writer.write(&first).unwrap();
    let inode = |f: &str| fs::metadata(tmp.path().join(f)).unwrap().ino();
    let inodes: Vec<u64> = [KEY_FILE, CHAIN_FILE, ROOT_FILE].map(inode).to_vec();

    // Same bytes again (Envoy re-requesting the cached secret): nothing happens.
    let again = writer.write(&first).unwrap();
    assert!(again.written.is_empty());
    assert_eq!(again.skipped, vec![KEY_FILE, CHAIN_FILE, ROOT_FILE]);
    assert_eq!(
        [KEY_FILE, CHAIN_FILE, ROOT_FILE].map(inode).to_vec(),
        inodes
    );

    // Normal rotation with an unchanged root: exactly two renames, key first.
    let rotated = ca.issue(&ec_req()).unwrap();
    let report = writer.write(&rotated).unwrap();
    assert_eq!(report.written, vec![KEY_FILE, CHAIN_FILE]);
    assert_eq!(report.skipped, vec![ROOT_FILE]);
    assert_files(tmp.path(), &rotated);
    // Replaced by rename (a new inode), not rewritten in place.
    assert_ne!(inode(KEY_FILE), inodes[0]);
    assert_ne!(inode(CHAIN_FILE), inodes[1]);
    assert_eq!(inode(ROOT_FILE), inodes[2]);
    assert_eq!(entries(tmp.path()), vec![CHAIN_FILE, KEY_FILE, ROOT_FILE]);
}

#[test]
fn root_rotation_rewrites_root_cert() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ca = ec_ca();
    let writer = OutputCertsWriter::new(tmp.path());
    writer.write(&ca.issue(&ec_req()).unwrap()).unwrap();
    ca.rotate_root().unwrap();

    // ROOTCA push: root-cert.pem only.
    let report = writer
        .write_files(None, None, Some(&ca.roots_pem()))
        .unwrap();
    assert_eq!(report.written, vec![ROOT_FILE]);
    assert!(report.skipped.is_empty());
    assert_eq!(
        cert_ders(&fs::read_to_string(tmp.path().join(ROOT_FILE)).unwrap()).len(),
        2
    );

    // Then the workload cert: key and chain change, the bundle is already there.
    let cert = ca.issue(&ec_req()).unwrap();
    let report = writer.write(&cert).unwrap();
    assert_eq!(report.written, vec![KEY_FILE, CHAIN_FILE]);
    assert_eq!(report.skipped, vec![ROOT_FILE]);
    assert_files(tmp.path(), &cert);
}

#[test]
fn mode_is_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let writer = OutputCertsWriter::new(tmp.path()).with_mode(0o600);
    writer.write_files(Some("k\n"), Some("c\n"), None).unwrap();
    assert_eq!(mode(&tmp.path().join(KEY_FILE)), 0o600);
    assert_eq!(mode(&tmp.path().join(CHAIN_FILE)), 0o600);
    assert!(!tmp.path().join(ROOT_FILE).exists());
}

#[test]
fn pause_opens_a_torn_window_between_renames() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let ca = ec_ca();
    let old = ca.issue(&ec_req()).unwrap();
    let new = ca.issue(&ec_req()).unwrap();
    OutputCertsWriter::new(&dir).write(&old).unwrap();

    let pause = Duration::from_millis(600);
    let writer = OutputCertsWriter::new(&dir).with_pause(pause);
    let started = Instant::now();
    let new_for_thread = new.clone();
    let handle = std::thread::spawn(move || writer.write(&new_for_thread).unwrap());

    // Wait for the new key, then look at the chain inside the pause.
    let deadline = Instant::now() + Duration::from_secs(10);
    while fs::read_to_string(dir.join(KEY_FILE)).unwrap() != new.key_pem {
        assert!(Instant::now() < deadline, "key.pem never changed");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        fs::read_to_string(dir.join(CHAIN_FILE)).unwrap(),
        old.cert_chain_pem,
        "between the renames a reader sees the new key with the old chain"
    );

    let report = handle.join().unwrap();
    assert_eq!(report.written, vec![KEY_FILE, CHAIN_FILE]);
    assert!(started.elapsed() >= pause);
    assert_files(&dir, &new);
}

#[test]
fn io_errors_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    fs::write(&file, "x").unwrap();
    let err = OutputCertsWriter::new(&file)
        .write_files(None, None, Some("r\n"))
        .unwrap_err();
    assert!(matches!(err, SimError::Io { .. }), "{err}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}
