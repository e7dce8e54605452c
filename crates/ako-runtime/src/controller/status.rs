//! Statuses of any kind, written by server-side apply with the controller's field manager, and
//! only when they differ from the object's.

use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::json;
use translate_core::ObjectStatus;

use super::inputs::{Inputs, api_resource};

/// The gateway container's field manager.
pub const FIELD_MANAGER: &str = "ako-gateway-api";

/// Writes every status that differs from the object's current one; returns how many. A status
/// of a kind no translator declared, or of an object the reflectors do not know (deleted
/// meanwhile), is not written.
pub async fn write_all(
    kube: &kube::Client,
    inputs: &Inputs,
    statuses: &[ObjectStatus],
    field_manager: &str,
) -> Result<u64, String> {
    let mut written = 0;
    let mut errors = Vec::new();
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
        let ar = api_resource(spec);
        let api: Api<DynamicObject> = if spec.namespaced {
            Api::namespaced_with(kube.clone(), &s.key.namespace, &ar)
        } else {
            Api::all_with(kube.clone(), &ar)
        };
        let body = json!({"apiVersion": spec.api_version(), "kind": spec.kind, "status": s.status});
        let params = PatchParams::apply(field_manager).force();
        match api
            .patch_status(&s.key.name, &params, &Patch::Apply(&body))
            .await
        {
            Ok(_) => written += 1,
            // Deleted meanwhile: nothing to report on.
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => errors.push(format!("{}: {e}", s.key)),
        }
    }
    if errors.is_empty() {
        Ok(written)
    } else {
        Err(errors.join("; "))
    }
}
