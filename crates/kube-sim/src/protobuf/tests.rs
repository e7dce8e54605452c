use serde_json::json;

use super::*;

#[test]
fn the_descriptor_set_holds_every_served_builtin_kind() {
    for r in crate::resources::builtins() {
        assert!(supports(&r.api_version(), &r.kind), "{}", r.kind);
        assert!(
            supports(&r.api_version(), &format!("{}List", r.kind)),
            "{}List",
            r.kind
        );
    }
    assert!(supports("v1", "Status"));
    assert!(!supports("gateway.networking.k8s.io/v1", "Gateway"));
}

#[test]
fn a_namespace_from_a_go_client_reads_as_its_json_without_gos_empty_strings() {
    // Go writes every non-pointer field, set or not: empty strings and a zero Time.
    let d = descriptor("v1", "Namespace").unwrap();
    let mut ns = json_to_message(
        &d,
        &json!({"metadata": {"name": "team-a", "generateName": "", "namespace": "",
                             "labels": {"team": "a"}}}),
        "",
        0,
    )
    .unwrap();
    let meta_field = d.field_by_name("metadata").unwrap();
    let meta = meta_field.mut_message(&mut *ns);
    let time = messages()
        .get(&(META.to_owned(), "Time".to_owned()))
        .unwrap()
        .new_instance();
    set(meta, "creationTimestamp", ReflectValueBox::Message(time));
    let body = unknown("v1", "Namespace", ns.write_to_bytes_dyn().unwrap()).unwrap();
    let v = decode(&body, "v1", "Namespace").unwrap();
    assert_eq!(
        v,
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "team-a", "labels": {"team": "a"}}})
    );
}

#[test]
fn objects_survive_json_protobuf_json() {
    let cases = [
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "s", "namespace": "d", "resourceVersion": "7",
                            "creationTimestamp": "2026-12-07T16:00:00Z",
                            "annotations": {"a": ""}},
               "type": "kubernetes.io/tls",
               "data": {"tls.crt": "Y2VydA==", "tls.key": ""}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "namespace": "d", "generation": 3},
               "data": {"k": "v", "empty": ""}, "immutable": false}),
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web", "namespace": "d"},
               "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.1",
                        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                                  {"name": "named", "port": 81, "targetPort": "web"}],
                        "selector": {"app": "web"}},
               "status": {"loadBalancer": {}}}),
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "ako", "namespace": "avi-system"},
               "spec": {"holderIdentity": "pod-1", "leaseDurationSeconds": 15,
                        "renewTime": "2026-12-07T16:00:01.250000Z"}}),
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "p", "namespace": "d"},
               "spec": {"volumes": [{"name": "certs", "secret": {"secretName": "istio"}}],
                        "containers": [{"name": "c", "image": "i",
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                        "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}}]},
               "status": {"phase": "Running"}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "i", "namespace": "d"},
               "spec": {"ingressClassName": "avi-lb",
                        "rules": [{"host": "a.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                   "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
        json!({"apiVersion": "v1", "kind": "ConfigMapList",
               "metadata": {"resourceVersion": "9", "continue": "x"},
               "items": [{"metadata": {"name": "a"}, "data": {"k": "v"}}]}),
    ];
    for v in cases {
        let kind = v["kind"].as_str().unwrap();
        let api_version = v["apiVersion"].as_str().unwrap();
        let bytes = encode(&v).unwrap();
        assert!(bytes.starts_with(b"k8s\0"));
        let back = decode(&bytes, api_version, kind).unwrap();
        assert_eq!(back, v, "{kind}");
    }
}

#[test]
fn managed_fields_and_events_keep_their_embedded_json_and_times() {
    let v = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "e", "namespace": "d",
                     "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
                                        "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}, "f:k": {}}},
                                        "time": "2026-12-07T16:00:00Z"}]},
        "involvedObject": {"kind": "Gateway", "name": "g", "namespace": "d"},
        "reason": "Synced", "message": "ok", "type": "Normal", "count": 2,
        "firstTimestamp": "2026-12-07T16:00:00Z",
        "eventTime": "2026-12-07T16:00:00.123456Z"});
    assert_eq!(decode(&encode(&v).unwrap(), "v1", "Event").unwrap(), v);
}

#[test]
fn a_crd_schema_keeps_its_dollar_and_x_kubernetes_names_and_unions() {
    let v = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                     "schema": {"openAPIV3Schema": {"type": "object",
                         "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"spec": {"type": "object",
                             "additionalProperties": {"type": "string"},
                             "x-kubernetes-validations": [{"rule": "self.size() < 3"}]},
                             "port": {"x-kubernetes-int-or-string": true, "default": 80}},
                         "required": ["spec"]}}}]}});
    assert_eq!(
        decode(
            &encode(&v).unwrap(),
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition"
        )
        .unwrap(),
        v
    );
}

#[test]
fn hostile_bodies_are_refused_with_a_reason() {
    assert_eq!(decode(b"", "v1", "Namespace"), Err(ProtoError::NoMagic));
    assert_eq!(
        decode(b"{\"kind\":1}", "v1", "Namespace"),
        Err(ProtoError::NoMagic)
    );
    assert!(matches!(
        decode(b"k8s\0\xff\xff\xff\xff\xff", "v1", "Namespace"),
        Err(ProtoError::Malformed(_))
    ));
    // A ConfigMap sent to the namespaces resource.
    let cm = encode(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}))
        .unwrap();
    assert_eq!(
        decode(&cm, "v1", "Namespace"),
        Err(ProtoError::WrongKind {
            want: "Namespace".into(),
            got: "ConfigMap".into()
        })
    );
    let widget = unknown("example.com/v1", "Widget", Vec::new()).unwrap();
    assert!(matches!(
        decode(&widget, "example.com/v1", "Widget"),
        Err(ProtoError::UnknownKind { .. })
    ));
    // A raw that is not the message: metadata (field 1) whose name (field 1) is not UTF-8.
    let bad_raw = vec![0x0a, 0x03, 0x0a, 0x01, 0xff];
    assert!(
        decode(
            &unknown("v1", "Namespace", bad_raw).unwrap(),
            "v1",
            "Namespace"
        )
        .is_err()
    );
    // Nesting far beyond any object: refused, not a stack overflow.
    let mut deep = json!({"type": "object"});
    for _ in 0..200 {
        deep = json!({"type": "object", "properties": {"x": deep}});
    }
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "a.b"}, "spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": deep}}]}});
    assert!(encode(&crd).is_err());
    // Values that do not fit their fields.
    let e = encode(
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 99999999999_i64}]}}),
    )
    .unwrap_err();
    assert!(e.to_string().contains(".spec.ports[0].port"), "{e}");
    assert!(
        encode(&json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "not base64!"}}))
            .is_err()
    );
}

#[test]
fn every_prefix_of_a_body_is_an_error_or_an_object_never_a_panic() {
    let v = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "d", "labels": {"a": "b"}},
        "data": {"k": "dmFsdWU="}});
    let bytes = encode(&v).unwrap();
    for n in 0..bytes.len() {
        let _ = decode(&bytes[..n], "v1", "Secret");
    }
}

#[test]
fn a_watch_frame_is_a_length_and_an_event_around_the_object() {
    let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let frame = watch_frame("ADDED", &obj, "v1").unwrap();
    let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
    assert_eq!(len, frame.len() - 4);
    let u = open_envelope(&frame[4..]).unwrap();
    assert_eq!(u.kind, "WatchEvent");
    let d = envelope_message(META, "WatchEvent").unwrap();
    let e = d.parse_from_bytes(&u.raw).unwrap();
    assert_eq!(str_field(&*e, &d, "type").as_deref(), Some("ADDED"));
    let object = d.field_by_name("object").unwrap().get_message(&*e);
    let inner = bytes_field(&*object, &object.descriptor_dyn(), "raw").unwrap();
    assert_eq!(decode(&inner, "v1", "ConfigMap").unwrap(), obj);
    // The ERROR event carries a Status.
    let status = json!({"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 410,
        "reason": "Expired", "message": "too old", "metadata": {}});
    assert!(watch_frame("ERROR", &status, "v1").is_ok());
}

#[test]
fn accept_headers_pick_the_first_writable_type() {
    assert_eq!(negotiate(None), Some(Wire::Json));
    assert_eq!(
        negotiate(Some("application/vnd.kubernetes.protobuf, */*")),
        Some(Wire::Protobuf)
    );
    assert_eq!(
        negotiate(Some(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        )),
        Some(Wire::Json)
    );
    assert_eq!(negotiate(Some("application/cbor")), None);
    assert!(accepts_json(Some(
        "application/vnd.kubernetes.protobuf, */*"
    )));
    assert!(!accepts_json(Some("application/vnd.kubernetes.protobuf")));
    assert!(is_protobuf(
        "application/vnd.kubernetes.protobuf; charset=binary"
    ));
}

#[test]
fn durations_read_and_print_as_go_does() {
    for (ns, s) in [
        (0, "0s"),
        (1_500_000_000, "1.5s"),
        (90_000_000_000, "1m30s"),
        (3_600_000_000_000, "1h0m0s"),
        (150_000_000, "150ms"),
    ] {
        assert_eq!(format_duration(ns), s);
        assert_eq!(parse_duration(s), Some(ns));
    }
    assert_eq!(parse_duration("1x"), None);
    assert_eq!(parse_duration("h"), None);
    assert_eq!(parse_duration("99999999999999999999h"), None);
}
