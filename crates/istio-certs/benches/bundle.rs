//! Benchmarks: load + validate one bundle (RSA and ECDSA), and watcher latency from the last
//! rename istio-agent makes to publication in the store.
//!
//! `cargo bench -p istio-certs --bench bundle`

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use istio_certs::{CertStore, IstioBundle, WatchOptions, watch};
use istio_sim::{CaOptions, IstioCa, KeyAlg, OutputCertsWriter, WorkloadCert, WorkloadRequest};

fn issue(alg: KeyAlg) -> WorkloadCert {
    let ca = IstioCa::new(CaOptions {
        key_alg: alg,
        ..CaOptions::default()
    })
    .unwrap();
    ca.issue(&WorkloadRequest {
        key_alg: alg,
        ..WorkloadRequest::default()
    })
    .unwrap()
}

fn load_and_validate(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_validate");
    for (name, alg) in [
        ("rsa2048", KeyAlg::Rsa2048),
        ("ecdsa_p256", KeyAlg::EcdsaP256),
    ] {
        let cert = issue(alg);
        let dir = tempfile::tempdir().unwrap();
        OutputCertsWriter::new(dir.path()).write(&cert).unwrap();
        group.bench_function(format!("{name}/from_pem"), |b| {
            b.iter(|| {
                IstioBundle::from_pem(
                    black_box(cert.cert_chain_pem.as_bytes()),
                    black_box(cert.key_pem.as_bytes()),
                    black_box(cert.root_cert_pem.as_bytes()),
                    SystemTime::now(),
                )
                .unwrap()
            })
        });
        group.bench_function(format!("{name}/load_dir"), |b| {
            b.iter(|| IstioBundle::load(black_box(dir.path()), SystemTime::now()).unwrap())
        });
    }
    group.finish();
}

fn watcher_latency(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        ..CaOptions::default()
    })
    .unwrap();
    let req = WorkloadRequest {
        key_alg: KeyAlg::EcdsaP256,
        ..WorkloadRequest::default()
    };
    let pool: Vec<WorkloadCert> = (0..8).map(|_| ca.issue(&req).unwrap()).collect();

    let mut group = c.benchmark_group("watcher_latency");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for (name, debounce) in [
        ("debounce_250ms", Duration::from_millis(250)),
        ("debounce_0", Duration::ZERO),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let writer = OutputCertsWriter::new(dir.path());
        writer.write(&pool[0]).unwrap();
        let store = CertStore::new();
        let options = WatchOptions {
            debounce,
            ..WatchOptions::default()
        };
        let _watcher = rt.block_on(async {
            let w = watch(dir.path(), options, store.clone());
            store.ready().await;
            w
        });
        let mut next = 1usize;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let cert = &pool[next % pool.len()];
                    next += 1;
                    writer.write(cert).unwrap();
                    // The clock starts when istio-agent's last rename is done.
                    let start = Instant::now();
                    rt.block_on(async {
                        let mut rx = store.subscribe();
                        rx.wait_for(|b| {
                            b.as_ref()
                                .is_some_and(|b| b.leaf_der().as_ref() == cert.leaf_der.as_slice())
                        })
                        .await
                        .unwrap();
                    });
                    total += start.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, load_and_validate, watcher_latency);
criterion_main!(benches);
