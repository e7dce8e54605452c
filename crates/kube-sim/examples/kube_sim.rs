//! Runs an emulated API server in-process with the Gateway API CRDs, writes a kubeconfig that
//! kubectl can use, and follows HTTPRoutes with a kube-rs reflector while one is created.
//!
//! `cargo run -p kube-sim --example kube_sim`

use futures_util::StreamExt;
use kube::api::{Api, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube_sim::{KubeSim, SimConfig};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = KubeSim::start(SimConfig::default()).await?;
    let mut crds = kube_sim::crds::gateway_api();
    crds.extend(kube_sim::crds::ako());
    sim.install(crds)?;
    let kubeconfig =
        std::env::temp_dir().join(format!("kube-sim-{}.kubeconfig", std::process::id()));
    std::fs::write(&kubeconfig, sim.kubeconfig())?;
    println!(
        "API server at {}; try: KUBECONFIG={} kubectl get crds",
        sim.url(),
        kubeconfig.display()
    );

    let client = kube::Client::try_from(kube::Config::new(sim.url().parse()?))?;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute"),
        "httproutes",
    );
    let routes: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
    let writer = reflector::store::Writer::new(ar.clone());
    let store = writer.as_reader();
    let follow = reflector(writer, watcher(routes.clone(), watcher::Config::default()))
        .default_backoff()
        .applied_objects()
        .take(1)
        .for_each(|r| async move {
            if let Ok(route) = r {
                println!(
                    "reflector saw HTTPRoute {} (resourceVersion {:?})",
                    route.metadata.name.unwrap_or_default(),
                    route.metadata.resource_version
                );
            }
        });
    let follower = tokio::spawn(follow);
    store.wait_until_ready().await?;
    let route: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "web", "port": 8080}]}]}
    }))?;
    routes.create(&PostParams::default(), &route).await?;
    follower.await?;
    println!("store holds {} route(s)", store.state().len());
    std::fs::remove_file(&kubeconfig)?;
    Ok(())
}
