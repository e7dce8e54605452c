//! The HTTP request DataScripts of a virtual service that the emulator knows, in the order Avi
//! runs them (`vs_datascripts` by `index`, then each set's scripts in order): the CORS scripts
//! ([`super::cors`]) and the redirect with a status Avi's redirect action lacks
//! ([`super::status_redirect`]). AKO's host-and-path pool selector is read by
//! [`super::route::datascript_pool`]; any other script is ignored.

use serde_json::Value;

use super::cors::CorsTable;
use super::matching::{array, text};
use super::route::datascript_sets;
use super::status_redirect::RedirectTable;
use crate::store::{Object, Store};

/// A request script the emulator gives meaning to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// A CORS filter's scripts (its request and response events).
    Cors(CorsTable),
    /// A redirect answered with `avi.http.response`.
    Redirect(RedirectTable),
}

/// The known `VS_DATASCRIPT_EVT_HTTP_REQ` scripts of `vs`, in run order.
pub fn request_scripts(store: &Store, vs: &Object) -> Vec<Script> {
    let mut out = Vec::new();
    for set in datascript_sets(store, vs) {
        for d in array(set.body.get("datascript").unwrap_or(&Value::Null)) {
            if text(d, "evt") != Some("VS_DATASCRIPT_EVT_HTTP_REQ") {
                continue;
            }
            let Some(script) = text(d, "script") else {
                continue;
            };
            if let Some(t) = CorsTable::parse(script) {
                out.push(Script::Cors(t));
            } else if let Some(t) = RedirectTable::parse(script) {
                out.push(Script::Redirect(t));
            }
        }
    }
    out
}
