//! kubectl (1.32) against kube-sim: the emulator runs in-process on an ephemeral port, its
//! kubeconfig goes to a temporary directory, and each kubectl command runs as a subprocess with
//! a timeout (and its own `--cache-dir`, so no discovery or OpenAPI cache is shared with the
//! machine or between tests).
//!
//! Covered: `kubectl apply --server-side -f` of the Gateway API v1.5.1 standard CRDs and then of
//! a GatewayClass, a Gateway and an HTTPRoute; `get -o json`; `get -w` seeing a change made by
//! `patch --type=merge`; `describe` (with the object's events, listed by an `involvedObject.*`
//! field selector); `delete`; the same verbs for ConfigMaps and Namespaces, and client-side
//! `kubectl apply`. kubectl decides from the OpenAPI v3 documents kube-sim serves that the
//! server validates fields: it sends `fieldValidation=Strict` and does no client-side schema
//! validation (which would need the protobuf OpenAPI v2 schemas).
//!
//! Not covered: the file `gateway.networking.k8s.io_vap_safeupgrades.yaml` of the CRD bundle
//! (a ValidatingAdmissionPolicy and its binding: kube-sim serves no `admissionregistration.k8s.io`,
//! so it is left out of the apply), and kubectl's typed generators (`kubectl create configmap
//! ...`, `kubectl create namespace ...`): they send protobuf bodies, which kube-sim answers with
//! 415 (it speaks JSON only).
//!
//! When `kubectl` is not on PATH the tests print why and return without checking anything; so
//! does the Gateway API test when the CRD bundle is missing (it is read from
//! `../shared/reference/gateway-api-v1.5.1/config/crd/standard` beside the repository, as every
//! developer and CI have it, or `$GATEWAY_API_CRDS`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kube_sim::{KubeSim, SimConfig};
use serde_json::Value;

/// The bound of every kubectl run.
const TIMEOUT: Duration = Duration::from_secs(60);
/// How long a background `kubectl get -w` may take to show a change.
const WATCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the Gateway API v1.5.1 standard-channel CRDs are (`GATEWAY_API_CRDS` overrides).
const CRD_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/gateway-api-v1.5.1/config/crd/standard"
);
/// The one file of the bundle that is not a CRD (see the module documentation).
const VAP_FILE: &str = "gateway.networking.k8s.io_vap_safeupgrades.yaml";

const GATEWAY_MANIFEST: &str = r#"apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: avi-lb
spec:
  controllerName: ako.vmware.com/avi-lb
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
  namespace: default
spec:
  gatewayClassName: avi-lb
  listeners:
  - name: http
    protocol: HTTP
    port: 80
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web-route
  namespace: default
spec:
  parentRefs:
  - name: web
  hostnames: ["web.example.com"]
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /
    backendRefs:
    - name: web-svc
      port: 8080
"#;

/// `kubectl` on PATH, or None (after printing why the test is skipped).
fn find_kubectl() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("kubectl"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!(
            "skipping: kubectl is not on PATH (these tests drive kubectl 1.32 against kube-sim)"
        );
    }
    found
}

/// What a finished kubectl run left.
#[derive(Debug)]
struct Out {
    args: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    /// Panics unless kubectl exited 0.
    fn ok(self) -> Out {
        assert_eq!(
            self.code,
            Some(0),
            "kubectl {} failed\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics unless kubectl exited non-zero.
    fn failed(self) -> Out {
        assert!(
            self.code.is_some_and(|c| c != 0),
            "kubectl {} should have failed\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("kubectl {}: not JSON ({e}):\n{}", self.args, self.stdout))
    }
}

/// Runs kubectl against one kube-sim, with files in one temporary directory.
struct Kubectl {
    bin: PathBuf,
    dir: tempfile::TempDir,
    runs: AtomicUsize,
}

impl Kubectl {
    fn new(bin: PathBuf, sim: &KubeSim) -> Kubectl {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("kubeconfig"), sim.kubeconfig()).expect("write kubeconfig");
        Kubectl {
            bin,
            dir,
            runs: AtomicUsize::new(0),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a manifest into the temporary directory.
    fn manifest(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write manifest");
        p
    }

    /// Starts kubectl with stdout and stderr going to fresh files.
    fn spawn(&self, args: &[&str]) -> (Child, PathBuf, PathBuf) {
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        let (out, err) = (
            self.path(&format!("run{n}.out")),
            self.path(&format!("run{n}.err")),
        );
        let child = Command::new(&self.bin)
            .args(args)
            .arg(format!("--cache-dir={}", self.path("cache").display()))
            .env("KUBECONFIG", self.path("kubeconfig"))
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("stdout file"))
            .stderr(File::create(&err).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()));
        (child, out, err)
    }

    /// Runs kubectl to completion (killed, and the test failed, after [`TIMEOUT`]).
    async fn run(&self, args: &[&str]) -> Out {
        let (mut child, out, err) = self.spawn(args);
        let joined = args.join(" ");
        let code = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + TIMEOUT;
            loop {
                if let Some(status) = child.try_wait().expect("wait for kubectl") {
                    return Ok(status.code());
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .await
        .expect("join");
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let (stdout, stderr) = (read(&out), read(&err));
        match code {
            Ok(code) => Out {
                args: joined,
                code,
                stdout,
                stderr,
            },
            Err(()) => panic!(
                "kubectl {joined} timed out after {TIMEOUT:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
            ),
        }
    }
}

/// A background `kubectl ... -w`, killed when dropped.
struct Watch {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Watch {
    fn start(k: &Kubectl, args: &[&str]) -> Watch {
        let (child, out, err) = k.spawn(args);
        Watch { child, out, err }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits until the output has a line for which `done` holds (or panics after
    /// [`WATCH_TIMEOUT`], or when kubectl exits first); returns all output.
    async fn until(&mut self, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WATCH_TIMEOUT;
        loop {
            let out = self.output();
            if out.lines().any(&done) {
                return out;
            }
            let exited = self.child.try_wait().expect("wait for kubectl");
            if exited.is_some() || Instant::now() > deadline {
                let err = std::fs::read_to_string(&self.err).unwrap_or_default();
                panic!(
                    "kubectl watch ended ({exited:?}) or timed out without the expected line\nstdout:\n{out}\nstderr:\n{err}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start() -> Option<(KubeSim, Kubectl)> {
    let bin = find_kubectl()?;
    let sim = KubeSim::start(SimConfig::default())
        .await
        .expect("start kube-sim");
    let k = Kubectl::new(bin, &sim);
    Some((sim, k))
}

#[tokio::test(flavor = "multi_thread")]
async fn gateway_api_crds_and_objects() {
    let Some((sim, k)) = start().await else {
        return;
    };

    // The standard-channel CRDs, all files but the admission policy.
    let dir =
        std::env::var_os("GATEWAY_API_CRDS").map_or_else(|| PathBuf::from(CRD_DIR), PathBuf::from);
    // shared/ is part of every checkout's surroundings: its absence is a broken setup, not a skip.
    assert!(
        dir.is_dir(),
        "no Gateway API CRD bundle at {} (set GATEWAY_API_CRDS)",
        dir.display()
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the Gateway API CRD bundle")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let skipped: Vec<&PathBuf> = files.iter().filter(|p| p.ends_with(VAP_FILE)).collect();
    assert_eq!(skipped.len(), 1, "the bundle should hold {VAP_FILE}");
    files.retain(|p| !p.ends_with(VAP_FILE));
    assert_eq!(files.len(), 8, "{files:?}");
    let mut args = vec![
        "apply".to_owned(),
        "--server-side".to_owned(),
        "-v=6".to_owned(),
    ];
    for f in &files {
        args.push("-f".to_owned());
        args.push(f.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = k.run(&args).await.ok();
    for crd in [
        "gatewayclasses",
        "gateways",
        "httproutes",
        "grpcroutes",
        "referencegrants",
        "backendtlspolicies",
        "listenersets",
        "tlsroutes",
    ] {
        assert!(
            out.stdout.contains(&format!("customresourcedefinition.apiextensions.k8s.io/{crd}.gateway.networking.k8s.io serverside-applied")),
            "{crd} missing:\n{}",
            out.stdout
        );
    }
    // Server-side field validation, chosen from the OpenAPI v3 documents.
    assert!(
        out.stderr.contains("fieldValidation=Strict"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("/openapi/v2"),
        "client-side validation was attempted:\n{}",
        out.stderr
    );
    let crds = k.run(&["get", "crd", "-o", "json"]).await.ok().json();
    assert_eq!(crds["items"].as_array().map(Vec::len), Some(8), "{crds}");

    // The objects.
    let manifest = k.manifest("gateway.yaml", GATEWAY_MANIFEST);
    let out = k
        .run(&[
            "apply",
            "--server-side",
            "-f",
            &manifest.display().to_string(),
            "-v=6",
        ])
        .await
        .ok();
    for line in [
        "gatewayclass.gateway.networking.k8s.io/avi-lb serverside-applied",
        "gateway.gateway.networking.k8s.io/web serverside-applied",
        "httproute.gateway.networking.k8s.io/web-route serverside-applied",
    ] {
        assert!(out.stdout.contains(line), "{line} missing:\n{}", out.stdout);
    }
    assert!(
        out.stderr.contains("fieldValidation=Strict"),
        "{}",
        out.stderr
    );
    let out = k.run(&["get", "gatewayclass,gateway,httproute"]).await.ok();
    for name in [
        "gatewayclass.gateway.networking.k8s.io/avi-lb",
        "gateway.gateway.networking.k8s.io/web",
        "httproute.gateway.networking.k8s.io/web-route",
    ] {
        assert!(out.stdout.contains(name), "{name} missing:\n{}", out.stdout);
    }

    // get -o json: the preferred version (v1, not v1beta1) and the applied spec.
    let gw = k
        .run(&["get", "gateway", "web", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(gw["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_eq!(gw["kind"], "Gateway");
    assert_eq!(gw["spec"]["gatewayClassName"], "avi-lb");
    assert_eq!(gw["spec"]["listeners"][0]["port"], 80);
    let route = k
        .run(&[
            "get",
            "httproute",
            "web-route",
            "-n",
            "default",
            "-o",
            "json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(route["spec"]["parentRefs"][0]["name"], "web");
    assert_eq!(route["spec"]["hostnames"][0], "web.example.com");
    let class = k
        .run(&["get", "gatewayclass", "avi-lb", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(class["spec"]["controllerName"], "ako.vmware.com/avi-lb");
    assert!(class["metadata"].get("namespace").is_none(), "{class}");

    // get -w sees a merge patch.
    let mut watch = Watch::start(
        &k,
        &[
            "get",
            "gateway",
            "web",
            "-w",
            "-o",
            "jsonpath={.metadata.resourceVersion} {.spec.listeners[0].port}{\"\\n\"}",
        ],
    );
    let first = watch.until(|l| l.ends_with(" 80")).await;
    let patch = r#"{"spec":{"listeners":[{"name":"http","protocol":"HTTP","port":8080}]}}"#;
    let out = k
        .run(&["patch", "gateway", "web", "--type=merge", "-p", patch])
        .await
        .ok();
    assert!(
        out.stdout
            .contains("gateway.gateway.networking.k8s.io/web patched"),
        "{}",
        out.stdout
    );
    let seen = watch.until(|l| l.ends_with(" 8080")).await;
    drop(watch);
    assert!(seen.starts_with(first.trim_end()), "{seen}");
    let gw = k
        .run(&["get", "gateway", "web", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(gw["spec"]["listeners"][0]["port"], 8080);
    assert_eq!(gw["metadata"]["generation"], 2);
    let stored = sim.with_store(|s| {
        let res = s
            .find("gateway.networking.k8s.io", "v1", "gateways")
            .expect("gateways served");
        s.get(&res, "default", "web").expect("gateway stored")
    });
    assert_eq!(stored["spec"]["listeners"][0]["port"], 8080);

    // describe, with an event about the Gateway.
    let uid = gw["metadata"]["uid"].as_str().expect("uid").to_owned();
    let event = format!(
        "apiVersion: v1\nkind: Event\nmetadata:\n  name: web.programmed\n  namespace: default\ninvolvedObject:\n  apiVersion: gateway.networking.k8s.io/v1\n  kind: Gateway\n  name: web\n  namespace: default\n  uid: {uid}\nreason: Programmed\nmessage: gateway programmed on Avi\ntype: Normal\nsource:\n  component: ako\ncount: 1\nfirstTimestamp: \"2026-01-01T00:00:00Z\"\nlastTimestamp: \"2026-01-01T00:00:00Z\"\n"
    );
    let event = k.manifest("event.yaml", &event);
    k.run(&["apply", "--server-side", "-f", &event.display().to_string()])
        .await
        .ok();
    let out = k.run(&["describe", "gateway", "web"]).await.ok();
    for needle in [
        "Name:         web",
        "Namespace:    default",
        "Kind:         Gateway",
        "Gateway Class Name:  avi-lb",
        "Port:      8080",
        "Programmed",
        "gateway programmed on Avi",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle:?} missing:\n{}",
            out.stdout
        );
    }
    let out = k.run(&["describe", "httproute", "web-route"]).await.ok();
    assert!(out.stdout.contains("web.example.com"), "{}", out.stdout);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("Events:") && l.ends_with("<none>")),
        "{}",
        out.stdout
    );

    // delete: one by name, the rest by manifest.
    let out = k.run(&["delete", "httproute", "web-route"]).await.ok();
    assert!(
        out.stdout
            .contains("httproute.gateway.networking.k8s.io \"web-route\" deleted"),
        "{}",
        out.stdout
    );
    let out = k
        .run(&[
            "delete",
            "--ignore-not-found",
            "-f",
            &manifest.display().to_string(),
        ])
        .await
        .ok();
    assert!(
        out.stdout
            .contains("gateway.gateway.networking.k8s.io \"web\" deleted"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("gatewayclass.gateway.networking.k8s.io \"avi-lb\" deleted"),
        "{}",
        out.stdout
    );
    let out = k.run(&["get", "gateway", "web"]).await.failed();
    assert!(
        out.stderr.contains("NotFound") || out.stderr.contains("not found"),
        "{}",
        out.stderr
    );
    let out = k
        .run(&["get", "gatewayclass,gateway,httproute", "-A"])
        .await
        .ok();
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn configmaps_and_namespaces() {
    let Some((sim, k)) = start().await else {
        return;
    };

    let ns = k.manifest(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  labels:\n    team: a\n",
    );
    let out = k
        .run(&[
            "apply",
            "--server-side",
            "-f",
            &ns.display().to_string(),
            "-v=6",
        ])
        .await
        .ok();
    assert!(
        out.stdout.contains("namespace/team-a serverside-applied"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("fieldValidation=Strict"),
        "{}",
        out.stderr
    );
    let out = k.run(&["get", "ns"]).await.ok();
    for name in ["default", "kube-system", "team-a"] {
        assert!(out.stdout.contains(name), "{name} missing:\n{}", out.stdout);
    }
    let got = k
        .run(&["get", "ns", "team-a", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(got["status"]["phase"], "Active");
    assert_eq!(got["metadata"]["labels"]["team"], "a");

    let cm = k.manifest("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team-a\ndata:\n  mode: blue\n");
    let out = k
        .run(&[
            "apply",
            "--server-side",
            "-f",
            &cm.display().to_string(),
            "-v=6",
        ])
        .await
        .ok();
    assert!(
        out.stdout.contains("configmap/settings serverside-applied"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("fieldValidation=Strict"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("/openapi/v2"),
        "client-side validation was attempted:\n{}",
        out.stderr
    );

    // A `kind: List` is the one case kubectl still validates on the client: it reads the
    // (protobuf) OpenAPI v2 document, finds no schema there and sends the items on.
    let list = k.manifest(
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: listed\n    namespace: team-a\n  data:\n    x: y\n",
    );
    let out = k
        .run(&[
            "apply",
            "--server-side",
            "-f",
            &list.display().to_string(),
            "-v=6",
        ])
        .await
        .ok();
    assert!(
        out.stdout.contains("configmap/listed serverside-applied"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("/openapi/v2?timeout=32s 200 OK"),
        "{}",
        out.stderr
    );

    // A list watch (with event types) sees a merge patch and the deletion.
    let mut watch = Watch::start(
        &k,
        &[
            "get",
            "configmaps",
            "-n",
            "team-a",
            "-w",
            "--output-watch-events",
        ],
    );
    watch
        .until(|l| l.starts_with("ADDED") && l.contains("settings"))
        .await;
    let out = k
        .run(&[
            "patch",
            "configmap",
            "settings",
            "-n",
            "team-a",
            "--type=merge",
            "-p",
            r#"{"data":{"mode":"green"}}"#,
        ])
        .await
        .ok();
    assert!(
        out.stdout.contains("configmap/settings patched"),
        "{}",
        out.stdout
    );
    watch
        .until(|l| l.starts_with("MODIFIED") && l.contains("settings"))
        .await;
    let got = k
        .run(&["get", "cm", "settings", "-n", "team-a", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(got["data"]["mode"], "green");

    let out = k
        .run(&["describe", "configmap", "settings", "-n", "team-a"])
        .await
        .ok();
    assert!(
        out.stdout.contains("Name:         settings"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("green"), "{}", out.stdout);

    // Client-side apply (three-way strategic merge patch from kubectl's compiled-in types).
    let cm2 = k.manifest("cm2.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: team-a\ndata:\n  a: \"1\"\n");
    let out = k
        .run(&["apply", "-f", &cm2.display().to_string()])
        .await
        .ok();
    assert!(
        out.stdout.contains("configmap/other created"),
        "{}",
        out.stdout
    );
    std::fs::write(&cm2, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: team-a\ndata:\n  b: \"2\"\n").expect("rewrite");
    let out = k
        .run(&["apply", "-f", &cm2.display().to_string()])
        .await
        .ok();
    assert!(
        out.stdout.contains("configmap/other configured"),
        "{}",
        out.stdout
    );
    let got = k
        .run(&["get", "cm", "other", "-n", "team-a", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(got["data"], serde_json::json!({"b": "2"}));

    let out = k
        .run(&["delete", "configmap", "settings", "-n", "team-a"])
        .await
        .ok();
    assert!(
        out.stdout.contains("configmap \"settings\" deleted"),
        "{}",
        out.stdout
    );
    watch
        .until(|l| l.starts_with("DELETED") && l.contains("settings"))
        .await;
    drop(watch);

    let out = k.run(&["delete", "ns", "team-a"]).await.ok();
    assert!(
        out.stdout.contains("namespace \"team-a\" deleted"),
        "{}",
        out.stdout
    );
    k.run(&["get", "ns", "team-a"]).await.failed();
    let cms = sim.with_store(|s| {
        let res = s.find("", "v1", "configmaps").expect("configmaps served");
        s.list(&res, Some("team-a"), &Default::default())
            .expect("list")
            .items
    });
    assert!(cms.is_empty(), "{cms:?}");
}

/// The `create` generators send protobuf (`-v=8` shows the request's Content-Type); label,
/// annotate, describe, an edit-style patch and delete by label work on what they made.
#[tokio::test(flavor = "multi_thread")]
async fn create_generators_and_everyday_verbs() {
    let Some((_sim, k)) = start().await else {
        return;
    };
    let out = k.run(&["create", "namespace", "team-b", "-v=8"]).await.ok();
    assert!(
        out.stdout.contains("namespace/team-b created"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("Content-Type: application/vnd.kubernetes.protobuf"),
        "kubectl did not send protobuf:\n{}",
        out.stderr
    );
    for args in [
        &[
            "create",
            "configmap",
            "settings",
            "-n",
            "team-b",
            "--from-literal=mode=blue",
            "--from-literal=empty=",
        ][..],
        &[
            "create",
            "secret",
            "generic",
            "db",
            "-n",
            "team-b",
            "--from-literal=password=hunter2",
        ],
        &["create", "serviceaccount", "bot", "-n", "team-b"],
        &[
            "create",
            "service",
            "clusterip",
            "web",
            "--tcp=80:8080",
            "-n",
            "team-b",
        ],
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=0",
            "-n",
            "team-b",
        ],
        &[
            "create",
            "ingress",
            "web",
            "--class=avi-lb",
            "--rule=web.example.com/*=web:80",
            "-n",
            "team-b",
        ],
    ] {
        let out = k.run(args).await.ok();
        assert!(out.stdout.contains("created"), "{args:?}: {}", out.stdout);
    }
    let cm = k
        .run(&["get", "configmap", "settings", "-n", "team-b", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(cm["data"], serde_json::json!({"mode": "blue", "empty": ""}));
    assert!(cm["metadata"]["uid"].is_string());
    let secret = k
        .run(&["get", "secret", "db", "-n", "team-b", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
    assert_eq!(secret["type"], "Opaque");
    let svc = k
        .run(&["get", "service", "web", "-n", "team-b", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    assert!(svc["spec"]["ports"][0].get("nodePort").is_none(), "{svc}");
    // A pointer's zero is kept: a Deployment scaled to zero stays at zero.
    let deploy = k
        .run(&["get", "deployment", "web", "-n", "team-b", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(deploy["spec"]["replicas"], 0, "{deploy}");
    let ing = k
        .run(&["get", "ingress", "web", "-n", "team-b", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(ing["spec"]["rules"][0]["host"], "web.example.com");
    assert_eq!(
        ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "web"
    );

    k.run(&[
        "label",
        "configmap",
        "settings",
        "-n",
        "team-b",
        "tier=front",
    ])
    .await
    .ok();
    k.run(&[
        "annotate",
        "configmap",
        "settings",
        "-n",
        "team-b",
        "owner=platform",
    ])
    .await
    .ok();
    k.run(&["label", "secret", "db", "-n", "team-b", "tier=front"])
        .await
        .ok();
    // What `kubectl edit` sends: a strategic merge patch of the changed fields.
    k.run(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "team-b",
        "--type=strategic",
        "-p",
        r#"{"data":{"mode":"green"}}"#,
    ])
    .await
    .ok();
    let cm = k
        .run(&["get", "configmap", "settings", "-n", "team-b", "-o", "json"])
        .await
        .ok()
        .json();
    assert_eq!(cm["metadata"]["labels"]["tier"], "front");
    assert_eq!(cm["metadata"]["annotations"]["owner"], "platform");
    assert_eq!(cm["data"]["mode"], "green");
    let out = k
        .run(&["describe", "configmap", "settings", "-n", "team-b"])
        .await
        .ok();
    assert!(
        out.stdout.contains("tier=front") && out.stdout.contains("green"),
        "{}",
        out.stdout
    );
    let out = k.run(&["describe", "namespace", "team-b"]).await.ok();
    assert!(out.stdout.contains("Active"), "{}", out.stdout);

    let out = k
        .run(&[
            "delete",
            "configmap,secret",
            "-n",
            "team-b",
            "-l",
            "tier=front",
        ])
        .await
        .ok();
    assert!(
        out.stdout.contains("configmap \"settings\" deleted"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("secret \"db\" deleted"),
        "{}",
        out.stdout
    );
    let out = k
        .run(&["get", "configmaps,secrets", "-n", "team-b", "-o", "name"])
        .await
        .ok();
    assert!(
        !out.stdout.contains("settings") && !out.stdout.contains("secret/db"),
        "{}",
        out.stdout
    );
    // Creating what exists is refused as the API server refuses it.
    let out = k.run(&["create", "namespace", "team-b"]).await.failed();
    assert!(
        out.stderr.contains("AlreadyExists") || out.stderr.contains("already exists"),
        "{}",
        out.stderr
    );
}

/// The product's rendered Helm chart, as a platform engineer installs it without helm:
/// `kubectl apply --server-side -f deploy/manifests/ako.yaml`, twice.
#[tokio::test(flavor = "multi_thread")]
async fn the_charts_rendered_manifests_apply_server_side() {
    let Some((sim, k)) = start().await else {
        return;
    };
    let mut crds = kube_sim::crds::gateway_api();
    crds.extend(kube_sim::crds::ako());
    sim.install(crds).expect("CRDs");
    let manifests = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/manifests/ako.yaml"
    );
    let docs = std::fs::read_to_string(manifests).expect("deploy/manifests/ako.yaml");
    let objects = docs.matches("\nkind: ").count() + usize::from(docs.starts_with("kind: "));
    k.run(&["create", "namespace", "avi-system"]).await.ok();
    for round in 0..2 {
        let out = k
            .run(&["apply", "--server-side", "-f", manifests])
            .await
            .ok();
        let applied = out.stdout.matches("serverside-applied").count();
        assert_eq!(applied, objects, "round {round}:\n{}", out.stdout);
    }
    let sts = k
        .run(&[
            "get",
            "statefulset",
            "ako",
            "-n",
            "avi-system",
            "-o",
            "json",
        ])
        .await
        .ok()
        .json();
    let containers = sts["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert!(containers.iter().any(|c| c["name"] == "ako"), "{sts}");
    let out = k.run(&["get", "clusterroles", "-o", "name"]).await.ok();
    assert!(
        out.stdout
            .contains("clusterrole.rbac.authorization.k8s.io/"),
        "{}",
        out.stdout
    );
    let out = k
        .run(&["get", "ingressclass", "avi-lb", "-o", "json"])
        .await
        .ok();
    assert_eq!(out.json()["spec"]["controller"], "ako.vmware.com/avi-lb");
}
