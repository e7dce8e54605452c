//! Cross-process tests of the product: see `tests/`; the tests start both binaries as the pod
//! would run them. This library holds what the benches share: release binaries, a child
//! process that is killed when dropped, the allocator settings of the image, peak RSS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// Builds the release binaries `bins` (in one cargo command, so features unify once) and
/// returns their paths, beside the running bench's own target directory.
pub fn release_binaries(bins: &[&str]) -> Vec<PathBuf> {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["build", "--release"]);
    for b in bins {
        cmd.args(["-p", b, "--bin", b]);
    }
    let status = cmd.status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "cargo build --release of {bins:?} failed"
    );
    bins.iter().map(|b| dir.join(b)).collect()
}

/// The allocator settings the container image gives the binaries (`MIMALLOC_*` in
/// deploy/Dockerfile's `ENV`), so the benches measure the processes as they are deployed.
pub fn image_allocator_env() -> Vec<(String, String)> {
    let dockerfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).unwrap_or_default();
    let env: Vec<(String, String)> = text
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .filter(|(k, _)| k.starts_with("MIMALLOC_"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert!(
        !env.is_empty(),
        "deploy/Dockerfile sets no MIMALLOC_ variable"
    );
    env
}

/// The peak resident set (`VmHWM`) of process `pid`, in KiB (0 when it cannot be read).
pub fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A child process, killed and reaped when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `bin run` (started through `wrap`, a profiler command line, when given) with the environment
/// a pod gives the container: cluster `cluster`, namespace `avi-system`, pod `pod`, the
/// controller at `avi_url`, the API server of `kubeconfig`, the image's allocator settings, a
/// free metrics port, warnings only, no output.
pub fn controller_command(
    bin: &Path,
    wrap: Option<&str>,
    avi_url: &str,
    kubeconfig: &Path,
    pod: &str,
) -> Command {
    let mut c = match wrap.map(str::split_whitespace) {
        Some(mut words) => {
            let mut c = Command::new(words.next().unwrap_or_default());
            c.args(words).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    c.arg("run")
        .env_clear()
        .envs(std::env::var("PATH").map(|v| ("PATH", v)))
        .env("RUST_LOG", "warn")
        .env("CLUSTER_NAME", "cluster")
        .env("POD_NAMESPACE", "avi-system")
        .env("POD_NAME", pod)
        .env("CTRL_IPADDRESS", avi_url)
        .env("KUBECONFIG", kubeconfig)
        .env("METRICS_ADDR", format!("127.0.0.1:{}", free_port()))
        .envs(std::env::var("MALLOC_ARENA_MAX").map(|v| ("MALLOC_ARENA_MAX", v)))
        .envs(image_allocator_env())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c
}

/// A free loopback port (for a process's metrics server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// The benches' scenery, as JSON manifests.
pub mod scenery {
    use serde_json::{Value, json};

    /// Namespace `gateways`, the GatewayClass `avi-lb` and `count` Gateways `gw-<i>` with one
    /// HTTP listener each that admits routes from every namespace.
    pub fn gateways(count: usize) -> Vec<Value> {
        let mut out = vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gateways"}}),
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "avi-lb"},
                   "spec": {"controllerName": "ako.vmware.com/avi-lb"}}),
        ];
        for g in 0..count {
            out.push(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                "metadata": {"name": format!("gw-{g}"), "namespace": "gateways"},
                "spec": {"gatewayClassName": "avi-lb", "listeners": [
                    {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}]}}));
        }
        out
    }

    /// Service `svc-<r>` in `ns-<n>` (port 80 → 8080) and its EndpointSlice with two ready
    /// endpoints, `10.<n>.<r>.1` and `.2`.
    pub fn backend(n: usize, r: usize) -> Vec<Value> {
        let (ns, svc) = (format!("ns-{n}"), format!("svc-{r}"));
        vec![
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": svc, "namespace": ns},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                "metadata": {"name": format!("{svc}-abc"), "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
                "ports": [{"name": "http", "port": 8080}],
                "endpoints": [{"addresses": [format!("10.{n}.{r}.1")], "conditions": {"ready": true}},
                              {"addresses": [format!("10.{n}.{r}.2")], "conditions": {"ready": true}}]}),
        ]
    }

    /// HTTPRoute `route-<r>` in `ns-<n>` for host `r<r>.ns<n>.example.com` to `svc-<r>`, on
    /// Gateway `gw-<parent>`.
    pub fn http_route(n: usize, r: usize, parent: usize) -> Value {
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": format!("route-{r}"), "namespace": format!("ns-{n}")},
            "spec": {"parentRefs": [{"name": format!("gw-{parent}"), "namespace": "gateways"}],
                     "hostnames": [format!("r{r}.ns{n}.example.com")],
                     "rules": [{"backendRefs": [{"name": format!("svc-{r}"), "port": 80}]}]}})
    }
}
