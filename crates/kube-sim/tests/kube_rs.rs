//! kube-rs against kube-sim: what the product's controllers do, end to end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Config, Resource};
use kube_sim::{KubeSim, SimConfig};
use serde_json::json;

async fn client(sim: &KubeSim) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = Config::new(sim.url().parse().unwrap());
    Client::try_from(config).unwrap()
}

fn cm(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "data": data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
    }))
    .unwrap()
}

#[tokio::test]
async fn api_crud_conflicts_and_every_patch_type() {
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&sim).await, "default");
    let created = api
        .create(&PostParams::default(), &cm("a", &[("k", "1")]))
        .await
        .unwrap();
    let meta = &created.metadata;
    assert!(
        meta.uid.is_some() && meta.creation_timestamp.is_some() && meta.resource_version.is_some()
    );
    let err = api
        .create(&PostParams::default(), &cm("a", &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{err:?}"
    );

    // Optimistic concurrency: a replace with a stale resourceVersion is a Conflict.
    let mut stale = created.clone();
    let mut fresh = created.clone();
    fresh.data = Some(BTreeMap::from([("k".into(), "2".into())]));
    api.replace("a", &PostParams::default(), &fresh)
        .await
        .unwrap();
    stale.data = Some(BTreeMap::from([("k".into(), "3".into())]));
    let err = api
        .replace("a", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict"),
        "{err:?}"
    );

    let pp = PatchParams::default();
    api.patch("a", &pp, &Patch::Merge(json!({"data": {"m": "merge"}})))
        .await
        .unwrap();
    let jp: json_patch::Patch =
        serde_json::from_value(json!([{"op": "add", "path": "/data/j", "value": "json"}])).unwrap();
    api.patch("a", &pp, &Patch::Json::<()>(jp)).await.unwrap();
    api.patch(
        "a",
        &pp,
        &Patch::Strategic(json!({"metadata": {"finalizers": ["x/y"]}})),
    )
    .await
    .unwrap();
    let apply = PatchParams::apply("test-manager").force();
    let applied = api
        .patch(
            "a",
            &apply,
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"s": "ssa"}})),
        )
        .await
        .unwrap();
    let data = applied.data.clone().unwrap();
    for (k, v) in [("k", "2"), ("m", "merge"), ("j", "json"), ("s", "ssa")] {
        assert_eq!(data.get(k).map(String::as_str), Some(v), "{data:?}");
    }
    let managers: Vec<String> = applied
        .metadata
        .managed_fields
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.contains(&"test-manager".to_owned()),
        "{managers:?}"
    );

    // Server-side apply creates what does not exist.
    api.patch(
        "b",
        &apply,
        &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"x": "1"}})),
    )
    .await
    .unwrap();
    assert_eq!(
        api.list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        api.list(&ListParams::default().fields("metadata.name=b"))
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // Delete with a finalizer only marks; removing the finalizer deletes.
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let marked = api.get("a").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    api.patch(
        "a",
        &pp,
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    let err = api.get("a").await.unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 404 && s.reason == "NotFound"),
        "{err:?}"
    );
}

#[tokio::test]
async fn paging_with_limit_and_continue() {
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&sim).await, "default");
    for i in 0..7 {
        api.create(&PostParams::default(), &cm(&format!("c{i}"), &[]))
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(3);
    loop {
        let page = api.list(&lp).await.unwrap();
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    assert_eq!(names, ["c0", "c1", "c2", "c3", "c4", "c5", "c6"]);
}

fn gateway_crd() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    })
}

#[tokio::test]
async fn crds_are_served_with_status_subresource_and_generation() {
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let client = client(&sim).await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(
        &PostParams::default(),
        &serde_json::from_value(gateway_crd()).unwrap(),
    )
    .await
    .unwrap();
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let w: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {"size": 1}, "status": {"ignored": true}}))
        .unwrap();
    let created = widgets.create(&PostParams::default(), &w).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(
        created.data.get("status").is_none(),
        "status is ignored on create"
    );

    let ssa = PatchParams::apply("ctrl").force();
    let s = widgets
        .patch_status("w", &ssa, &Patch::Apply(json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": {"ready": true}})))
        .await
        .unwrap();
    assert_eq!(s.data["status"]["ready"], true);
    assert_eq!(
        s.metadata.generation,
        Some(1),
        "status writes do not bump generation"
    );
    let s = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 2}, "status": {"ready": false}})),
        )
        .await
        .unwrap();
    assert_eq!(s.metadata.generation, Some(2));
    assert_eq!(
        s.data["status"]["ready"], true,
        "main-resource writes leave status alone"
    );
    let s = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        s.metadata.generation,
        Some(2),
        "metadata changes do not bump generation"
    );
    // Strategic merge is refused for custom resources, as on a real cluster.
    let err = widgets
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 415),
        "{err:?}"
    );
}

/// Reflector store contents as sorted (name, data) pairs.
fn snapshot(
    store: &reflector::Store<ConfigMap>,
) -> Vec<(String, Option<BTreeMap<String, String>>)> {
    let mut v: Vec<_> = store
        .state()
        .iter()
        .map(|c| (c.metadata.name.clone().unwrap(), c.data.clone()))
        .collect();
    v.sort();
    v
}

async fn server_view(api: &Api<ConfigMap>) -> Vec<(String, Option<BTreeMap<String, String>>)> {
    let mut v: Vec<_> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| (c.metadata.name.unwrap(), c.data))
        .collect();
    v.sort();
    v
}

async fn converged(store: &reflector::Store<ConfigMap>, api: &Api<ConfigMap>) {
    for _ in 0..100 {
        if snapshot(store) == server_view(api).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "reflector diverged:\n store {:?}\n server {:?}",
        snapshot(store),
        server_view(api).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflector_survives_dropped_watches_and_410() {
    for streaming in [false, true] {
        let sim = KubeSim::start(SimConfig {
            history: 50,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let api: Api<ConfigMap> = Api::namespaced(client(&sim).await, "default");
        for i in 0..5 {
            api.create(&PostParams::default(), &cm(&format!("r{i}"), &[("v", "0")]))
                .await
                .unwrap();
        }
        let (reader, writer) = reflector::store();
        let wc = if streaming {
            watcher::Config::default().streaming_lists()
        } else {
            watcher::Config::default()
        };
        let stream = reflector(writer, watcher(api.clone(), wc))
            .default_backoff()
            .applied_objects();
        let task = tokio::spawn(async move {
            futures_util::pin_mut!(stream);
            while stream.next().await.is_some() {}
        });
        reader.wait_until_ready().await.unwrap();
        converged(&reader, &api).await;

        // Changes, then the server drops every watch: the watcher resumes from its version.
        api.patch(
            "r0",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": "1"}})),
        )
        .await
        .unwrap();
        sim.drop_watches();
        api.delete("r1", &DeleteParams::default()).await.unwrap();
        api.create(&PostParams::default(), &cm("r9", &[]))
            .await
            .unwrap();
        converged(&reader, &api).await;

        // History compacted while the watch is down: the resume gets 410 and re-lists.
        sim.compact();
        sim.expire_next_watch();
        sim.drop_watches();
        for i in 0..80 {
            api.patch(
                "r2",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"v": i.to_string()}})),
            )
            .await
            .unwrap();
        }
        api.delete("r3", &DeleteParams::default()).await.unwrap();
        converged(&reader, &api).await;
        assert!(
            sim.expired_watches() >= 1,
            "the resume must have met the 410 ERROR event"
        );
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_reconciles_and_events_are_recorded() {
    use kube::runtime::controller::{Action, Controller};
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let client = client(&sim).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &cm("ctl", &[]))
        .await
        .unwrap();
    let reconciles = Arc::new(AtomicUsize::new(0));
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "kube-sim-test".into(),
            instance: None,
        },
    );
    struct Ctx {
        api: Api<ConfigMap>,
        count: Arc<AtomicUsize>,
        recorder: Recorder,
    }
    let ctx = Arc::new(Ctx {
        api: api.clone(),
        count: reconciles.clone(),
        recorder,
    });
    let controller = Controller::new(api.clone(), watcher::Config::default())
        .run(
            |obj: Arc<ConfigMap>, ctx: Arc<Ctx>| async move {
                ctx.count.fetch_add(1, Ordering::SeqCst);
                let name = obj.metadata.name.clone().unwrap_or_default();
                ctx.api
                    .patch(&name, &PatchParams::apply("reconciler").force(), &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"seen": "yes"}})))
                    .await?;
                let reference = obj.object_ref(&());
                ctx.recorder
                    .publish(&Event { type_: EventType::Normal, reason: "Reconciled".into(), note: Some("ok".into()), action: "Reconcile".into(), secondary: None }, &reference)
                    .await?;
                Ok::<_, kube::Error>(Action::await_change())
            },
            |_obj, _err: &kube::Error, _ctx| Action::requeue(Duration::from_secs(1)),
            ctx,
        )
        .for_each(|_| async {});
    let run = tokio::spawn(controller);
    for _ in 0..100 {
        if api
            .get("ctl")
            .await
            .unwrap()
            .data
            .and_then(|d| d.get("seen").cloned())
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        api.get("ctl")
            .await
            .unwrap()
            .data
            .unwrap()
            .get("seen")
            .map(String::as_str),
        Some("yes")
    );
    assert!(reconciles.load(Ordering::SeqCst) >= 1);
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(client.clone(), "default");
    let mut found = false;
    for _ in 0..100 {
        found = events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("Reconciled"));
        if found {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(found, "the Recorder's event reached the server");
    run.abort();
}

#[tokio::test]
async fn lease_leader_election_has_exactly_one_winner() {
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let leases: Api<Lease> = Api::namespaced(client(&sim).await, "default");
    let lease: Lease = serde_json::from_value(json!({"metadata": {"name": "ako-leader"},
        "spec": {"holderIdentity": "nobody", "leaseDurationSeconds": 15}}))
    .unwrap();
    leases.create(&PostParams::default(), &lease).await.unwrap();
    // Two candidates read the same version and both try to take the lease.
    let seen = leases.get("ako-leader").await.unwrap();
    let mut outcomes = Vec::new();
    for who in ["pod-a", "pod-b"] {
        let mut take = seen.clone();
        take.spec.as_mut().unwrap().holder_identity = Some(who.into());
        outcomes.push(
            leases
                .replace("ako-leader", &PostParams::default(), &take)
                .await
                .map(|_| who),
        );
    }
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    assert!(matches!(&outcomes[1], Err(kube::Error::Api(s)) if s.code == 409));
    assert_eq!(
        leases
            .get("ako-leader")
            .await
            .unwrap()
            .spec
            .unwrap()
            .holder_identity
            .as_deref(),
        Some("pod-a")
    );
}

#[tokio::test]
async fn gateway_api_types_round_trip_through_the_preloaded_crds() {
    use gateway_api::gatewayclasses::GatewayClass;
    use gateway_api::httproutes::HttpRoute as HTTPRoute;
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let mut crds = kube_sim::crds::gateway_api();
    crds.extend(kube_sim::crds::ako());
    sim.install(crds).unwrap();
    let client = client(&sim).await;
    let classes: Api<GatewayClass> = Api::all(client.clone());
    let class: GatewayClass = serde_json::from_value(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": "avi-lb"}, "spec": {"controllerName": "ako.vmware.com/avi-lb"}}),
    )
    .unwrap();
    classes
        .create(&PostParams::default(), &class)
        .await
        .unwrap();
    let routes: Api<HTTPRoute> = Api::namespaced(client.clone(), "default");
    let route: HTTPRoute = serde_json::from_value(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["web.example.com"],
                 "rules": [{"backendRefs": [{"name": "web", "port": 8080}]}]}}),
    )
    .unwrap();
    routes.create(&PostParams::default(), &route).await.unwrap();
    let status = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "status": {"parents": [{
        "parentRef": {"name": "gw"}, "controllerName": "ako.vmware.com/avi-lb",
        "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "", "lastTransitionTime": "2026-11-21T00:00:00Z", "observedGeneration": 1}]}]}});
    routes
        .patch_status(
            "web",
            &PatchParams::apply("ako-gateway-api").force(),
            &Patch::Apply(status),
        )
        .await
        .unwrap();
    let got = routes.get("web").await.unwrap();
    assert_eq!(
        got.spec.hostnames.as_deref(),
        Some(&["web.example.com".to_owned()][..])
    );
    let parents = got.status.unwrap().parents;
    assert_eq!(parents[0].conditions[0].reason, "Accepted");
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("ako.vmware.com", "v1alpha1", "RouteBackendExtension"),
        "routebackendextensions",
    );
    let rbe: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    assert!(
        rbe.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // AKO's other CRDs are served at their storage versions, with status.
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("ako.vmware.com", "v1beta1", "HostRule"),
        "hostrules",
    );
    let hostrules: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let hr: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "ako.vmware.com/v1beta1", "kind": "HostRule",
        "metadata": {"name": "web"},
        "spec": {"virtualhost": {"fqdn": "web.example.com", "enableVirtualHost": true}}}))
    .unwrap();
    hostrules.create(&PostParams::default(), &hr).await.unwrap();
    hostrules
        .patch_status(
            "web",
            &PatchParams::apply("ako"),
            &Patch::Merge(json!({"status": {"status": "Accepted"}})),
        )
        .await
        .unwrap();
    let got = hostrules.get("web").await.unwrap();
    assert_eq!(got.data["status"]["status"], "Accepted");
    assert_eq!(got.data["spec"]["virtualhost"]["fqdn"], "web.example.com");
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("ako.vmware.com", "v1beta1", "AviInfraSetting"),
        "aviinfrasettings",
    );
    let infra: Api<DynamicObject> = Api::all_with(client, &ar);
    assert!(
        infra
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn state_file_survives_a_restart_and_faults_are_injected() {
    let dir = tempfile::tempdir().unwrap();
    let config = SimConfig {
        state_file: Some(dir.path().join("state.json")),
        ..SimConfig::default()
    };
    let rv_before;
    {
        let sim = KubeSim::start(config.clone()).await.unwrap();
        let client = client(&sim).await;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        crds.create(
            &PostParams::default(),
            &serde_json::from_value(gateway_crd()).unwrap(),
        )
        .await
        .unwrap();
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        rv_before = api
            .create(&PostParams::default(), &cm("kept", &[("k", "v")]))
            .await
            .unwrap()
            .metadata
            .resource_version
            .unwrap();
    }
    let sim = KubeSim::start(config).await.unwrap();
    let client = client(&sim).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let kept = api.get("kept").await.unwrap();
    assert_eq!(kept.metadata.resource_version.unwrap(), rv_before);
    // The CRD is served again.
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    assert!(
        widgets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // New writes continue the revision sequence.
    let next = api
        .create(&PostParams::default(), &cm("new", &[]))
        .await
        .unwrap();
    assert!(
        next.metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > rv_before.parse::<u64>().unwrap()
    );

    sim.add_fault(kube_sim::FaultRule {
        resource: Some("configmaps".into()),
        method: Some("GET".into()),
        error_rate: 1.0,
        status: 429,
        times: Some(1),
        ..Default::default()
    });
    // kube-rs retries a 429 after the server's Retry-After (1 s): the call succeeds, later.
    let started = std::time::Instant::now();
    assert!(api.get("kept").await.is_ok());
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After honoured: {:?}",
        started.elapsed()
    );
    sim.add_fault(kube_sim::FaultRule {
        resource: Some("configmaps".into()),
        error_rate: 1.0,
        status: 500,
        times: Some(1),
        ..Default::default()
    });
    let err = api.get("kept").await.unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 500),
        "{err:?}"
    );
    assert_eq!(sim.count("GET", "configmaps", Some(429)), 1);
    assert_eq!(sim.count("GET", "configmaps", Some(500)), 1);
}

#[tokio::test]
async fn selector_watches_see_objects_enter_and_leave() {
    use kube::api::{WatchEvent, WatchParams};
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&sim).await, "default");
    let rv = api
        .create(&PostParams::default(), &cm("s", &[]))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let stream = api
        .watch(
            &WatchParams::default().labels("tier=front").timeout(10),
            &rv,
        )
        .await
        .unwrap();
    futures_util::pin_mut!(stream);
    let pp = PatchParams::default();
    api.patch(
        "s",
        &pp,
        &Patch::Merge(json!({"metadata": {"labels": {"tier": "front"}}})),
    )
    .await
    .unwrap();
    api.patch("s", &pp, &Patch::Merge(json!({"data": {"x": "1"}})))
        .await
        .unwrap();
    api.patch(
        "s",
        &pp,
        &Patch::Merge(json!({"metadata": {"labels": {"tier": "back"}}})),
    )
    .await
    .unwrap();
    api.patch("s", &pp, &Patch::Merge(json!({"data": {"x": "2"}})))
        .await
        .unwrap();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        match stream.next().await.unwrap().unwrap() {
            WatchEvent::Added(_) => kinds.push("ADDED"),
            WatchEvent::Modified(_) => kinds.push("MODIFIED"),
            WatchEvent::Deleted(_) => kinds.push("DELETED"),
            _ => {}
        }
    }
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);
}

#[tokio::test]
async fn connections_end_with_the_emulator() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let mut conn = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    // A watch: the server streams it on the connection until it ends.
    conn.write_all(
        b"GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: kube\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    drop(sim);
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the watch stayed open after the emulator was dropped"
    );
}

#[tokio::test]
async fn secrets_merge_string_data_and_only_kinds_with_a_spec_generation_have_one() {
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let client = client(&sim).await;
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), "default");
    let s: k8s_openapi::api::core::v1::Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
        "data": {"a": "b2xk"}, "stringData": {"username": "admin", "a": "new"}}))
    .unwrap();
    let created = secrets.create(&PostParams::default(), &s).await.unwrap();
    assert!(created.string_data.is_none(), "stringData is write-only");
    let data = created.data.unwrap();
    assert_eq!(data["username"].0, b"admin");
    // A key in both: stringData wins.
    assert_eq!(data["a"].0, b"new");
    assert!(
        created.metadata.generation.is_none(),
        "Secrets have no generation"
    );
    // An update through stringData too.
    let patched = secrets
        .patch(
            "creds",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"password": "s3cret"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap()["password"].0, b"s3cret");
    assert!(patched.string_data.is_none());
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert!(cm.metadata.generation.is_none());
    // An Ingress (a spec the registry tracks) has one.
    let ingresses: Api<k8s_openapi::api::networking::v1::Ingress> =
        Api::namespaced(client, "default");
    let ing = ingresses
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {"name": "web"}, "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}))
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(ing.metadata.generation, Some(1));
}

/// Server-side apply removes what a manager applied before and applies no longer, unless
/// another manager owns it; on the main resource and on `/status`.
#[tokio::test]
async fn server_side_apply_removes_fields_a_manager_stops_applying() {
    let sim = KubeSim::start(SimConfig::default()).await.unwrap();
    let client = client(&sim).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let apply = |data: serde_json::Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": data});
    let pp = PatchParams::apply("first");
    api.patch(
        "ssa",
        &pp,
        &Patch::Apply(apply(json!({"a": "1", "b": "2"}))),
    )
    .await
    .unwrap();
    // Another manager sets c.
    api.patch(
        "ssa",
        &PatchParams::apply("second"),
        &Patch::Apply(apply(json!({"c": "3"}))),
    )
    .await
    .unwrap();
    // The first manager drops b (and never applied c): b goes, a and c stay.
    let got = api
        .patch("ssa", &pp, &Patch::Apply(apply(json!({"a": "1"}))))
        .await
        .unwrap();
    let data = got.data.unwrap();
    assert_eq!(data.get("a").map(String::as_str), Some("1"));
    assert_eq!(data.get("b"), None, "{data:?}");
    assert_eq!(data.get("c").map(String::as_str), Some("3"));

    // Status: a Lease has none, so a Service (it has /status).
    let svcs: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client, "default");
    svcs.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}))
        .unwrap(),
    )
    .await
    .unwrap();
    let status = |lb: serde_json::Value| json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "status": lb});
    let ctl = PatchParams::apply("ctl").force();
    svcs.patch_status(
        "web",
        &ctl,
        &Patch::Apply(status(
            json!({"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}),
        )),
    )
    .await
    .unwrap();
    let got = svcs
        .patch_status("web", &ctl, &Patch::Apply(status(json!({}))))
        .await
        .unwrap();
    let lb = got
        .status
        .and_then(|s| s.load_balancer)
        .and_then(|l| l.ingress);
    assert!(lb.as_ref().is_none_or(Vec::is_empty), "{lb:?}");
}
