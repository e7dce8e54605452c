//! Torn-rotation property test: a writer rotates the set N times exactly as istio-agent does
//! (per-file rename, key → chain → root, random pauses, a root rotation half way) while the
//! watcher runs. Every bundle the store ever holds must be one the CA issued, whole, the store
//! never goes back to an older set, and the last set written is always published in the end.

use std::collections::HashMap;
use std::time::Duration;

use istio_sim::{CaOptions, IstioCa, KeyAlg, OutputCertsWriter, WorkloadCert};
use rand::{Rng, SeedableRng};

use super::tests::wait_for_leaf;
use super::*;
use crate::testutil::ec_request;

/// Runs the property with `n` rotations; returns the watcher's status and how many sets the
/// observer saw.
async fn torn_rotations(n: usize, seed: u64, options: WatchOptions) -> (WatchStatus, usize) {
    let mut ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        ..CaOptions::default()
    })
    .unwrap();
    let mut certs: Vec<WorkloadCert> = Vec::with_capacity(n + 1);
    for i in 0..=n {
        if i == n / 2 {
            ca.rotate_root().unwrap();
        }
        certs.push(ca.issue(&ec_request()).unwrap());
    }
    let index: HashMap<Vec<u8>, usize> = certs
        .iter()
        .enumerate()
        .map(|(i, c)| (c.leaf_der.clone(), i))
        .collect();

    let dir = tempfile::tempdir().unwrap();
    OutputCertsWriter::new(dir.path()).write(&certs[0]).unwrap();
    let store = CertStore::new();
    let watcher = watch(dir.path(), options, store.clone());
    wait_for_leaf(&store, &certs[0], Duration::from_secs(10)).await;

    // Every value the store takes is checked as it is observed.
    let mut rx = store.subscribe();
    let observer_certs = certs.clone();
    let observer = tokio::spawn(async move {
        let mut last = 0usize;
        let mut observed = 0usize;
        while rx.changed().await.is_ok() {
            let Some(bundle) = rx.borrow_and_update().clone() else {
                continue;
            };
            let i = *index
                .get(bundle.leaf_der().as_ref())
                .unwrap_or_else(|| panic!("published a leaf the CA never issued"));
            let issued = &observer_certs[i];
            assert_eq!(
                bundle.key_pem().expose(),
                issued.key_pem,
                "torn set #{i} published"
            );
            assert_eq!(
                bundle.cert_chain_pem(),
                issued.cert_chain_pem,
                "torn chain #{i}"
            );
            assert!(i >= last, "went back from set #{last} to #{i}");
            last = i;
            observed += 1;
            if i == observer_certs.len() - 1 {
                break;
            }
        }
        observed
    });

    let writer_certs = certs.clone();
    // The writer hands the directory back: dropping it would delete it under the watcher.
    let _dir = tokio::task::spawn_blocking(move || {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for cert in &writer_certs[1..] {
            let pause = Duration::from_micros(rng.random_range(0..3000));
            OutputCertsWriter::new(dir.path())
                .with_pause(pause)
                .write(cert)
                .unwrap();
            std::thread::sleep(Duration::from_micros(rng.random_range(0..3000)));
        }
        dir
    })
    .await
    .unwrap();

    let last = certs.last().unwrap();
    wait_for_leaf(&store, last, Duration::from_secs(30)).await;
    let observed = tokio::time::timeout(Duration::from_secs(10), observer)
        .await
        .unwrap()
        .unwrap();
    (
        super::tests::settled_status(&watcher, &store).await,
        observed,
    )
}

fn aggressive() -> WatchOptions {
    // No debounce: the watcher reads in the middle of rotations as often as it can.
    WatchOptions {
        debounce: Duration::ZERO,
        max_debounce: Duration::ZERO,
        ..super::tests::fast_options()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_rotations_never_publish_a_torn_set() {
    let (status, observed) = torn_rotations(40, 7, aggressive()).await;
    assert!(
        status.published >= 2 && observed >= 1,
        "{status:?}, observed {observed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_rotations_with_default_debounce() {
    let options = WatchOptions {
        retry_initial: Duration::from_millis(100),
        ..WatchOptions::default()
    };
    let (status, _) = torn_rotations(20, 11, options).await;
    assert!(status.published >= 2, "{status:?}");
}

/// The large run: `TORN_ROTATIONS=10000 cargo test -p istio-certs --release -- --ignored
/// torn_rotations_large --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: 10,000 rotations; run explicitly"]
async fn torn_rotations_large() {
    let n = std::env::var("TORN_ROTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let started = std::time::Instant::now();
    let (status, observed) = torn_rotations(n, 42, aggressive()).await;
    println!(
        "torn rotations: {n} rotations; {} reads, {} refused (torn or mid-root-rotation), \
         {} sets published and each checked whole (0 torn), {observed} seen live, last set published; {:.1} s",
        status.loads,
        status.rejected,
        status.published,
        started.elapsed().as_secs_f64()
    );
}
