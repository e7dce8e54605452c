use super::*;
use crate::lua::lua_string;

fn filter(v: serde_json::Value) -> HttpRouteRulesFiltersCors {
    serde_json::from_value(v).unwrap()
}

#[test]
fn origins_split_into_exact_and_wildcard_lowercase() {
    let c = Cors::from_filter(&filter(serde_json::json!({
        "allowOrigins": ["https://www.Foo.com", "https://*.bar.com", "http://*.x.org:8080"],
        "allowMethods": ["GET", "OPTIONS"],
        "allowHeaders": ["x-header-1"],
        "exposeHeaders": ["x-header-3"],
        "allowCredentials": true,
        "maxAge": 3600
    })))
    .unwrap();
    assert!(!c.any_origin);
    assert_eq!(c.exact, vec!["https://www.foo.com"]);
    assert_eq!(
        c.wildcard,
        vec![
            ("https://".to_owned(), ".bar.com".to_owned()),
            ("http://".to_owned(), ".x.org:8080".to_owned())
        ]
    );
    assert!(c.credentials);
    assert_eq!(c.methods, Allow::Only(vec!["GET".into(), "OPTIONS".into()]));
    assert_eq!(c.max_age, 3600);
}

#[test]
fn defaults_are_the_crds() {
    let c = Cors::from_filter(&filter(serde_json::json!({"allowOrigins": ["*"]}))).unwrap();
    assert!(c.any_origin);
    assert!(!c.credentials);
    assert_eq!(c.max_age, DEFAULT_MAX_AGE);
    assert_eq!(c.methods, Allow::Only(vec![]));
}

#[test]
fn hostile_filters_are_refused_with_their_reason() {
    let cases = [
        (
            serde_json::json!({"allowOrigins": ["*", "https://a.com"]}),
            "must stand alone",
        ),
        (
            serde_json::json!({"allowOrigins": ["https://a.com\"\navi.http.close_conn()--"]}),
            "is not",
        ),
        (serde_json::json!({"allowOrigins": ["a.com"]}), "is not"),
        (
            serde_json::json!({"allowOrigins": ["https://a.com:99999"]}),
            "is not",
        ),
        (
            serde_json::json!({"allowOrigins": ["https://a..com"]}),
            "is not",
        ),
        (
            serde_json::json!({"allowOrigins": ["https://*.com/x"]}),
            "is not",
        ),
        (
            serde_json::json!({"allowOrigins": [format!("https://{}.com", "a".repeat(600))]}),
            "is not",
        ),
        (
            serde_json::json!({"allowMethods": ["GET", "*"]}),
            "must stand alone",
        ),
        (serde_json::json!({"allowMethods": ["GE T"]}), "HTTP token"),
        (
            serde_json::json!({"allowHeaders": ["x\r\nset-cookie: a"]}),
            "HTTP token",
        ),
        (serde_json::json!({"exposeHeaders": [""]}), "HTTP token"),
        (serde_json::json!({"maxAge": 0}), "below 1"),
        (
            serde_json::json!({"exposeHeaders": ["*", "x-a"]}),
            "must stand alone",
        ),
        (
            serde_json::json!({"exposeHeaders": ["*"], "allowCredentials": true}),
            "cannot be honoured",
        ),
        (
            serde_json::json!({"allowOrigins": (0..65).map(|i| format!("https://a{i}.com")).collect::<Vec<_>>()}),
            "at most 64",
        ),
    ];
    for (f, want) in cases {
        let e = Cors::from_filter(&filter(f.clone()))
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{f}: {e}");
        assert!(!e.contains('\n') && !e.contains('\r'), "{e:?}");
    }
}

#[test]
fn lua_literals_cannot_be_ended_by_a_value() {
    assert_eq!(lua_string("a\"b\\c\nd"), "\"a\\034b\\092c\\010d\"");
    assert_eq!(lua_string("é"), "\"\\195\\169\"");
}

#[test]
fn both_scripts_carry_the_same_table() {
    let c = Cors::from_filter(&filter(serde_json::json!({
        "allowOrigins": ["https://*.bar.com"], "allowMethods": ["*"], "allowHeaders": ["*"],
        "exposeHeaders": ["x-a", "x-b"]
    })))
    .unwrap();
    let scripts = c.datascripts();
    assert_eq!(scripts.len(), 2);
    assert_eq!(scripts[0].evt, REQUEST_EVENT);
    assert_eq!(scripts[1].evt, RESPONSE_EVENT);
    for s in &scripts {
        assert!(
            s.script
                .contains("wildcard = {{\"https://\", \".bar.com\"}}"),
            "{}",
            s.script
        );
        assert!(s.script.contains("any_method = true"));
        assert!(s.script.contains("expose = \"x-a, x-b\""));
        assert!(s.script.contains("max_age = \"5\""));
    }
    assert!(scripts[0].script.contains("avi.http.response(200, h)"));
    assert!(scripts[1].script.contains("avi.HTTP_REQUEST"));
}
