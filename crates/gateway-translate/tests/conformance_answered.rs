//! The conformance manifests of features we do not support, each translated as the suite
//! applies it (the upstream files, in `tests/conformance/upstream/`): what the user sees is a
//! refusal that names the Avi limit (`…_is_refused`), or what we do instead (`…_deviation`).
//! Nothing in them panics, is silently half-applied, or widens what was asked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use gateway_translate::{StatusUpdate, Translation, names};
use support::harness::{INFRA, assert_condition, expect, get, listener_status, route_status, run};
use support::resolve::Request;

/// An upstream manifest as the suite applies it.
macro_rules! upstream {
    ($name:literal) => {
        include_str!(concat!("conformance/upstream/", $name, ".yaml"))
            .replace("{GATEWAY_CLASS_NAME}", "avi-lb")
    };
}

/// The suite's base manifests plus `text`, translated; kinds we do not read (ListenerSet,
/// UDPRoute) are left out, as the controller does not watch them.
fn run_lenient(text: &str) -> Translation {
    let mut snapshot = support::harness::snapshot("");
    for doc in serde_saphyr::from_multiple::<serde_json::Value>(text).unwrap() {
        if doc.is_null() {
            continue;
        }
        match snapshot.insert_json(doc) {
            Ok(()) | Err(gateway_translate::snapshot::InsertError::Unsupported { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    support::harness::translate_snapshot(&snapshot)
}

/// Every parent of HTTPRoute `name` refuses its rules: `Accepted=False`, `UnsupportedValue`,
/// with a message containing `why`.
fn assert_rules_refused(t: &Translation, name: &str, why: &str) {
    let status = route_status(t, INFRA, name);
    assert!(!status.parents.is_empty(), "{name}");
    for p in &status.parents {
        let accepted = p.conditions.iter().find(|c| c.type_ == "Accepted").unwrap();
        assert_eq!(
            (accepted.status.as_str(), accepted.reason.as_str()),
            ("False", "UnsupportedValue"),
            "{name}: {accepted:?}"
        );
        assert!(
            accepted.message.contains(why),
            "{name}: {}",
            accepted.message
        );
    }
}

/// HTTPRoute308Redirect: Avi's redirect action sends 301, 302 or 307, and the statuses a
/// DataScript's `avi.http.response` sends stop at 307 among redirects (303 is answered that
/// way, see `conformance_redirect.rs`).
#[test]
fn http_route_308_redirect_is_refused() {
    let t = run(&upstream!("httproute-308-redirect"));
    assert_rules_refused(
        &t,
        "308-redirect",
        "a DataScript's avi.http.response 303 but not 308",
    );
    expect(&t, "same-namespace", &[(get("/permanent"), None)]);
}

/// HTTPRouteHTTPSListenerDetectMisdirectedRequests (HTTP/2 connection coalescing): the routes
/// are served, but a request whose Host selects another listener than its SNI did is routed by
/// its Host, not answered 421 (the feature is not claimed). The Avi limit: an enhanced-VH child
/// is chosen by Host alone, no policy match or HTTP DataScript function documented reads the
/// TLS server name to compare with it, and 421 is neither a local-response status before 30.2.1
/// nor among the statuses `avi.http.response` sends.
#[test]
fn http_route_https_listener_detect_misdirected_requests_deviation() {
    let t = run(&upstream!(
        "httproute-https-listener-detect-misdirected-requests"
    ));
    let gw = "same-namespace-with-https-listener";
    for l in ["https", "https-with-hostname"] {
        let ls = listener_status(&t, gw, l);
        assert_condition(&ls.conditions, "Programmed", "True", Some("Programmed"));
    }
    // Host second-example.org is served by its own listener's route whatever the SNI was.
    let out = support::harness::send(
        &t,
        gw,
        &Request::get(443, "second-example.org", "/detect-misdirected-requests"),
    );
    assert_eq!(
        out.backend().as_deref(),
        Some("gateway-conformance-infra/infra-backend-v2")
    );
}

/// UDPRoute: a UDP listener is not accepted (`UnsupportedProtocol`); UDPRoutes are not read.
#[test]
fn udp_route_is_refused() {
    let text = upstream!("udproute-simple");
    let t = run_lenient(&text);
    let gw = serde_saphyr::from_multiple::<serde_json::Value>(&text)
        .unwrap()
        .into_iter()
        .find(|d| d["kind"] == "Gateway")
        .unwrap();
    let gw_name = gw["metadata"]["name"].as_str().unwrap();
    for l in gw["spec"]["listeners"].as_array().unwrap() {
        let ls = listener_status(&t, gw_name, l["name"].as_str().unwrap());
        assert_condition(
            &ls.conditions,
            "Accepted",
            "False",
            Some("UnsupportedProtocol"),
        );
    }
    assert!(!t.statuses.iter().any(|s| matches!(
        s,
        StatusUpdate::Route {
            kind: "UDPRoute",
            ..
        }
    )));
}

/// The TLS listeners in mode Terminate of `manifest`: each `Accepted=False`, `UnsupportedValue`,
/// naming the mode; passthrough listeners beside them are served.
fn assert_terminate_refused(text: &str) -> Translation {
    let t = run(text);
    for doc in serde_saphyr::from_multiple::<serde_json::Value>(text).unwrap() {
        if doc["kind"] != "Gateway" {
            continue;
        }
        let gw = doc["metadata"]["name"].as_str().unwrap();
        for l in doc["spec"]["listeners"].as_array().unwrap() {
            let ls = listener_status(&t, gw, l["name"].as_str().unwrap());
            let accepted = ls
                .conditions
                .iter()
                .find(|c| c.type_ == "Accepted")
                .unwrap();
            if l["tls"]["mode"] == "Terminate" {
                assert_eq!(
                    (accepted.status.as_str(), accepted.reason.as_str()),
                    ("False", "UnsupportedValue")
                );
                assert!(
                    accepted.message.contains("Passthrough only"),
                    "{}",
                    accepted.message
                );
            } else {
                assert_eq!(accepted.status, "True", "{gw}/{}", l["name"]);
            }
        }
    }
    t
}

/// TLSRouteListenerTerminateSupportedKinds (`TLSRouteModeTerminate`, not claimed).
#[test]
fn tls_route_listener_terminate_supported_kinds_is_refused() {
    assert_terminate_refused(&upstream!("tlsroute-listener-terminate-supported-kinds"));
}

/// TLSRouteListenerMixedTerminationNotSupported: the Terminate listener is refused; the
/// Passthrough one on the same port is served.
#[test]
fn tls_route_listener_mixed_termination_not_supported_is_refused() {
    assert_terminate_refused(&upstream!(
        "tlsroute-listener-mixed-termination-not-supported"
    ));
}

/// TLSRouteTerminateSimpleSameNamespace (provisional): refused; the route attaches nowhere.
#[test]
fn tls_route_terminate_simple_same_namespace_is_refused() {
    let t = assert_terminate_refused(&upstream!("tlsroute-terminate-simple-same-namespace"));
    assert!(
        t.model
            .vs_datascript_sets
            .iter()
            .all(|s| !s.name.contains("gateway-tlsroute-terminate"))
    );
}

/// TLSRouteMixedTerminationSameNamespace (provisional): the Passthrough listener and its route
/// are served; the Terminate one is refused.
#[test]
fn tls_route_mixed_termination_same_namespace_is_refused() {
    let t = assert_terminate_refused(&upstream!("tlsroute-mixed-termination-same-namespace"));
    let accepted = |name: &str| {
        t.statuses.iter().find_map(|s| match s {
            StatusUpdate::Route {
                kind: "TLSRoute",
                key,
                status,
                ..
            } if key.1 == name => status["parents"][0]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Accepted"))
                .map(|c| (c["status"].clone(), c["reason"].clone())),
            _ => None,
        })
    };
    // The passthrough route attaches to the passthrough listener; the other has no listener
    // of its mode left (its hostname is the refused Terminate listener's).
    assert_eq!(
        accepted("gateway-conformance-mixed-passthroughroute"),
        Some(("True".into(), "Accepted".into()))
    );
    let (status, _) = accepted("gateway-conformance-mixed-terminateroute").unwrap();
    assert_eq!(status, "False");
    let _ = names::passthrough_vs;
}
