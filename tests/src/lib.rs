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

/// A free loopback port (for a process's metrics server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}
