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
    /// no-op when they are current. Ctrl-C (the future dropped) stops the build too.
    pub async fn build() -> anyhow::Result<Binaries> {
        let plan = BuildPlan::of_running_executable()?;
        let status = tokio::process::Command::from(plan.command())
            .kill_on_drop(true)
            .status()
            .await
            .with_context(|| format!("cannot run {}", plan.cargo))?;
        plan.finish(status)
    }

    /// [`Binaries::build`] for a synchronous caller (a test that starts the binaries itself).
    pub fn build_blocking() -> anyhow::Result<Binaries> {
        let plan = BuildPlan::of_running_executable()?;
        let status = plan
            .command()
            .status()
            .with_context(|| format!("cannot run {}", plan.cargo))?;
        plan.finish(status)
    }
}

/// How to build the two binaries for the executable that asks: which cargo command, into which
/// directory.
struct BuildPlan {
    cargo: String,
    /// target/<profile>
    dir: PathBuf,
    profile: String,
    /// The running executable is a test (target/<profile>/deps/<test>).
    under_test: bool,
}

impl BuildPlan {
    fn of_running_executable() -> anyhow::Result<BuildPlan> {
        let exe = std::env::current_exe().context("cannot find the running executable")?;
        // target/<profile>/xtask, or target/<profile>/deps/<test>.
        let mut dir = exe
            .parent()
            .context("the executable has no directory")?
            .to_path_buf();
        let under_test = dir.file_name().is_some_and(|n| n == "deps");
        if under_test {
            dir.pop();
        }
        let profile = dir
            .file_name()
            .and_then(|n| n.to_str())
            .context("cannot tell the build profile from the executable's path")?
            .to_owned();
        Ok(BuildPlan {
            cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()),
            dir,
            profile,
            under_test,
        })
    }

    fn command(&self) -> Command {
        let target_dir = self.dir.parent().unwrap_or(&self.dir);
        let mut cmd = Command::new(&self.cargo);
        if self.under_test {
            // Under `cargo test --workspace` (the README's test command) both binaries were built
            // with the features that command unifies across the workspace and its dev-dependencies.
            // The same command with --no-run is then a no-op. `cargo build -p <bin>` would unify
            // other features and compile a second copy of most dependencies: that copy filled CI's
            // disk. Run alone (`cargo test -p system-tests`), it builds what the README's command
            // would, no less, so the test never runs a stale binary.
            cmd.args(["test", "--workspace", "--no-run", "--quiet"]);
        } else {
            cmd.args([
                "build",
                "--quiet",
                "-p",
                "ako",
                "-p",
                "ako-gateway-api",
                "--bins",
            ]);
        }
        cmd.arg("--manifest-path")
            .arg(crate::manifests::repo_root().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir)
            .stdout(Stdio::null());
        match self.profile.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        cmd
    }

    fn finish(&self, status: std::process::ExitStatus) -> anyhow::Result<Binaries> {
        if !status.success() {
            let what = if self.under_test {
                "cargo test --workspace --no-run"
            } else {
                "cargo build -p ako -p ako-gateway-api"
            };
            bail!("{what} failed ({status})");
        }
        let bins = Binaries::in_dir(&self.dir);
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
