//! The watcher against a real directory and real inotify.

mod filter {
    include!("filter_tests.rs");
}

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use istio_sim::{OutputCertsWriter, WorkloadCert};

use super::*;
use crate::testutil::{bundle_of, ec_cert, write_dir};

pub(super) fn fast_options() -> WatchOptions {
    WatchOptions {
        debounce: Duration::from_millis(20),
        max_debounce: Duration::from_millis(200),
        resync: Duration::from_secs(3600),
        retry_initial: Duration::from_millis(10),
        retry_max: Duration::from_millis(200),
        clock: Clock::system(),
    }
}

/// The watcher's status once its counters caught up with what the store published: the
/// watcher publishes first and counts just after, so a reader woken by the store can be early.
pub(super) async fn settled_status(watcher: &Watcher, store: &CertStore) -> WatchStatus {
    let published = store.history.lock().map(|h| h.len()).unwrap_or_default() as u64;
    let mut rx = watcher.status_receiver();
    let settled = tokio::time::timeout(
        Duration::from_secs(5),
        rx.wait_for(|s| s.published >= published),
    )
    .await;
    assert!(
        settled.is_ok(),
        "status never counted {published} publications"
    );
    watcher.status()
}

/// Waits until the store holds the set of `cert` (same leaf).
pub(super) async fn wait_for_leaf(store: &CertStore, cert: &WorkloadCert, within: Duration) {
    let mut rx = store.subscribe();
    let result = tokio::time::timeout(within, async {
        loop {
            let current = rx.borrow_and_update().clone();
            if current.is_some_and(|b| b.leaf_der().as_ref() == cert.leaf_der.as_slice()) {
                return;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(
        result.is_ok(),
        "store did not get serial {} within {within:?}; it holds {:?}",
        cert.serial_hex,
        store.current()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_the_existing_set_then_each_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let first = ec_cert();
    write_dir(dir.path(), &first);
    let store = CertStore::new();
    let watcher = watch(dir.path(), fast_options(), store.clone());
    wait_for_leaf(&store, &first, Duration::from_secs(5)).await;

    for _ in 0..3 {
        let next = ec_cert();
        write_dir(dir.path(), &next);
        wait_for_leaf(&store, &next, Duration::from_secs(5)).await;
    }
    let status = settled_status(&watcher, &store).await;
    assert_eq!(status.published, 4, "{status:?}");
    assert_eq!(status.last_problem, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_created_late_is_picked_up() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("not/yet");
    let store = CertStore::new();
    let watcher = watch(&dir, fast_options(), store.clone());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(store.current().is_none());
    assert_eq!(
        watcher.status().last_problem.map(|p| p.kind),
        Some("missing")
    );

    let cert = ec_cert();
    let d = dir.clone();
    let c = cert.clone();
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir(d.parent().unwrap()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        write_dir(&d, &c);
    })
    .await
    .unwrap();
    wait_for_leaf(&store, &cert, Duration::from_secs(5)).await;

    // The watch moved onto the directory itself: a rotation is seen by events alone.
    let next = ec_cert();
    write_dir(&dir, &next);
    wait_for_leaf(&store, &next, Duration::from_secs(5)).await;
}

/// Lays out `dir` as kubelet's AtomicWriter does for Secret and projected volumes:
/// `..<ts>/files`, `..data -> ..<ts>`, `file -> ..data/file`, swapped by renaming `..data_tmp`.
fn projected_write(dir: &Path, generation: u32, cert: &WorkloadCert) {
    use std::os::unix::fs::symlink;
    let ts = format!("..2026_11_21_00_00_{generation:02}.{generation}");
    let payload = dir.join(&ts);
    std::fs::create_dir_all(&payload).unwrap();
    std::fs::write(payload.join("key.pem"), &cert.key_pem).unwrap();
    std::fs::write(payload.join("cert-chain.pem"), &cert.cert_chain_pem).unwrap();
    std::fs::write(payload.join("root-cert.pem"), &cert.root_cert_pem).unwrap();
    symlink(&ts, dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    for name in ["key.pem", "cert-chain.pem", "root-cert.pem"] {
        let link = dir.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(format!("..data/{name}"), link).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projected_volume_data_symlink_swap_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let first = ec_cert();
    projected_write(dir.path(), 1, &first);
    let store = CertStore::new();
    let _watcher = watch(dir.path(), fast_options(), store.clone());
    wait_for_leaf(&store, &first, Duration::from_secs(5)).await;

    // No event of the swap names any of the three files.
    let next = ec_cert();
    projected_write(dir.path(), 2, &next);
    wait_for_leaf(&store, &next, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_events_are_recovered_by_the_periodic_reread() {
    let dir = tempfile::tempdir().unwrap();
    let first = ec_cert();
    write_dir(dir.path(), &first);
    // Writing through hard links in another directory changes the files' content without any
    // inotify event in the watched directory: exactly a missed event.
    let side = tempfile::tempdir().unwrap();
    for name in ["key.pem", "cert-chain.pem", "root-cert.pem"] {
        std::fs::hard_link(dir.path().join(name), side.path().join(name)).unwrap();
    }
    let store = CertStore::new();
    let options = WatchOptions {
        resync: Duration::from_millis(300),
        ..fast_options()
    };
    let _watcher = watch(dir.path(), options, store.clone());
    wait_for_leaf(&store, &first, Duration::from_secs(5)).await;

    let next = ec_cert();
    std::fs::write(side.path().join("key.pem"), &next.key_pem).unwrap();
    std::fs::write(side.path().join("cert-chain.pem"), &next.cert_chain_pem).unwrap();
    std::fs::write(side.path().join("root-cert.pem"), &next.root_cert_pem).unwrap();
    wait_for_leaf(&store, &next, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_sets_are_never_published_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let good = ec_cert();
    write_dir(dir.path(), &good);
    let store = CertStore::new();
    let watcher = watch(dir.path(), fast_options(), store.clone());
    wait_for_leaf(&store, &good, Duration::from_secs(5)).await;

    // A new key alone (istio-agent stopped between its two renames): the old set stays.
    let next = ec_cert();
    OutputCertsWriter::new(dir.path())
        .write_files(Some(&next.key_pem), None, None)
        .unwrap();
    let mut status = watcher.status_receiver();
    let seen = tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| {
            s.last_problem
                .as_ref()
                .is_some_and(|p| p.kind == "key_mismatch")
        }),
    )
    .await;
    assert!(seen.is_ok(), "{:?}", watcher.status());
    drop(seen);
    let current = store.current().unwrap();
    assert_eq!(current.leaf_der().as_ref(), good.leaf_der.as_slice());
    // The retry loop keeps trying while the set is torn.
    let loads = watcher.status().loads;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(watcher.status().loads > loads, "no retries while torn");

    // The chain arrives: published, problem cleared.
    OutputCertsWriter::new(dir.path())
        .write_files(None, Some(&next.cert_chain_pem), None)
        .unwrap();
    wait_for_leaf(&store, &next, Duration::from_secs(5)).await;
    let done = tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| s.last_problem.is_none()),
    )
    .await;
    assert!(done.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_replaced_is_rewatched() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("certs");
    let first = ec_cert();
    write_dir(&dir, &first);
    let store = CertStore::new();
    let options = WatchOptions {
        resync: Duration::from_millis(500),
        ..fast_options()
    };
    let _watcher = watch(&dir, options, store.clone());
    wait_for_leaf(&store, &first, Duration::from_secs(5)).await;

    std::fs::remove_dir_all(&dir).unwrap();
    let next = ec_cert();
    write_dir(&dir, &next);
    wait_for_leaf(&store, &next, Duration::from_secs(5)).await;
    // And the new directory is watched by events, not only by re-reads.
    let third = ec_cert();
    write_dir(&dir, &third);
    wait_for_leaf(&store, &third, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn store_ready_waits_for_the_first_bundle() {
    let store = CertStore::new();
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move { store.ready().await })
    };
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    let cert = ec_cert();
    let bundle = bundle_of(&cert);
    let fingerprint = bundle.fingerprint();
    assert!(store.publish(bundle));
    let got: Arc<IstioBundle> = waiter.await.unwrap();
    assert_eq!(got.fingerprint(), fingerprint);
    // Publishing the same set again notifies nobody.
    let again = bundle_of(&cert);
    assert!(!store.publish(again));
}
