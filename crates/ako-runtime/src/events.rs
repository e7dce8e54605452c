//! Kubernetes Events (events.k8s.io/v1) through kube-runtime's [`Recorder`].
//!
//! Events are read by anyone who can `kubectl describe`, so they must never carry key material.
//! Callers pass short notes that name objects, files and reasons; as a last guard, anything
//! from a PEM armour line (`-----BEGIN`) on is cut from the note, and notes are held to the
//! API's 1 kB limit.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use crate::config::Component;
use crate::error::RuntimeError;

/// The API server refuses notes longer than this.
const MAX_NOTE_BYTES: usize = 1024;

/// Publishes Events as one component (`ako` or `ako-gateway-api`) of one pod.
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
    client: kube::Client,
    reporter: Reporter,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// A publisher reporting as `component` (the Event's `reportingController`) from
    /// `instance` (the pod name; the controller name when `None`).
    pub fn new(client: kube::Client, component: Component, instance: Option<String>) -> Events {
        let reporter = Reporter {
            controller: component.name().to_owned(),
            instance,
        };
        Events {
            recorder: Recorder::new(client.clone(), reporter.clone()),
            client,
            reporter,
        }
    }

    /// A `Normal` Event about `object`: `reason` in UpperCamelCase (`CertificateRotated`),
    /// `action` what was done (`Publish`), `note` for humans. Never pass key material.
    pub async fn normal(
        &self,
        object: &ObjectReference,
        reason: &str,
        action: &str,
        note: &str,
    ) -> Result<(), RuntimeError> {
        self.publish(EventType::Normal, object, reason, action, note)
            .await
    }

    /// A `Normal` Event the caller raises once per fact (it tracks repeats itself), as the
    /// gateway container's `Accepted` per route. Unlike [`Events::normal`] nothing is kept to
    /// count repeats into a series: the recorder keeps every Event six minutes for that, which
    /// is 12 MB for the 5,000 `Accepted` Events of a cold start.
    pub async fn announce(
        &self,
        object: &ObjectReference,
        reason: &str,
        action: &str,
        note: &str,
    ) -> Result<(), RuntimeError> {
        let once = Recorder::new(self.client.clone(), self.reporter.clone());
        publish(&once, EventType::Normal, object, reason, action, note).await
    }

    /// A `Warning` Event about `object`; as [`Events::normal`].
    pub async fn warn(
        &self,
        object: &ObjectReference,
        reason: &str,
        action: &str,
        note: &str,
    ) -> Result<(), RuntimeError> {
        self.publish(EventType::Warning, object, reason, action, note)
            .await
    }

    async fn publish(
        &self,
        type_: EventType,
        object: &ObjectReference,
        reason: &str,
        action: &str,
        note: &str,
    ) -> Result<(), RuntimeError> {
        publish(&self.recorder, type_, object, reason, action, note).await
    }
}

async fn publish(
    recorder: &Recorder,
    type_: EventType,
    object: &ObjectReference,
    reason: &str,
    action: &str,
    note: &str,
) -> Result<(), RuntimeError> {
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(sanitize_note(note)),
        action: action.to_owned(),
        secondary: None,
    };
    recorder
        .publish(&event, object)
        .await
        .map_err(|source| RuntimeError::Event {
            reason: reason.to_owned(),
            source: Box::new(source),
        })
}

/// The note as published: cut at the first PEM armour line, at most 1 kB.
fn sanitize_note(note: &str) -> String {
    let mut out = match note.find("-----BEGIN") {
        Some(at) => format!("{} [PEM removed]", note[..at].trim_end()),
        None => note.to_owned(),
    };
    if out.len() > MAX_NOTE_BYTES {
        let mut cut = MAX_NOTE_BYTES - 3;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{ListParams, PostParams};
    use kube::{Api, Resource};

    #[test]
    fn notes_lose_pem_and_stay_under_the_limit() {
        let note = "bad key -----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----";
        let clean = sanitize_note(note);
        assert_eq!(clean, "bad key [PEM removed]");
        let long = "é".repeat(2000);
        let clean = sanitize_note(&long);
        assert!(clean.len() <= MAX_NOTE_BYTES && clean.ends_with("..."));
        assert_eq!(sanitize_note("plain"), "plain");
    }

    #[tokio::test]
    async fn events_reach_the_api_server() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = kube_sim::KubeSim::start(kube_sim::SimConfig::default())
            .await
            .unwrap();
        let client = kube::Client::try_from(kube::Config::new(sim.url().parse().unwrap())).unwrap();
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        let cm = cms
            .create(
                &PostParams::default(),
                &serde_json::from_value(serde_json::json!({"metadata": {"name": "target"}}))
                    .unwrap(),
            )
            .await
            .unwrap();
        let reference = cm.object_ref(&());

        let events = Events::new(client.clone(), Component::Ako, Some("ako-0".into()));
        events
            .warn(
                &reference,
                "InvalidCertificate",
                "Validate",
                "key.pem does not match -----BEGIN PRIVATE KEY-----\nAAAA",
            )
            .await
            .unwrap();
        events
            .normal(&reference, "CertificateRotated", "Publish", "serial 0a:0b")
            .await
            .unwrap();

        let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client, "default");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let published = loop {
            let list = api.list(&ListParams::default()).await.unwrap().items;
            if list.len() >= 2 {
                break list;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "events not seen: {list:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let warning = published
            .iter()
            .find(|e| e.reason.as_deref() == Some("InvalidCertificate"))
            .unwrap();
        assert_eq!(warning.type_.as_deref(), Some("Warning"));
        assert_eq!(warning.reporting_controller.as_deref(), Some("ako"));
        assert_eq!(warning.reporting_instance.as_deref(), Some("ako-0"));
        assert_eq!(
            warning.regarding.as_ref().and_then(|r| r.name.as_deref()),
            Some("target")
        );
        let note = warning.note.as_deref().unwrap();
        assert!(
            !note.contains("PRIVATE KEY") && !note.contains("AAAA"),
            "{note}"
        );
        let normal = published
            .iter()
            .find(|e| e.reason.as_deref() == Some("CertificateRotated"))
            .unwrap();
        assert_eq!(normal.type_.as_deref(), Some("Normal"));
    }
}
