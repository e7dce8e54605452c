//! Benchmarks: a full translation of 10,000 HTTPRoutes (3 rules, each to the route's 2 backend
//! Services; 20,000 Services with one endpoint each, so 20,000 endpoints) against the time to
//! deserialize the same objects from JSON, and one Service's endpoints changing under
//! [`Incremental`].
//!
//! `cargo bench -p gateway-translate --bench translate`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gateway_api::gatewayclasses::GatewayClass;
use gateway_api::gateways::Gateway;
use gateway_api::httproutes::HttpRoute;
use gateway_translate::{Incremental, Settings, Snapshot, Update, translate};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

const ROUTES: usize = 10_000;
const NAMESPACES: usize = 100;
const ROUTES_PER_NS: usize = ROUTES / NAMESPACES;
const ENDPOINTS_PER_SERVICE: usize = 1;
const GATEWAYS: usize = 10;

fn slice(ns: usize, svc: usize, generation: usize) -> Value {
    let endpoints: Vec<Value> = (0..ENDPOINTS_PER_SERVICE)
        .map(|e| {
            json!({"addresses": [format!("10.{}.{}.{}", ns % 250, svc % 250, e + 1 + generation)],
                   "conditions": {"ready": true}})
        })
        .collect();
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
        "metadata": {"name": format!("svc-{svc}-abcde"), "namespace": format!("ns-{ns}"),
                     "labels": {"kubernetes.io/service-name": format!("svc-{svc}")}},
        "ports": [{"name": "http", "port": 8080}], "endpoints": endpoints})
}

/// Every object, by kind, as JSON documents.
fn objects() -> Vec<(&'static str, Vec<Value>)> {
    let class = vec![
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": "avi-lb"}, "spec": {"controllerName": "ako.vmware.com/avi-lb"}}),
    ];
    let gateways = (0..GATEWAYS)
        .map(|g| {
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": format!("gw-{g}"), "namespace": "gateways"},
            "spec": {"gatewayClassName": "avi-lb", "listeners": [
                {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}]}})
        })
        .collect();
    let namespaces = (0..NAMESPACES)
        .map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("ns-{n}")}}))
        .collect();
    let mut services = Vec::new();
    let mut slices = Vec::new();
    for n in 0..NAMESPACES {
        for s in 0..ROUTES_PER_NS * 2 {
            services.push(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": format!("svc-{s}"), "namespace": format!("ns-{n}")},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}));
            slices.push(slice(n, s, 0));
        }
    }
    let routes = (0..ROUTES)
        .map(|r| {
            let ns = r % NAMESPACES;
            let rules: Vec<Value> = (0..3)
                .map(|k| {
                    let local = r / NAMESPACES;
                    let backends: Vec<Value> = (0..2)
                        .map(|b| json!({"name": format!("svc-{}", local * 2 + b), "port": 80, "weight": 1 + b + k}))
                        .collect();
                    json!({"matches": [{"path": {"type": "PathPrefix", "value": format!("/r{r}/rule{k}")},
                                        "headers": [{"name": "x-tier", "value": format!("t{k}")}]}],
                           "backendRefs": backends})
                })
                .collect();
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                "metadata": {"name": format!("route-{r}"), "namespace": format!("ns-{ns}"),
                             "creationTimestamp": "2026-11-01T00:00:00Z"},
                "spec": {"parentRefs": [{"name": format!("gw-{}", r % GATEWAYS), "namespace": "gateways"}],
                         "hostnames": [format!("app-{}.example.com", r / 4)],
                         "rules": rules}})
        })
        .collect();
    vec![
        ("GatewayClass", class),
        ("Gateway", gateways),
        ("Namespace", namespaces),
        ("Service", services),
        ("EndpointSlice", slices),
        ("HTTPRoute", routes),
    ]
}

fn snapshot(objects: &[(&str, Vec<Value>)]) -> Snapshot {
    let mut s = Snapshot::default();
    for (_, docs) in objects {
        for d in docs {
            s.insert_json(d.clone()).unwrap();
        }
    }
    s
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap())
}

fn full(c: &mut Criterion) {
    let objects = objects();
    // The JSON text a watch would deliver, per kind.
    let texts: Vec<(&str, String)> = objects
        .iter()
        .map(|(k, docs)| (*k, serde_json::to_string(docs).unwrap()))
        .collect();
    let s = snapshot(&objects);
    let settings = Settings::default();
    let t = translate(&s, &settings, &now());
    eprintln!(
        "model: {} virtual services, {} pools, {} pool groups, {} servers",
        t.model.virtual_services.len(),
        t.model.pools.len(),
        t.model.pool_groups.len(),
        t.model.pools.iter().map(|p| p.servers.len()).sum::<usize>()
    );

    let mut group = c.benchmark_group("10k_routes");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("deserialize_json", |b| {
        b.iter(|| {
            for (kind, text) in &texts {
                match *kind {
                    "GatewayClass" => {
                        black_box(serde_json::from_str::<Vec<GatewayClass>>(text).unwrap());
                    }
                    "Gateway" => {
                        black_box(serde_json::from_str::<Vec<Gateway>>(text).unwrap());
                    }
                    "Namespace" => {
                        black_box(serde_json::from_str::<Vec<Namespace>>(text).unwrap());
                    }
                    "Service" => {
                        black_box(serde_json::from_str::<Vec<Service>>(text).unwrap());
                    }
                    "EndpointSlice" => {
                        black_box(serde_json::from_str::<Vec<EndpointSlice>>(text).unwrap());
                    }
                    _ => {
                        black_box(serde_json::from_str::<Vec<HttpRoute>>(text).unwrap());
                    }
                }
            }
        })
    });
    group.bench_function("translate", |b| {
        b.iter(|| black_box(translate(black_box(&s), &settings, &now())))
    });
    // The output (120,000 Avi objects) is larger than the input; freeing it is a third of the
    // time above, so the same run without the drop shows what the translation itself costs.
    group.bench_function("translate_without_drop", |b| {
        b.iter_with_large_drop(|| translate(black_box(&s), &settings, &now()))
    });
    group.finish();
}

fn incremental(c: &mut Criterion) {
    let objects = objects();
    let mut s = snapshot(&objects);
    let mut inc = Incremental::new(&s, Settings::default(), &now());
    let mut generation = 0;
    c.bench_function("10k_routes/endpoint_change", |b| {
        b.iter_batched(
            || {
                generation += 1;
                slice(42, 7, generation % 2 + 1)
            },
            |changed| {
                s.insert_json(changed).unwrap();
                let update = inc.endpoints_changed(&s, "ns-42", "svc-7", &now());
                assert!(
                    matches!(update, Update::Pools(ref p) if !p.is_empty()),
                    "{update:?}"
                );
                black_box(update)
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, full, incremental);
criterion_main!(benches);
