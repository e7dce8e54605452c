//! `ako certs`: what `istioctl proxy-config secret` plus `openssl x509 -text` would tell an
//! operator about the set istio-agent wrote, and the verdict.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use istio_certs::{BundleError, BundleFacts, CertSummary, IstioBundle, KeyEncoding};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

/// Output formats of `ako certs inspect`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Output {
    /// Human-readable.
    Text,
    /// The stable JSON shape documented in docs/cli.md.
    Json,
}

/// The JSON document `ako certs inspect -o json` prints. Field names are a stable interface.
#[derive(Serialize)]
struct Report<'a> {
    valid: bool,
    error: Option<String>,
    error_kind: Option<&'static str>,
    error_file: Option<&'static str>,
    dir: String,
    spiffe_id: Option<&'a str>,
    principal: Option<&'a str>,
    issuer: Option<&'a str>,
    serial: Option<&'a str>,
    sha256_fingerprint: Option<String>,
    not_before: Option<String>,
    not_after: Option<String>,
    remaining_seconds: Option<u64>,
    remaining_fraction: Option<f64>,
    key: Option<&'a istio_certs::KeyInfo>,
    chain: Option<&'a [CertSummary]>,
    roots: Option<&'a [CertSummary]>,
    bundle_fingerprint: Option<String>,
}

/// Says so when `dir` is not a directory: "key.pem is missing" would send the operator looking
/// for a file in a directory that is not there.
fn no_directory(dir: &Path) -> Option<ExitCode> {
    if dir.is_dir() {
        return None;
    }
    let what = if dir.exists() {
        "is not a directory"
    } else {
        "does not exist"
    };
    ako_runtime::cli::stderr_line(format_args!(
        "invalid Istio certificate set: {} {what}",
        printable(&dir.display().to_string())
    ));
    Some(ExitCode::from(1))
}

/// Text for a terminal: control characters (escape sequences, CR, LF, BEL) shown as `\u{..}`,
/// so a certificate's subject cannot recolour the terminal or forge a report line.
pub fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

pub fn inspect(dir: &Path, output: Output) -> ExitCode {
    if matches!(output, Output::Text)
        && let Some(code) = no_directory(dir)
    {
        return code;
    }
    let now = SystemTime::now();
    let result = IstioBundle::load(dir, now);
    let printed = match (&result, output) {
        (Ok(bundle), Output::Text) => print_text(dir, bundle, now),
        (_, Output::Json) => print_json(dir, &result, now),
        (Err(_), Output::Text) => Ok(()),
    };
    if let Err(e) = printed {
        // A closed pipe (`| head`) is not the bundle's fault.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            ako_runtime::cli::stderr_line(format_args!("error: cannot write output: {e}"));
            return ExitCode::from(2);
        }
    }
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => invalid(dir, &e),
    }
}

pub fn principal(dir: &Path) -> ExitCode {
    if let Some(code) = no_directory(dir) {
        return code;
    }
    match IstioBundle::load(dir, SystemTime::now()) {
        Ok(bundle) => {
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{}", bundle.facts().principal) {
                // `| head` closing the pipe is not an error of ours.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    ako_runtime::cli::stderr_line(format_args!("error: cannot write output: {e}"));
                    ExitCode::from(2)
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(e) => invalid(dir, &e),
    }
}

/// One clear line on stderr: which directory, which file, what is wrong.
fn invalid(dir: &Path, e: &BundleError) -> ExitCode {
    ako_runtime::cli::stderr_line(format_args!(
        "invalid Istio certificate set in {}: {}",
        printable(&dir.display().to_string()),
        printable(&e.to_string())
    ));
    ExitCode::from(1)
}

fn print_json(
    dir: &Path,
    result: &Result<IstioBundle, BundleError>,
    now: SystemTime,
) -> std::io::Result<()> {
    let facts = result.as_ref().ok().map(IstioBundle::facts);
    let error = result.as_ref().err();
    let report = Report {
        valid: result.is_ok(),
        error: error.map(ToString::to_string),
        error_kind: error.map(BundleError::kind),
        error_file: error.map(|e| e.file().file_name()),
        dir: dir.display().to_string(),
        spiffe_id: facts.map(|f| f.spiffe_id.as_str()),
        principal: facts.map(|f| f.principal.as_str()),
        issuer: facts.map(|f| f.issuer.as_str()),
        serial: facts.map(|f| f.serial.as_str()),
        sha256_fingerprint: facts.map(|f| f.sha256_fingerprint.to_string()),
        not_before: facts.map(|f| rfc3339(f.not_before)),
        not_after: facts.map(|f| rfc3339(f.not_after)),
        remaining_seconds: facts.map(|f| f.remaining_at(now).as_secs()),
        remaining_fraction: facts.map(|f| (f.remaining_fraction_at(now) * 1e4).round() / 1e4),
        key: facts.map(|f| &f.key),
        chain: facts.map(|f| f.chain.as_slice()),
        roots: facts.map(|f| f.roots.as_slice()),
        bundle_fingerprint: result.as_ref().ok().map(|b| b.fingerprint().hex()),
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &report)?;
    writeln!(out)
}

fn print_text(dir: &Path, bundle: &IstioBundle, now: SystemTime) -> std::io::Result<()> {
    let f: &BundleFacts = bundle.facts();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Directory:    {}",
        printable(&dir.display().to_string())
    )?;
    writeln!(out, "SPIFFE ID:    {}", f.spiffe_id)?;
    writeln!(out, "Principal:    {}", f.principal)?;
    writeln!(out, "Issuer:       {}", printable(&f.issuer))?;
    writeln!(out, "Serial:       {}", f.serial)?;
    writeln!(out, "SHA-256:      {}", f.sha256_fingerprint)?;
    writeln!(out, "Not before:   {}", rfc3339(f.not_before))?;
    writeln!(
        out,
        "Not after:    {} ({} left, {:.1}% of its lifetime)",
        rfc3339(f.not_after),
        human(f.remaining_at(now)),
        f.remaining_fraction_at(now) * 100.0
    )?;
    let encoding = match f.key.encoding {
        KeyEncoding::Pkcs1 => "PKCS#1",
        KeyEncoding::Sec1 => "SEC1",
        KeyEncoding::Pkcs8 => "PKCS#8",
    };
    let curve = match f.key.algorithm {
        istio_certs::KeyAlgorithm::Rsa => String::new(),
        istio_certs::KeyAlgorithm::EcdsaP256 => " P-256".to_owned(),
        istio_certs::KeyAlgorithm::EcdsaP384 => " P-384".to_owned(),
    };
    writeln!(
        out,
        "Key:          {}{curve} {} bits ({encoding})",
        f.key.algorithm.family(),
        f.key.bits
    )?;
    writeln!(out, "Chain (cert-chain.pem):")?;
    for (i, c) in f.chain.iter().enumerate() {
        writeln!(out, "  [{i}] {}", summary(c))?;
    }
    writeln!(out, "Roots (root-cert.pem):")?;
    for (i, c) in f.roots.iter().enumerate() {
        writeln!(out, "  [{i}] {}", summary(c))?;
    }
    writeln!(out, "Verdict:      VALID")
}

fn summary(c: &CertSummary) -> String {
    let subject = if c.subject.is_empty() {
        "<empty subject>"
    } else {
        &c.subject
    };
    let kind = match (c.is_ca, c.self_signed) {
        (true, true) => " [CA, self-signed]",
        (true, false) => " [CA]",
        _ => "",
    };
    format!(
        "{}{kind}, issuer {}, serial {}, expires {}",
        printable(subject),
        printable(&c.issuer),
        c.serial,
        rfc3339(c.not_after)
    )
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "none".to_owned(),
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s => format!("{}m {}s", s / 60, s % 60),
    }
}

#[cfg(test)]
mod printable_tests {
    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        let shown = super::printable("O=evil\u{1b}[31mRED\nVerdict: FAKE\u{7}");
        assert_eq!(shown, "O=evil\\u{1b}[31mRED\\u{a}Verdict: FAKE\\u{7}");
        assert!(!shown.chars().any(char::is_control));
        assert_eq!(super::printable("CN=ok, O=é"), "CN=ok, O=é");
    }
}
