//! Reflectors for every input of the translation, and the [`Snapshot`] built from their
//! stores. Any change wakes the reconcile loop.

use std::sync::Arc;

use futures_util::StreamExt;
use gateway_api::backendtlspolicies::BackendTlsPolicy;
use gateway_api::gatewayclasses::GatewayClass;
use gateway_api::gateways::Gateway;
use gateway_api::httproutes::HttpRoute;
use gateway_api::referencegrants::ReferenceGrant;
use gateway_translate::Snapshot;
use gateway_translate::backend_tls::RouteBackendExtension;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The stores of every input.
#[derive(Clone)]
pub struct Inputs {
    gateway_classes: Store<GatewayClass>,
    gateways: Store<Gateway>,
    http_routes: Store<HttpRoute>,
    reference_grants: Store<ReferenceGrant>,
    backend_tls_policies: Store<BackendTlsPolicy>,
    route_backend_extensions: Store<DynamicObject>,
    services: Store<Service>,
    endpoint_slices: Store<EndpointSlice>,
    nodes: Store<Node>,
    namespaces: Store<Namespace>,
    pods: Store<Pod>,
    secrets: Store<Secret>,
    config_maps: Store<ConfigMap>,
}

/// The running reflectors; dropping it stops them.
pub struct Reflectors {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Reflectors {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn reflect<K>(api: Api<K>, changed: Arc<Notify>, tasks: &mut Vec<JoinHandle<()>>) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    reflect_trimmed(api, changed, tasks, |_| {})
}

/// A reflector whose objects are trimmed before they are stored: managedFields are never
/// read and are often the largest part of an object.
fn reflect_trimmed<K>(
    api: Api<K>,
    changed: Arc<Notify>,
    tasks: &mut Vec<JoinHandle<()>>,
    trim: impl Fn(&mut K) + Send + Sync + 'static,
) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (store, writer) = reflector::store();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(move |o| {
            o.meta_mut().managed_fields = None;
            trim(o);
        })
        .reflect(writer)
        .touched_objects();
    tasks.push(tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(_) => changed.notify_one(),
                Err(e) => {
                    tracing::warn!(error = %e, "watch error; the watcher retries with backoff")
                }
            }
        }
    }));
    store
}

/// The Secret keys the gateway container reads: `tls.crt`/`tls.key` (listener certificates)
/// and the three keys of `istio-secret`. (CA certificates come from ConfigMaps.)
pub const SECRET_KEYS_READ: &[&str] = &[
    "tls.crt",
    "tls.key",
    istio_certs::secret::DATA_CERT_CHAIN,
    istio_certs::secret::DATA_KEY,
    istio_certs::secret::DATA_ROOT_CERT,
];

/// The ApiResource of AKO's RouteBackendExtension.
pub fn route_backend_extension_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("ako.vmware.com", "v1alpha1", "RouteBackendExtension"),
        "routebackendextensions",
    )
}

/// A store that is ready and stays empty: the input of a kind the API server does not serve.
fn empty<K>(dynamic_type: K::DynamicType) -> Store<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let mut writer = reflector::store::Writer::new(dynamic_type);
    writer.apply_watcher_event(&watcher::Event::Init);
    writer.apply_watcher_event(&watcher::Event::InitDone);
    writer.as_reader()
}

/// Whether the API server serves `gvk`. Only a definite "no" (the group or kind is not in
/// discovery) counts: any other failure is left to the watcher, which retries.
async fn served(client: &Client, gvk: &GroupVersionKind) -> bool {
    match kube::discovery::pinned_kind(client, gvk).await {
        Ok(_) => true,
        Err(kube::Error::Discovery(_)) => false,
        Err(kube::Error::Api(e)) if e.code == 404 => false,
        Err(_) => true,
    }
}

fn gvk_of<K: Resource<DynamicType = ()>>() -> GroupVersionKind {
    GroupVersionKind::gvk(&K::group(&()), &K::version(&()), &K::kind(&()))
}

/// The optional inputs whose CustomResourceDefinition is not installed, each with what goes
/// without it. Their stores stay empty (a watch on a missing resource would never list, and
/// the controller would never start); installing one later takes a restart, as with AKO.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Missing {
    /// `(resource, consequence)`, e.g. `("referencegrants.gateway.networking.k8s.io/v1",
    /// "cross-namespace references are refused")`.
    pub kinds: Vec<(String, &'static str)>,
}

/// The Gateway API kinds the controller cannot run without.
#[derive(Debug, thiserror::Error)]
#[error(
    "the Gateway API CRDs are not installed ({0}); install the standard channel (v1.5 or later) first"
)]
pub struct GatewayApiMissing(pub String);

impl Inputs {
    /// Starts a reflector per input; `changed` is notified on every event. Fails when the
    /// Gateway API's own kinds are not served; optional kinds that are not served (AKO's
    /// RouteBackendExtension, ReferenceGrant, BackendTLSPolicy) get empty stores and are
    /// listed in [`Missing`].
    pub async fn start(
        client: &Client,
        changed: Arc<Notify>,
    ) -> Result<(Inputs, Reflectors, Missing), GatewayApiMissing> {
        let required = [
            gvk_of::<GatewayClass>(),
            gvk_of::<Gateway>(),
            gvk_of::<HttpRoute>(),
        ];
        let mut absent = Vec::new();
        for gvk in &required {
            if !served(client, gvk).await {
                absent.push(format!("{}.{}/{}", gvk.kind, gvk.group, gvk.version));
            }
        }
        if !absent.is_empty() {
            return Err(GatewayApiMissing(absent.join(", ")));
        }
        let rbe = route_backend_extension_resource();
        let rbe_gvk = GroupVersionKind::gvk(&rbe.group, &rbe.version, &rbe.kind);
        let mut missing = Missing::default();
        let mut check = async |gvk: GroupVersionKind, consequence: &'static str| {
            let ok = served(client, &gvk).await;
            if !ok {
                missing.kinds.push((
                    format!("{}.{}/{}", gvk.kind, gvk.group, gvk.version),
                    consequence,
                ));
            }
            ok
        };
        let grants = check(
            gvk_of::<ReferenceGrant>(),
            "references to Secrets and Services in other namespaces are refused",
        )
        .await;
        let policies = check(
            gvk_of::<BackendTlsPolicy>(),
            "BackendTLSPolicies are not read",
        )
        .await;
        let extensions = check(rbe_gvk, "RouteBackendExtensions are not read").await;

        let mut tasks = Vec::new();
        let c = client.clone();
        let inputs = Inputs {
            gateway_classes: reflect(Api::all(c.clone()), changed.clone(), &mut tasks),
            gateways: reflect(Api::all(c.clone()), changed.clone(), &mut tasks),
            http_routes: reflect(Api::all(c.clone()), changed.clone(), &mut tasks),
            reference_grants: if grants {
                reflect(Api::all(c.clone()), changed.clone(), &mut tasks)
            } else {
                empty(())
            },
            backend_tls_policies: if policies {
                reflect(Api::all(c.clone()), changed.clone(), &mut tasks)
            } else {
                empty(())
            },
            route_backend_extensions: if !extensions {
                empty(rbe.clone())
            } else {
                let writer = reflector::store::Writer::new(rbe.clone());
                let store = writer.as_reader();
                let api: Api<DynamicObject> = Api::all_with(c.clone(), &rbe);
                let stream = watcher(api, watcher::Config::default())
                    .default_backoff()
                    .reflect(writer)
                    .touched_objects();
                let changed = changed.clone();
                tasks.push(tokio::spawn(async move {
                    let mut stream = std::pin::pin!(stream);
                    while let Some(event) = stream.next().await {
                        if event.is_ok() {
                            changed.notify_one();
                        }
                    }
                }));
                store
            },
            services: reflect(Api::all(c.clone()), changed.clone(), &mut tasks),
            endpoint_slices: reflect(Api::all(c.clone()), changed.clone(), &mut tasks),
            nodes: reflect(Api::all(c.clone()), changed.clone(), &mut tasks),
            namespaces: reflect(Api::all(c.clone()), changed.clone(), &mut tasks),
            // Only a pod's metadata is read (sidecar annotations, mesh labels).
            pods: reflect_trimmed(
                Api::all(c.clone()),
                changed.clone(),
                &mut tasks,
                |p: &mut Pod| {
                    p.spec = None;
                    p.status = None;
                },
            ),
            // Only the keys something here reads are kept: a Gateway's certificate and key,
            // and istio-secret's set. Every other Secret's data (tokens, passwords,
            // other keys) stays out of this process's memory.
            secrets: reflect_trimmed(
                Api::all(c.clone()),
                changed.clone(),
                &mut tasks,
                |s: &mut Secret| {
                    s.string_data = None;
                    if let Some(data) = s.data.as_mut() {
                        data.retain(|k, _| SECRET_KEYS_READ.contains(&k.as_str()));
                    }
                },
            ),
            config_maps: reflect(Api::all(c), changed, &mut tasks),
        };
        Ok((inputs, Reflectors { tasks }, missing))
    }

    /// Waits until every store has listed once.
    pub async fn ready(&self) {
        let _ = self.gateway_classes.wait_until_ready().await;
        let _ = self.gateways.wait_until_ready().await;
        let _ = self.http_routes.wait_until_ready().await;
        let _ = self.reference_grants.wait_until_ready().await;
        let _ = self.backend_tls_policies.wait_until_ready().await;
        let _ = self.route_backend_extensions.wait_until_ready().await;
        let _ = self.services.wait_until_ready().await;
        let _ = self.endpoint_slices.wait_until_ready().await;
        let _ = self.nodes.wait_until_ready().await;
        let _ = self.namespaces.wait_until_ready().await;
        let _ = self.pods.wait_until_ready().await;
        let _ = self.secrets.wait_until_ready().await;
        let _ = self.config_maps.wait_until_ready().await;
    }

    /// The HTTPRoutes as they are now (for status comparisons).
    pub fn http_routes(&self) -> &Store<HttpRoute> {
        &self.http_routes
    }

    /// The Gateways as they are now.
    pub fn gateways(&self) -> &Store<Gateway> {
        &self.gateways
    }

    /// The GatewayClasses as they are now.
    pub fn gateway_classes(&self) -> &Store<GatewayClass> {
        &self.gateway_classes
    }

    /// The BackendTLSPolicies as they are now.
    pub fn backend_tls_policies(&self) -> &Store<BackendTlsPolicy> {
        &self.backend_tls_policies
    }

    /// The Secrets as they are now.
    pub fn secrets(&self) -> &Store<Secret> {
        &self.secrets
    }

    /// Everything, as the translation reads it.
    pub fn snapshot(&self) -> Snapshot {
        fn key<K: Resource>(o: &K) -> (String, String) {
            (
                o.meta().namespace.clone().unwrap_or_default(),
                o.meta().name.clone().unwrap_or_default(),
            )
        }
        let mut s = Snapshot::default();
        for o in self.gateway_classes.state() {
            s.gateway_classes.insert(key(&*o).1, o);
        }
        for o in self.gateways.state() {
            s.gateways.insert(key(&*o), o);
        }
        for o in self.http_routes.state() {
            s.http_routes.insert(key(&*o), o);
        }
        for o in self.reference_grants.state() {
            s.reference_grants.insert(key(&*o), o);
        }
        for o in self.backend_tls_policies.state() {
            s.backend_tls_policies.insert(key(&*o), o);
        }
        for o in self.route_backend_extensions.state() {
            let k = key(&*o);
            match serde_json::to_value(&*o)
                .and_then(serde_json::from_value::<RouteBackendExtension>)
            {
                Ok(rbe) => {
                    s.route_backend_extensions.insert(k, rbe);
                }
                Err(e) => {
                    tracing::warn!(namespace = %k.0, name = %k.1, error = %e, "RouteBackendExtension not understood; ignored")
                }
            }
        }
        for o in self.services.state() {
            s.services.insert(key(&*o), o);
        }
        for o in self.endpoint_slices.state() {
            s.endpoint_slices.insert(key(&*o), o);
        }
        for o in self.nodes.state() {
            s.nodes.insert(key(&*o).1, o);
        }
        for o in self.namespaces.state() {
            s.namespaces.insert(key(&*o).1, o);
        }
        for o in self.pods.state() {
            // The reflector keeps only the metadata (sidecar annotations, mesh labels).
            s.pods.insert(key(&*o), o);
        }
        for o in self.secrets.state() {
            s.secrets.insert(key(&*o), o);
        }
        for o in self.config_maps.state() {
            s.config_maps.insert(key(&*o), o);
        }
        s
    }
}
