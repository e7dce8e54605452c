//! The Istio certificate pipeline against kube-sim, avi-sim and istio-sim's writer: the files
//! istio-agent writes → the watcher → the CertStore → `istio-secret`, the PKIProfile and the
//! SSLKeyAndCertificate.

use std::time::Duration;

use ako_runtime::istio::{IstioNames, Pipeline, PipelineOptions, PipelineStatus, Publisher};
use avi_client::models::{PkiProfile, Pool, SslKeyAndCertificate};
use avi_client::{AviClient, AviConfig, AviRef, Credentials, RetryPolicy};
use avi_sim::{AviSim, FaultRule, RunningSim};
use istio_certs::secret::SECRET_NAME;
use istio_certs::{CertStore, WatchOptions, Watcher, watch};
use istio_sim::{CaOptions, IstioCa, OutputCertsWriter, WorkloadCert, WorkloadRequest};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use kube_sim::{KubeSim, SimConfig};
use tokio::sync::watch as channel;

const NS: &str = "avi-system";

struct World {
    avi: RunningSim,
    kube: KubeSim,
    avi_client: AviClient,
    kube_client: kube::Client,
    dir: tempfile::TempDir,
    ca: IstioCa,
}

fn names() -> IstioNames {
    IstioNames {
        cluster: "cluster".into(),
        namespace: NS.into(),
    }
}

fn fast_watch() -> WatchOptions {
    WatchOptions {
        debounce: Duration::from_millis(20),
        max_debounce: Duration::from_millis(200),
        retry_initial: Duration::from_millis(10),
        retry_max: Duration::from_millis(100),
        ..WatchOptions::default()
    }
}

fn fast_retry() -> PipelineOptions {
    PipelineOptions {
        retry_initial: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
    }
}

async fn world() -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let avi = AviSim::builder().start().await.unwrap();
    let mut config = AviConfig::new(
        avi.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    );
    // The client's own retries are short so that the pipeline's retry loop is what a long
    // outage exercises.
    config.retry = RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(2),
    };
    let avi_client = AviClient::new(config).unwrap();
    let kube = KubeSim::start(SimConfig::default()).await.unwrap();
    let kube_client =
        kube::Client::try_from(kube::Config::new(kube.url().parse().unwrap())).unwrap();
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": NS}})).unwrap();
    Api::<Namespace>::all(kube_client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    World {
        avi,
        kube,
        avi_client,
        kube_client,
        dir: tempfile::tempdir().unwrap(),
        ca: IstioCa::new(CaOptions::default()).unwrap(),
    }
}

impl World {
    fn issue(&self) -> WorkloadCert {
        self.ca.issue(&WorkloadRequest::default()).unwrap()
    }

    fn write(&self, cert: &WorkloadCert) {
        OutputCertsWriter::new(self.dir.path()).write(cert).unwrap();
    }

    fn start(&self) -> Running {
        let store = CertStore::new();
        let watcher = watch(self.dir.path(), fast_watch(), store.clone());
        let publisher = Publisher::new(self.avi_client.clone(), self.kube_client.clone(), names());
        let (status, task) = Pipeline::new(publisher, store, fast_retry()).spawn();
        Running {
            _watcher: watcher,
            status,
            task,
        }
    }

    fn stored_cert(&self) -> Option<SslKeyAndCertificate> {
        let c = self.avi_client.clone();
        let name = names().ssl_key_and_certificate();
        futures_block(async move { c.get_by_name::<SslKeyAndCertificate>(&name).await.unwrap() })
    }

    fn writes(&self, object_type: &str) -> u64 {
        ["POST", "PUT"]
            .iter()
            .map(|m| self.avi.count(m, object_type, None))
            .sum()
    }

    fn rejected(&self) -> u64 {
        self.avi
            .request_log()
            .iter()
            .filter(|e| e.status == 400)
            .count() as u64
    }

    async fn secret(&self) -> Option<Secret> {
        Api::<Secret>::namespaced(self.kube_client.clone(), NS)
            .get_opt(SECRET_NAME)
            .await
            .unwrap()
    }
}

/// Runs a future to completion from synchronous test helpers.
fn futures_block<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    })
    .join()
    .unwrap()
}

struct Running {
    _watcher: Watcher,
    status: channel::Receiver<PipelineStatus>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// Waits until the pipeline has published the set of `cert`.
    async fn published(&mut self, cert: &WorkloadCert) -> PipelineStatus {
        let leaf = cert.leaf_der.clone();
        let fp = {
            let bundle = istio_certs::IstioBundle::from_pem(
                cert.cert_chain_pem.as_bytes(),
                cert.key_pem.as_bytes(),
                cert.root_cert_pem.as_bytes(),
                std::time::SystemTime::now(),
            )
            .unwrap();
            assert_eq!(bundle.leaf_der().as_ref(), leaf.as_slice());
            bundle.fingerprint()
        };
        let seen = wait(&mut self.status, |s| s.published.as_ref() == Some(&fp)).await;
        assert!(seen, "not published: {:?}", *self.status.borrow());
        self.status.borrow().clone()
    }
}

/// Waits up to 20 s for the status to satisfy `f`.
async fn wait(
    rx: &mut channel::Receiver<PipelineStatus>,
    f: impl FnMut(&PipelineStatus) -> bool,
) -> bool {
    tokio::time::timeout(Duration::from_secs(30), rx.wait_for(f))
        .await
        .is_ok_and(|r| r.is_ok())
}

fn first_cert_block(pem: &str) -> String {
    ako_runtime::istio::objects::certificate_blocks(pem)
        .into_iter()
        .next()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_publishes_then_a_restart_writes_nothing() {
    let w = world().await;
    let cert = w.issue();
    w.write(&cert);
    {
        let mut running = w.start();
        let s = running.published(&cert).await;
        assert_eq!((s.avi_writes, s.secret_writes), (2, 1));
    }
    let stored = w.stored_cert().unwrap();
    assert_eq!(
        first_cert_block(stored.certificate.certificate.as_deref().unwrap()),
        first_cert_block(&cert.cert_chain_pem)
    );
    assert_eq!(stored.created_by.as_deref(), Some("ako-cluster"));
    let pki: PkiProfile = w
        .avi_client
        .get_by_name(&names().pki_profile())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pki.ca_certs.len(), 1);
    let secret = w.secret().await.unwrap();
    assert_eq!(secret.data.as_ref().unwrap().len(), 3);

    // A restart with the same files: 0 Avi writes, 0 Secret writes.
    let (pki_before, cert_before) = (w.writes("pkiprofile"), w.writes("sslkeyandcertificate"));
    let patches_before = w.kube.count("PATCH", "secrets", None);
    let mut again = w.start();
    let s = again.published(&cert).await;
    assert_eq!((s.avi_writes, s.secret_writes), (0, 0));
    assert_eq!(w.writes("pkiprofile"), pki_before);
    assert_eq!(w.writes("sslkeyandcertificate"), cert_before);
    assert_eq!(w.kube.count("PATCH", "secrets", None), patches_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_without_the_directory_waits_for_it() {
    let w = world().await;
    std::fs::remove_dir(w.dir.path()).unwrap();
    let mut running = w.start();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(running.status.borrow().publications, 0);
    assert!(w.stored_cert().is_none());
    std::fs::create_dir(w.dir.path()).unwrap();
    let cert = w.issue();
    w.write(&cert);
    running.published(&cert).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaf_rotation_is_one_avi_write_and_a_root_rotation_writes_the_root_first() {
    let mut w = world().await;
    let first = w.issue();
    w.write(&first);
    let mut running = w.start();
    running.published(&first).await;

    let pki_before = w.writes("pkiprofile");
    let cert_before = w.writes("sslkeyandcertificate");
    let leaf = w.issue();
    w.write(&leaf);
    running.published(&leaf).await;
    assert_eq!(
        w.writes("pkiprofile"),
        pki_before,
        "same root: PKIProfile untouched"
    );
    assert_eq!(w.writes("sslkeyandcertificate"), cert_before + 1);

    // A new root (a new CA): the PKIProfile is written before the certificate.
    w.ca = IstioCa::new(CaOptions::default()).unwrap();
    let rooted = w.issue();
    w.avi.clear_log();
    w.write(&rooted);
    running.published(&rooted).await;
    let writes: Vec<String> = w
        .avi
        .request_log()
        .into_iter()
        .filter(|e| e.method == "PUT")
        .filter_map(|e| e.object_type)
        .collect();
    assert_eq!(writes, ["pkiprofile", "sslkeyandcertificate"]);
    assert_eq!(w.rejected(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_rotations_never_reach_avi() {
    let w = world().await;
    let first = w.issue();
    w.write(&first);
    let mut running = w.start();
    running.published(&first).await;
    let writer = OutputCertsWriter::new(w.dir.path());
    let mut last = first;
    for _ in 0..10 {
        let next = w.issue();
        // istio-agent's renames, with pauses between them long enough for reads in between.
        writer.write_files(Some(&next.key_pem), None, None).unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        writer
            .write_files(None, Some(&next.cert_chain_pem), None)
            .unwrap();
        last = next;
    }
    running.published(&last).await;
    // avi-sim refuses a key that does not match its certificate with 400: none was sent.
    assert_eq!(w.rejected(), 0);
    let stored = w.stored_cert().unwrap();
    assert_eq!(
        first_cert_block(stored.certificate.certificate.as_deref().unwrap()),
        first_cert_block(&last.cert_chain_pem)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avi_down_during_a_rotation_is_retried_until_it_is_back() {
    let w = world().await;
    let first = w.issue();
    w.write(&first);
    let mut running = w.start();
    running.published(&first).await;

    w.avi.add_fault(FaultRule {
        error_rate: 1.0,
        status: 503,
        ..FaultRule::default()
    });
    let next = w.issue();
    w.write(&next);
    let failing = wait(&mut running.status, |s| s.failures >= 3).await;
    assert!(failing, "{:?}", *running.status.borrow());
    assert!(running.status.borrow().last_error.is_some());
    w.avi.clear_faults();
    running.published(&next).await;
    assert!(running.status.borrow().last_error.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_set_replaces_a_pending_retry() {
    let w = world().await;
    let first = w.issue();
    w.write(&first);
    let mut running = w.start();
    running.published(&first).await;
    w.avi.add_fault(FaultRule {
        method: Some("PUT".into()),
        error_rate: 1.0,
        status: 503,
        ..FaultRule::default()
    });
    let stale = w.issue();
    w.write(&stale);
    assert!(wait(&mut running.status, |s| s.failures >= 1).await);
    let latest = w.issue();
    w.write(&latest);
    tokio::time::sleep(Duration::from_millis(100)).await;
    w.avi.clear_faults();
    running.published(&latest).await;
    let stored = w.stored_cert().unwrap();
    assert_eq!(
        first_cert_block(stored.certificate.certificate.as_deref().unwrap()),
        first_cert_block(&latest.cert_chain_pem)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istio_secret_deleted_by_hand_is_written_again() {
    let w = world().await;
    let cert = w.issue();
    w.write(&cert);
    let mut running = w.start();
    running.published(&cert).await;
    Api::<Secret>::namespaced(w.kube_client.clone(), NS)
        .delete(SECRET_NAME, &DeleteParams::default())
        .await
        .unwrap();
    let back = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if w.secret().await.is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(back.is_ok(), "istio-secret was not recreated");
    assert!(wait(&mut running.status, |s| s.secret_writes >= 2).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istio_disabled_removes_what_no_pool_uses_and_keeps_what_one_does() {
    let w = world().await;
    let cert = w.issue();
    w.write(&cert);
    {
        let mut running = w.start();
        running.published(&cert).await;
    }
    let publisher = Publisher::new(w.avi_client.clone(), w.kube_client.clone(), names());

    // A pool of the gateway container still uses both objects: they stay.
    let pool = Pool {
        name: "uses-istio".into(),
        created_by: Some("ako-gw-cluster-avi-system".into()),
        pki_profile_ref: Some(AviRef::by_name(names().pki_profile())),
        ssl_key_and_certificate_ref: Some(AviRef::by_name(names().ssl_key_and_certificate())),
        ..Pool::default()
    };
    w.avi_client.create(&pool).await.unwrap();
    let removed = publisher.remove().await.unwrap();
    assert_eq!(removed.kept.len(), 2, "{removed:?}");
    assert_eq!(removed.kept[0].1, ["uses-istio"]);
    assert!(w.stored_cert().is_some());
    assert!(removed.deleted.contains(&format!("secret/{SECRET_NAME}")));

    // Once no pool uses them, they go.
    w.avi_client
        .delete_by_name::<Pool>("uses-istio", Some("ako-gw-cluster-avi-system"))
        .await
        .unwrap();
    let removed = publisher.remove().await.unwrap();
    assert_eq!(removed.deleted.len(), 2, "{removed:?}");
    assert!(w.stored_cert().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_object_squatting_the_name_is_reported_not_touched() {
    let w = world().await;
    let squatter = PkiProfile {
        name: names().pki_profile(),
        created_by: Some("someone-else".into()),
        ..PkiProfile::default()
    };
    w.avi_client.create(&squatter).await.unwrap();
    let cert = w.issue();
    w.write(&cert);
    let mut running = w.start();
    let reported = wait(&mut running.status, |s| {
        matches!(&s.last_error, Some(("OwnershipConflict", _)))
    })
    .await;
    assert!(reported, "{:?}", *running.status.borrow());
    let still: PkiProfile = w
        .avi_client
        .get_by_name(&names().pki_profile())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.created_by.as_deref(), Some("someone-else"));
    assert!(still.ca_certs.is_empty());
    assert!(
        w.stored_cert().is_none(),
        "nothing is written past the conflict"
    );
    let publisher = Publisher::new(w.avi_client.clone(), w.kube_client.clone(), names());
    let removed = publisher.remove().await.unwrap();
    assert!(removed.deleted.iter().all(|d| !d.starts_with("pkiprofile")));
}

/// A start over the Secret of an earlier set (a rotation while stopped): the watch's first list
/// can show the old Secret after the new one is written. The live Secret decides, so each start
/// writes it exactly once (it was written twice about once in seven starts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_over_an_older_secret_writes_it_once() {
    let w = world().await;
    for round in 0..5 {
        let cert = w.issue();
        w.write(&cert);
        let before = w.kube.count("PATCH", "secrets", None);
        let mut running = w.start();
        let s = running.published(&cert).await;
        // Time for a late first list (or a stale event) to arrive and be answered.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let status = running.status.borrow().clone();
        assert_eq!(
            w.kube.count("PATCH", "secrets", None) - before,
            1,
            "round {round}: {s:?} then {status:?}"
        );
        assert_eq!(status.secret_writes, 1, "round {round}");
    }
}
