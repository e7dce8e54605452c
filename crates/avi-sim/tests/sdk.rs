//! The official Avi Python SDK (`pip install avisdk`, `avi.sdk.avi_api.ApiSession`) against the
//! emulator over HTTPS: `tests/python/test_avisdk.py` logs in, imports certificates, builds a
//! pool on them, updates, deletes, switches tenants and survives session expiry through the
//! SDK's own re-login. This file starts the emulator, hands the script its CA and a real
//! certificate set, and checks afterwards, from the emulator's side, what the script did.
//!
//! Needs `python3` with pip. When `avisdk` is not importable, the test installs it itself
//! (`pip install --target` into a directory under `target/`, put on `PYTHONPATH`), so the
//! README's `cargo test --workspace` works on a fresh machine; it fails, never skips, when that
//! cannot be done.

use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use avi_sim::{AviSim, RunningSim, SimConfig};
use istio_sim::{CaOptions, IstioCa, KeyAlg, WorkloadCert, WorkloadRequest};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/test_avisdk.py");
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);
const TENANT: &str = "sdk-tenant";

/// Where the test installs the SDK when the machine has none.
fn sdk_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("avisdk")
}

/// `python3` without the machine's CA bundle overrides: Python requests lets them replace a
/// session's `verify`, and the SDK passes `verify=` only on `/login`. The test's own SDK
/// directory, if any, is on `PYTHONPATH`.
fn python() -> Command {
    let mut cmd = Command::new("python3");
    cmd.env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    let dir = sdk_dir();
    if dir.is_dir() {
        let path = match std::env::var_os("PYTHONPATH") {
            Some(p) if !p.is_empty() => {
                let mut joined = dir.into_os_string();
                joined.push(":");
                joined.push(p);
                joined
            }
            _ => dir.into_os_string(),
        };
        cmd.env("PYTHONPATH", path);
    }
    cmd
}

fn sdk_importable() -> Result<bool, std::io::Error> {
    python()
        .args(["-c", "import avi.sdk.avi_api"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
}

/// Makes the SDK importable: as installed, or installed by this test into [`sdk_dir`]. Fails
/// (never skips) when neither works. The tests of this file share one installation.
fn require_sdk() {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    match sdk_importable() {
        Err(e) => panic!("cannot run python3 ({e}); this test needs Python 3 with pip"),
        Ok(true) => return,
        Ok(false) => {}
    }
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--target",
        ])
        .arg(sdk_dir())
        .arg("avisdk")
        .output()
        .expect("python3 -m pip");
    assert!(
        out.status.success(),
        "`python3 -m pip install --target {} avisdk` failed:\n{}",
        sdk_dir().display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        sdk_importable().unwrap_or(false),
        "avisdk installed into {} but `import avi.sdk.avi_api` still fails",
        sdk_dir().display()
    );
}

fn certificate_set() -> WorkloadCert {
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        ..Default::default()
    })
    .expect("CA");
    ca.issue(&WorkloadRequest {
        key_alg: KeyAlg::EcdsaP256,
        ..Default::default()
    })
    .expect("workload certificate")
}

struct ScriptRun {
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs the script with output to files (no pipe to fill up) and a deadline.
fn run_script(sim: &RunningSim, dir: &Path) -> ScriptRun {
    let out_path = dir.join("stdout.txt");
    let err_path = dir.join("stderr.txt");
    let started = Instant::now();
    let mut child = python()
        .arg(SCRIPT)
        .args(["--controller", "127.0.0.1", "--port"])
        .arg(sim.addr().port().to_string())
        .arg("--ca-file")
        .arg(dir.join("ca.pem"))
        .arg("--certs-dir")
        .arg(dir)
        .args(["--username", &sim.config().username])
        .args(["--api-version", &sim.config().version])
        .env("AVI_PASSWORD", &sim.config().password)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn python3");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for python3") {
            break Some(status);
        }
        if started.elapsed() > SCRIPT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    ScriptRun {
        status,
        stdout: read(&out_path),
        stderr: read(&err_path),
        elapsed: started.elapsed(),
    }
}

/// Requests answered with `status`, other than `/login` itself.
fn answered(sim: &RunningSim, status: u16) -> u64 {
    sim.counters()
        .iter()
        .filter(|c| c.status == status && c.object_type != "login")
        .map(|c| c.count)
        .sum()
}

async fn sdk_against_sim(expired_status: u16) {
    require_sdk();
    let sim = AviSim::builder()
        .config(SimConfig {
            tls: true,
            expired_status,
            ..SimConfig::default()
        })
        .start()
        .await
        .expect("start avi-sim");
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = certificate_set();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect(name);
    write("ca.pem", sim.ca_pem().expect("TLS is on"));
    write("root-cert.pem", &cert.root_cert_pem);
    write("cert-chain.pem", &cert.cert_chain_pem);
    write("key.pem", &cert.key_pem);

    let sim = std::sync::Arc::new(sim);
    let run = {
        let (sim, dir) = (sim.clone(), dir.path().to_owned());
        tokio::task::spawn_blocking(move || run_script(&sim, &dir))
            .await
            .expect("script runner")
    };
    let report = format!(
        "--- stdout\n{}--- stderr\n{}",
        run.stdout.trim_end_matches('\n').to_owned() + "\n",
        run.stderr
    );
    match run.status {
        None => panic!(
            "test_avisdk.py did not finish in {SCRIPT_TIMEOUT:?} (expired status \
             {expired_status})\n{report}"
        ),
        Some(s) if s.code() == Some(3) => {
            panic!("the Avi SDK is missing: run `python3 -m pip install avisdk`\n{report}")
        }
        Some(s) if !s.success() => {
            panic!("test_avisdk.py failed ({s}; expired status {expired_status})\n{report}")
        }
        Some(_) => {}
    }
    println!(
        "test_avisdk.py passed in {:.2?} (expired status {expired_status})\n{}",
        run.elapsed, run.stdout
    );

    // Logins: the admin session's first one, one after each of the three expiries, the tenant
    // session's first one and its re-login after the third expiry. Each re-login answered a
    // single `expired_status` on an API call; no CSRF failure (401) otherwise.
    assert_eq!(
        sim.count("POST", "login", Some(200)),
        6,
        "{:?}",
        sim.counters()
    );
    assert_eq!(
        sim.count("POST", "login", Some(401)),
        1,
        "the wrong password"
    );
    assert_eq!(answered(&sim, expired_status), 4, "{:?}", sim.counters());
    if expired_status != 401 {
        assert_eq!(answered(&sim, 401), 0, "{:?}", sim.counters());
    }
    // The in-use deletes were refused, the ordered ones done.
    assert_eq!(sim.count("DELETE", "pkiprofile", Some(403)), 2);
    assert_eq!(sim.count("DELETE", "sslkeyandcertificate", Some(403)), 1);
    assert_eq!(sim.count("DELETE", "pkiprofile", Some(204)), 1);
    assert_eq!(sim.count("DELETE", "sslkeyandcertificate", Some(204)), 1);
    assert_eq!(sim.count("PUT", "pool", Some(200)), 1);
    // The SDK sent the tenant header per call and from the tenant's session.
    let log = sim.request_log();
    assert!(
        log.iter()
            .any(|e| e.tenant.as_deref() == Some(TENANT) && e.method == "POST"),
        "no write with X-Avi-Tenant: {TENANT}"
    );
    // Every API call names its tenant; the one `tenant_uuid=` call sends X-Avi-Tenant-UUID
    // instead (not in the log).
    let untenanted: Vec<_> = log
        .iter()
        .filter(|e| e.object_type.as_deref() != Some("login") && e.tenant.is_none())
        .collect();
    assert_eq!(untenanted.len(), 1, "{untenanted:#?}");
    assert!(
        untenanted[0]
            .path
            .starts_with("/api/pool?name=sdk-tenant-scratch")
    );

    // What is left: the tenant with its certificate and the pool that refers to it.
    sim.with_store(|s| {
        let tenant = s
            .all_objects()
            .into_iter()
            .find(|o| o.ty == "tenant" && o.name == TENANT)
            .map(|o| o.uuid.clone())
            .expect("tenant left by the script");
        let ours: Vec<_> = s
            .all_objects()
            .into_iter()
            .filter(|o| o.name.starts_with("sdk-"))
            .collect();
        let mut names: Vec<(&str, &str)> = ours
            .iter()
            .map(|o| (o.ty.as_str(), o.name.as_str()))
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                ("pool", "sdk-tenant-pool"),
                ("sslkeyandcertificate", "sdk-tenant-kc"),
                ("tenant", TENANT),
            ]
        );
        let kc = ours
            .iter()
            .find(|o| o.ty == "sslkeyandcertificate")
            .expect("kc");
        let pool = ours.iter().find(|o| o.ty == "pool").expect("pool");
        assert_eq!(kc.tenant, tenant);
        assert_eq!(pool.tenant, tenant);
        assert_eq!(
            kc.secret.as_deref(),
            Some(cert.key_pem.as_str()),
            "the key survives a GET -> PUT echoing <sensitive>"
        );
        assert!(
            !serde_json::to_string(&kc.body)
                .expect("json")
                .contains("PRIVATE KEY"),
            "the key is kept out of the body"
        );
        assert_eq!(
            s.referrers_of("sslkeyandcertificate", &kc.uuid),
            [("pool".to_owned(), pool.uuid.clone())]
        );
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn avisdk_drives_the_emulator_over_https() {
    sdk_against_sim(401).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn avisdk_relogs_in_on_419() {
    sdk_against_sim(419).await;
}
