// Shared by tests/watch_load.rs and benches/watch_load.rs (included with `#[path]`).

use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use kube::{Client, Config};
use kube_sim::{KubeSim, SimConfig};
use serde_json::json;

/// What one run measured.
pub struct LoadReport {
    pub slices: usize,
    pub watchers: usize,
    pub create_secs: f64,
    pub last_delivery_secs: f64,
    pub events_per_watcher: Vec<usize>,
}

fn slice(i: usize) -> EndpointSlice {
    serde_json::from_value(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("web-{i:05}"), "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [format!("10.{}.{}.{}", i / 65536, i / 256 % 256, i % 256)], "conditions": {"ready": true}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
    }))
    .unwrap_or_default()
}

/// Creates `slices` EndpointSlices (8 writers) while `watchers` watches follow; checks every
/// watcher saw every creation exactly once, in resourceVersion order.
pub async fn run(slices: usize, watchers: usize) -> LoadReport {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = KubeSim::start(SimConfig {
        history: slices * 2,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = Client::try_from(Config::new(sim.url().parse().unwrap())).unwrap();
    let api: Api<EndpointSlice> = Api::namespaced(client, "default");
    let start_rv = api
        .list_metadata(&Default::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();

    let started = Instant::now();
    let mut followers = Vec::new();
    for _ in 0..watchers {
        let api = api.clone();
        let from = start_rv.clone();
        followers.push(tokio::spawn(async move {
            let mut seen: Vec<(u64, String)> = Vec::with_capacity(slices);
            let stream = api
                .watch(&WatchParams::default().timeout(290), &from)
                .await
                .unwrap();
            futures_util::pin_mut!(stream);
            while let Some(event) = stream.try_next().await.unwrap() {
                if let WatchEvent::Added(s) = event {
                    let rv: u64 = s.metadata.resource_version.unwrap().parse().unwrap();
                    seen.push((rv, s.metadata.name.unwrap()));
                    if seen.len() == slices {
                        break;
                    }
                }
            }
            (seen, started.elapsed())
        }));
    }
    let creating = Instant::now();
    futures_util::stream::iter(0..slices)
        .map(|i| {
            let api = api.clone();
            async move { api.create(&PostParams::default(), &slice(i)).await.unwrap() }
        })
        .buffer_unordered(8)
        .for_each(|_| async {})
        .await;
    let create_secs = creating.elapsed().as_secs_f64();
    let mut events_per_watcher = Vec::new();
    let mut last = Duration::ZERO;
    for f in followers {
        let (seen, at) = tokio::time::timeout(Duration::from_secs(120), f)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seen.len(), slices, "a watcher missed events");
        assert!(
            seen.windows(2).all(|w| w[0].0 < w[1].0),
            "events out of order"
        );
        let mut names: Vec<&String> = seen.iter().map(|(_, n)| n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), slices, "duplicate events");
        events_per_watcher.push(seen.len());
        last = last.max(at);
    }
    LoadReport {
        slices,
        watchers,
        create_secs,
        last_delivery_secs: last.as_secs_f64(),
        events_per_watcher,
    }
}
