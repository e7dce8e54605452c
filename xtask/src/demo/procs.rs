//! The two containers as child processes: building them, starting them with their environment,
//! their logs, and killing them when the demo ends (drop, error or Ctrl-C).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// Where `ako` and `ako-gateway-api` are.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The `ako` container's binary.
    pub ako: PathBuf,
    /// The `ako-gateway-api` container's binary.
    pub gateway_api: PathBuf,
}

impl Binaries {
    /// The binaries in `dir`, as they are.
    pub fn in_dir(dir: &Path) -> Binaries {
        Binaries {
            ako: dir.join(exe("ako")),
            gateway_api: dir.join(exe("ako-gateway-api")),
        }
    }

    /// Builds both binaries with the profile of the running executable (`cargo xtask` or a test
    /// of the workspace) into its target directory, so that the demo never runs stale ones; a
    /// no-op when they are current.
    pub async fn build() -> anyhow::Result<Binaries> {
        let exe = std::env::current_exe().context("cannot find the running executable")?;
        // target/<profile>/xtask, or target/<profile>/deps/<test>.
        let mut dir = exe
            .parent()
            .context("the executable has no directory")?
            .to_path_buf();
        if dir.file_name().is_some_and(|n| n == "deps") {
            dir.pop();
        }
        let profile = dir
            .file_name()
            .and_then(|n| n.to_str())
            .context("cannot tell the build profile from the executable's path")?
            .to_owned();
        let target_dir = dir
            .parent()
            .context("cannot find the target directory")?
            .to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let manifest = crate::manifests::repo_root().join("Cargo.toml");
        // One package at a time, exactly as tests/tests/pod.rs builds them, so that both share
        // the artifacts (a different package set can unify dependency features differently).
        for name in ["ako", "ako-gateway-api"] {
            let mut cmd = tokio::process::Command::new(&cargo);
            cmd.args(["build", "--quiet", "-p", name, "--bin", name])
                .arg("--manifest-path")
                .arg(&manifest)
                .arg("--target-dir")
                .arg(&target_dir);
            match profile.as_str() {
                "debug" => {}
                "release" => {
                    cmd.arg("--release");
                }
                other => {
                    cmd.args(["--profile", other]);
                }
            }
            // Ctrl-C (the demo dropped) stops the build too.
            let status = cmd
                .stdout(Stdio::null())
                .kill_on_drop(true)
                .status()
                .await
                .with_context(|| format!("cannot run {cargo}"))?;
            if !status.success() {
                bail!("cargo build -p {name} failed ({status})");
            }
        }
        let bins = Binaries::in_dir(&dir);
        for b in [&bins.ako, &bins.gateway_api] {
            if !b.is_file() {
                bail!("{} is missing after the build", b.display());
            }
        }
        Ok(bins)
    }
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// A running container: killed and reaped when dropped.
#[derive(Debug)]
pub struct Child {
    name: String,
    child: std::process::Child,
    log: PathBuf,
}

impl Child {
    /// Starts `bin run` with exactly `env` (nothing inherited but `PATH`), stderr and stdout to
    /// `log`.
    pub fn spawn(
        name: &str,
        bin: &Path,
        env: &[(&str, String)],
        log: &Path,
    ) -> anyhow::Result<Child> {
        let out = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(bin);
        cmd.arg("run")
            .env_clear()
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        Ok(Child {
            name: name.to_owned(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// An error if the process has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => bail!("{} exited ({status})", self.name),
            Err(e) => bail!("cannot check on {}: {e}", self.name),
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last `lines` lines of a log file (at most the last 64 KiB of it).
pub fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
