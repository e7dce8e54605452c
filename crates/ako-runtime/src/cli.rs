//! The binaries' command lines. A container starts its binary as the image's entrypoint, often
//! with no command at all: `run` is the default, with `run`'s flags right after the name.

use std::ffi::OsString;

use clap::{Args, FromArgMatches, Parser};

/// The flags of the top-level parser itself, which never mean `run`.
const OWN_FLAGS: &[&str] = &["-h", "--help", "-V", "--version"];

/// Parses `args` (the binary's name first) as `C`, whose subcommand `command` picks out. With no
/// subcommand, or when the first argument is a flag `C` does not take, parses them as `run`'s
/// arguments `R` under the binary's name and makes the command with `run`. Errors are clap's:
/// `exit()` prints them with the usage that fits.
pub fn command_or_run<C, R, Cmd>(
    args: Vec<OsString>,
    command: impl FnOnce(C) -> Option<Cmd>,
    run: impl FnOnce(R) -> Cmd,
) -> Result<Cmd, clap::Error>
where
    C: Parser,
    R: Args + FromArgMatches,
{
    let runs_flag_first = args
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(|a| a.starts_with('-') && !OWN_FLAGS.contains(&a));
    let run_only = || -> Result<Cmd, clap::Error> {
        let name = C::command().get_name().to_owned();
        let matches = R::augment_args(clap::Command::new(name)).try_get_matches_from(&args)?;
        R::from_arg_matches(&matches).map(run)
    };
    match C::try_parse_from(&args) {
        Ok(c) => match command(c) {
            Some(cmd) => Ok(cmd),
            None => run_only(),
        },
        Err(_) if runs_flag_first => run_only(),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use clap::Subcommand;

    use super::*;

    #[derive(Args, Debug, PartialEq)]
    struct RunArgs {
        #[arg(long)]
        level: Option<u8>,
    }

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Option<Cmd>,
    }

    #[derive(Subcommand, Debug, PartialEq)]
    enum Cmd {
        Run(RunArgs),
        Inspect,
    }

    fn parse(args: &[&str]) -> Result<Cmd, clap::Error> {
        command_or_run(
            args.iter().map(OsString::from).collect(),
            |c: Cli| c.command,
            Cmd::Run,
        )
    }

    #[test]
    fn no_command_is_run_and_runs_flags_need_no_command() {
        assert_eq!(parse(&["bin"]).unwrap(), Cmd::Run(RunArgs { level: None }));
        assert_eq!(
            parse(&["bin", "--level", "3"]).unwrap(),
            Cmd::Run(RunArgs { level: Some(3) })
        );
        assert_eq!(
            parse(&["bin", "run", "--level", "4"]).unwrap(),
            Cmd::Run(RunArgs { level: Some(4) })
        );
        assert_eq!(parse(&["bin", "inspect"]).unwrap(), Cmd::Inspect);
    }

    #[test]
    fn mistakes_are_usage_errors() {
        use clap::error::ErrorKind;
        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        assert_eq!(kind(&["bin", "--level", "x"]), ErrorKind::ValueValidation);
        assert_eq!(kind(&["bin", "--nope"]), ErrorKind::UnknownArgument);
        assert_eq!(kind(&["bin", "nope"]), ErrorKind::InvalidSubcommand);
        assert_eq!(kind(&["bin", "--help"]), ErrorKind::DisplayHelp);
    }
}

/// `ISTIO_BACKENDS` / `--istio-backends`: which backends get Istio mTLS when Istio is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Backends {
    /// Only backends in the mesh in sidecar mode.
    #[default]
    Mesh,
    /// Every backend (AKO's behaviour).
    All,
}

impl From<Backends> for translate_core::IstioBackends {
    fn from(b: Backends) -> Self {
        match b {
            Backends::Mesh => translate_core::IstioBackends::Mesh,
            Backends::All => translate_core::IstioBackends::All,
        }
    }
}

/// Writes one line to stderr and ignores a closed or full stderr: an error message must never
/// turn into a panic (`eprintln!` panics when it cannot write, exiting 101 with a backtrace).
pub fn stderr_line(text: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(text).and_then(|()| err.write_all(b"\n"));
}

#[cfg(test)]
mod stderr_tests {
    #[test]
    fn a_line_to_stderr_never_panics() {
        super::stderr_line(format_args!("a line {}", 1));
    }
}
