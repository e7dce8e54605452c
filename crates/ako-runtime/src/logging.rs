//! Structured logs on stderr, as text or JSON, filtered by `RUST_LOG` (default `info`).
//!
//! Nothing in this crate logs a secret value: Avi credentials only appear through their
//! redacting `Debug` ([`crate::avi_secret::AviSecret`], `avi_client::Credentials`), and key
//! material is never passed to a log macro. Callers keep to the same rule: log names, serials,
//! fingerprints and expiry times of certificates, never PEM.

use std::fmt;
use std::str::FromStr;

use tracing_subscriber::EnvFilter;

use crate::error::{ConfigError, RuntimeError};

/// The filter when `RUST_LOG` is unset or empty.
pub const DEFAULT_FILTER: &str = "info";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, fields flattened, for log collectors.
    Json,
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

impl FromStr for LogFormat {
    type Err = ConfigError;

    /// `text` or `json`, any case; empty means `text`.
    fn from_str(value: &str) -> Result<Self, ConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(ConfigError::Invalid {
                env: "LOG_FORMAT",
                flag: "--log-format",
                value: value.to_owned(),
                reason: "expected text or json".to_owned(),
            }),
        }
    }
}

/// Installs the global subscriber: `format` on stderr, filtered by `RUST_LOG`.
///
/// Safe to call more than once (tests do): when a subscriber is already installed it is left in
/// place and `Ok(false)` is returned. A malformed `RUST_LOG` is an error rather than a silent
/// fallback, so an operator's filter is never ignored.
///
/// ```
/// ako_runtime::logging::init(ako_runtime::logging::LogFormat::Json).unwrap();
/// tracing::info!(cluster = "prod", "started");
/// ```
pub fn init(format: LogFormat) -> Result<bool, RuntimeError> {
    use tracing_subscriber::util::SubscriberInitExt;
    let directives = std::env::var("RUST_LOG").ok();
    let filter = filter(directives.as_deref())?;
    // Colours only for a person at a terminal, never into a collector's files.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    Ok(subscriber(format, filter, std::io::stderr, ansi)
        .try_init()
        .is_ok())
}

/// The subscriber [`init`] installs, writing to `writer` (tests capture lines with it).
fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(ansi)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .finish(),
        ),
    }
}

/// The filter for `RUST_LOG`'s value: [`DEFAULT_FILTER`] when unset or empty.
pub fn filter(directives: Option<&str>) -> Result<EnvFilter, RuntimeError> {
    match directives.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(EnvFilter::new(DEFAULT_FILTER)),
        Some(d) => EnvFilter::try_new(d).map_err(|e| {
            RuntimeError::Logging(format!("RUST_LOG {d:?} is not a valid filter: {e}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_junk_is_named() {
        assert_eq!("JSON".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("".parse::<LogFormat>(), Ok(LogFormat::Text));
        let err = "yaml".parse::<LogFormat>().unwrap_err().to_string();
        assert!(err.contains("LOG_FORMAT") && err.contains("yaml"), "{err}");
    }

    #[test]
    fn filter_defaults_to_info_and_rejects_garbage() {
        assert_eq!(filter(None).unwrap().to_string(), "info");
        assert_eq!(filter(Some("  ")).unwrap().to_string(), "info");
        assert_eq!(
            filter(Some("ako_runtime=debug")).unwrap().to_string(),
            "ako_runtime=debug"
        );
        let err = filter(Some("ako=[[[")).unwrap_err().to_string();
        assert!(err.contains("RUST_LOG"), "{err}");
    }

    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(format: LogFormat, emit: impl FnOnce()) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let sub = subscriber(format, filter(None).unwrap(), move || writer.clone(), false);
        tracing::subscriber::with_default(sub, emit);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn json_lines_are_structured_and_credentials_stay_redacted() {
        let secret = crate::avi_secret::AviSecret {
            credentials: avi_client::Credentials::Password {
                username: "admin".into(),
                password: "hunter2-secret".into(),
            },
            ca_cert: None,
        };
        let emit = || {
            tracing::info!(cluster = "prod", avi = ?secret, "loaded avi-secret");
            tracing::debug!("filtered out at the default level");
        };
        let json = capture(LogFormat::Json, emit);
        let lines: Vec<&str> = json.lines().collect();
        assert_eq!(lines.len(), 1, "{json}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "loaded avi-secret");
        assert_eq!(line["cluster"], "prod");
        assert!(line["avi"].as_str().unwrap().contains("admin"), "{line}");

        let text = capture(LogFormat::Text, emit);
        assert!(
            text.contains("loaded avi-secret") && text.contains("cluster=\"prod\""),
            "{text}"
        );
        assert!(
            !text.contains('\u{1b}'),
            "no colour codes when not at a terminal: {text:?}"
        );
        for out in [&json, &text] {
            assert!(!out.contains("hunter2"), "{out}");
        }
    }

    #[test]
    fn init_twice_is_harmless() {
        let first = init(LogFormat::Json).unwrap();
        let second = init(LogFormat::Text).unwrap();
        assert!(
            !second,
            "the second call must not replace the first subscriber"
        );
        let _ = first;
    }
}
