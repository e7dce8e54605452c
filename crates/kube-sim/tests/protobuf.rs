//! Protobuf bodies as client-go sends and reads them, written and read here with an independent
//! encoder (the prost types of `k8s-pb`), against kube-sim over HTTP: create, get, list, watch
//! frames, and what the server refuses.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use k8s_pb::api::core::v1::{ConfigMap, ConfigMapList};
use k8s_pb::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time, WatchEvent};
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use kube::{Client, Config};
use kube_sim::{KubeSim, SimConfig};
use prost::Message;
use serde_json::{Value, json};

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

async fn client(sim: &KubeSim) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::try_from(Config::new(sim.url().parse().unwrap())).unwrap()
}

/// `k8s\0` + `runtime.Unknown`, as client-go's protobuf serializer writes an object.
fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let mut out = b"k8s\0".to_vec();
    out.extend(
        Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
            }),
            raw: Some(raw),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        }
        .encode_to_vec(),
    );
    out
}

fn open(body: &[u8]) -> Unknown {
    let rest = body.strip_prefix(b"k8s\0").expect("magic bytes");
    Unknown::decode(rest).unwrap()
}

async fn send(
    c: &Client,
    method: &str,
    uri: &str,
    content_type: &str,
    accept: &str,
    body: Vec<u8>,
) -> (StatusCode, String, Bytes) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT, accept)
        .body(kube::client::Body::from(body))
        .unwrap();
    let resp = c.send(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, bytes)
}

/// A ConfigMap as Go writes it: every non-pointer string, set or not, and a zero time.
fn go_config_map(name: &str, data: &[(&str, &str)]) -> Vec<u8> {
    let cm = ConfigMap {
        metadata: Some(ObjectMeta {
            name: Some(name.into()),
            generate_name: Some(String::new()),
            namespace: Some(String::new()),
            resource_version: Some(String::new()),
            creation_timestamp: Some(Time::default()),
            labels: BTreeMap::from([("app".into(), "web".into())]),
            ..ObjectMeta::default()
        }),
        data: data
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        ..ConfigMap::default()
    };
    envelope("v1", "ConfigMap", cm.encode_to_vec())
}

#[tokio::test]
async fn a_go_clients_protobuf_objects_are_created_read_listed_and_watched() {
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let c = client(&sim).await;
    let base = "/api/v1/namespaces/default/configmaps";
    let accept = "application/vnd.kubernetes.protobuf, */*";

    let (status, ct, body) = send(
        &c,
        "POST",
        base,
        PROTOBUF,
        accept,
        go_config_map("pb", &[("k", "v"), ("empty", "")]),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(ct, PROTOBUF);
    let u = open(&body);
    assert_eq!(u.type_meta.unwrap().kind.as_deref(), Some("ConfigMap"));
    let created = ConfigMap::decode(u.raw.unwrap_or_default().as_slice()).unwrap();
    let meta = created.metadata.unwrap();
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    assert!(meta.uid.is_some_and(|u| !u.is_empty()));
    assert!(
        meta.creation_timestamp
            .is_some_and(|t| t.seconds.unwrap_or(0) > 0)
    );
    let rv = meta.resource_version.unwrap();
    assert_eq!(created.data.get("empty").map(String::as_str), Some(""));

    // The same object in JSON: Go's empty strings are not there.
    let (_, ct, body) = send(
        &c,
        "GET",
        &format!("{base}/pb"),
        "",
        "application/json",
        vec![],
    )
    .await;
    assert_eq!(ct, "application/json");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["data"], json!({"k": "v", "empty": ""}));
    assert!(v["metadata"].get("generateName").is_none(), "{v}");
    assert_eq!(v["metadata"]["labels"], json!({"app": "web"}));

    // A list in protobuf.
    let (status, _, body) = send(&c, "GET", base, "", accept, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let u = open(&body);
    assert_eq!(u.type_meta.unwrap().kind.as_deref(), Some("ConfigMapList"));
    let list = ConfigMapList::decode(u.raw.unwrap_or_default().as_slice()).unwrap();
    assert!(
        list.items
            .iter()
            .any(|i| i.metadata.as_ref().and_then(|m| m.name.as_deref()) == Some("pb"))
    );

    // A watch in protobuf: length-prefixed WatchEvents around the object's envelope.
    let req = Request::builder()
        .uri(format!("{base}?watch=1&resourceVersion={rv}"))
        .header(header::ACCEPT, accept)
        .body(kube::client::Body::empty())
        .unwrap();
    let resp = c.send(req).await.unwrap();
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "application/vnd.kubernetes.protobuf;stream=watch"
    );
    let mut stream = resp.into_body();
    let (status, _, _) = send(
        &c,
        "PATCH",
        &format!("{base}/pb"),
        "application/merge-patch+json",
        "application/json",
        br#"{"data":{"k":"changed"}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut buf = Vec::new();
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if buf.len() >= 4 {
                let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
                if buf.len() >= 4 + len {
                    let u = open(&buf[4..4 + len]);
                    return WatchEvent::decode(u.raw.unwrap_or_default().as_slice()).unwrap();
                }
            }
            let frame = stream.frame().await.unwrap().unwrap();
            if let Ok(data) = frame.into_data() {
                buf.extend_from_slice(&data);
            }
        }
    })
    .await
    .expect("a watch event within 10 s");
    assert_eq!(event.r#type.as_deref(), Some("MODIFIED"));
    let inner = open(&event.object.unwrap().raw.unwrap_or_default());
    let changed = ConfigMap::decode(inner.raw.unwrap_or_default().as_slice()).unwrap();
    assert_eq!(changed.data.get("k").map(String::as_str), Some("changed"));
}

#[tokio::test]
async fn what_has_no_protobuf_form_or_does_not_parse_is_refused_with_a_status() {
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    sim.install(vec![json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                          "x-kubernetes-preserve-unknown-fields": true}}}]}})])
        .unwrap();
    let c = client(&sim).await;
    let widgets = "/apis/example.com/v1/namespaces/default/widgets";

    // A custom resource: JSON when the client also takes it, 406 when it takes only protobuf.
    let (status, ct, _) = send(
        &c,
        "GET",
        widgets,
        "",
        "application/vnd.kubernetes.protobuf, application/json",
        vec![],
    )
    .await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/json"));
    let (status, _, body) = send(&c, "GET", widgets, "", PROTOBUF, vec![]).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["reason"], "NotAcceptable");
    // ... and a protobuf body for it is 415.
    let (status, _, body) = send(
        &c,
        "POST",
        widgets,
        PROTOBUF,
        "application/json",
        envelope("example.com/v1", "Widget", vec![]),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        String::from_utf8_lossy(&body)
    );

    // Garbage, a wrong kind, no magic: 400 with the reason, and nothing stored.
    let base = "/api/v1/namespaces/default/configmaps";
    for (body, says) in [
        (b"k8s\0\xff\xff\xff\xff\xff".to_vec(), "does not parse"),
        (b"{\"apiVersion\":\"v1\"}".to_vec(), "magic"),
        (envelope("v1", "Secret", vec![]), "Secret"),
    ] {
        let (status, _, answer) = send(&c, "POST", base, PROTOBUF, "application/json", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let v: Value = serde_json::from_slice(&answer).unwrap();
        assert!(v["message"].as_str().unwrap().contains(says), "{v}");
    }
    let (_, _, body) = send(&c, "GET", base, "", "application/json", vec![]).await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["items"], json!([]));
}
