//! Statuses of any kind, written by server-side apply with the controller's field manager, and
//! only when they differ from the object's.

use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::json;
use translate_core::ObjectStatus;

use super::inputs::{Inputs, api_resource};

/// The gateway container's field manager.
pub const FIELD_MANAGER: &str = "ako-gateway-api";

/// How many status writes are in flight at once: a cold start writes one per route, and one
/// at a time they took longer than the Avi sync before them.
pub const STATUS_CONCURRENCY: usize = 8;

/// Writes every status that differs from the object's current one, [`STATUS_CONCURRENCY`] at a
/// time; returns how many. A status of a kind no translator declared, or of an object the
/// reflectors do not know (deleted meanwhile), is not written.
pub async fn write_all(
    kube: &kube::Client,
    inputs: &Inputs,
    statuses: &[ObjectStatus],
    field_manager: &str,
) -> Result<u64, String> {
    use futures_util::stream::{self, StreamExt as _};
    let mut errors = Vec::new();
    let mut pending = Vec::new();
    for s in statuses {
        let gk = &s.key.group_kind;
        let Some(spec) = inputs
            .kinds()
            .find(|k| k.group == gk.group && k.kind == gk.kind)
        else {
            errors.push(format!("{}: not a kind any translator declared", s.key));
            continue;
        };
        if !inputs.contains(gk, &s.key.namespace, &s.key.name) {
            continue;
        }
        if inputs.has_status(gk, &s.key.namespace, &s.key.name, &s.status) {
            continue;
        }
        pending.push((s, spec));
    }
    let params = PatchParams::apply(field_manager).force();
    let mut outcomes: Vec<Result<bool, String>> = Vec::with_capacity(pending.len());
    // A few bodies at a time: thousands of statuses encoded at once would raise the peak
    // memory of a cold start for nothing.
    for chunk in pending.chunks(STATUS_CONCURRENCY * 8) {
        // Each write owns what it sends (a future borrowing the statuses would not be `Send`
        // for every lifetime the controller's task needs).
        let writes: Vec<_> = chunk
            .iter()
            .map(|(s, spec)| {
                let ar = api_resource(spec);
                let api: Api<DynamicObject> = if spec.namespaced {
                    Api::namespaced_with(kube.clone(), &s.key.namespace, &ar)
                } else {
                    Api::all_with(kube.clone(), &ar)
                };
                let body =
                    json!({"apiVersion": spec.api_version(), "kind": spec.kind, "status": s.status});
                (s.key.to_string(), s.key.name.clone(), api, body)
            })
            .collect();
        let done: Vec<Result<bool, String>> = stream::iter(writes)
            .map(|(key, name, api, body)| {
                let params = params.clone();
                async move {
                    match api.patch_status(&name, &params, &Patch::Apply(&body)).await {
                        Ok(_) => Ok(true),
                        // Deleted meanwhile: nothing to report on.
                        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
                        Err(e) => Err(format!("{key}: {e}")),
                    }
                }
            })
            .buffer_unordered(STATUS_CONCURRENCY)
            .collect()
            .await;
        outcomes.extend(done);
    }
    let mut written = 0;
    for o in outcomes {
        match o {
            Ok(true) => written += 1,
            Ok(false) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(written)
    } else {
        // Concurrent writes finish in any order: the message lists them in a stable one.
        errors.sort();
        Err(errors.join("; "))
    }
}
