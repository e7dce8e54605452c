//! Reflectors for every input: the shared inputs (Services, EndpointSlices, Nodes, Namespaces,
//! Pods, Secrets) as typed stores, and the kinds the translators declare ([`KindSpec`]) as
//! stores of objects parsed once on arrival. The [`Snapshot`] is built from them; any change
//! wakes the reconcile loop.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use translate_core::translator::Erased;
use translate_core::{GroupKind, KindSpec, NamespacedName, SharedInputs, Snapshot};

/// What changed since the controller last looked: the Services whose EndpointSlices changed,
/// and whether anything else did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Something other than an EndpointSlice changed (or a slice without a Service).
    pub other: bool,
    /// `(namespace, service)` of the EndpointSlices that changed.
    pub services: BTreeSet<(String, String)>,
}

impl Changes {
    /// Only EndpointSlices changed, and at least one.
    pub fn endpoints_only(&self) -> bool {
        !self.other && !self.services.is_empty()
    }
}

type ChangeLog = Arc<std::sync::Mutex<Changes>>;

/// An event handler that notes a change other than an EndpointSlice's.
fn other<K>(log: &ChangeLog) -> impl Fn(&K) + Send + Sync + 'static {
    let log = log.clone();
    move |_: &K| note_other(&log)
}

fn note_other(log: &ChangeLog) {
    if let Ok(mut c) = log.lock() {
        c.other = true;
    }
}

/// `(namespace, name)` of an object (cluster-scoped: an empty namespace).
fn key<K: Resource>(o: &K) -> (String, String) {
    (
        o.meta().namespace.clone().unwrap_or_default(),
        o.meta().name.clone().unwrap_or_default(),
    )
}

/// The stores of every input.
#[derive(Clone)]
pub struct Inputs {
    changes: ChangeLog,
    services: Store<Service>,
    endpoint_slices: Store<EndpointSlice>,
    nodes: Store<Node>,
    namespaces: Store<Namespace>,
    pods: Store<Pod>,
    secrets: Store<Secret>,
    kinds: Vec<KindStore>,
}

/// One translator kind's objects as parsed, with the status each has now (for kinds whose
/// status a translator writes).
#[derive(Clone)]
struct KindStore {
    spec: KindSpec,
    objects: Arc<RwLock<BTreeMap<NamespacedName, Stored>>>,
    ready: watch::Receiver<bool>,
}

#[derive(Clone)]
struct Stored {
    object: Erased,
    /// A digest of the status the object has now (kinds whose status is written).
    status_digest: Option<u64>,
    /// The status itself (kinds whose status a translator reads back).
    status: Option<Value>,
}

/// A digest of a status, to tell whether the one wanted differs from the one the object has
/// without keeping every status whole (5,000 HTTPRoute statuses are tens of MB).
pub fn status_digest(status: &Value) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    status.to_string().hash(&mut h);
    h.finish()
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

/// A reflector whose objects are trimmed before they are stored: managedFields are never
/// read and are often the largest part of an object.
fn reflect_trimmed<K>(
    api: Api<K>,
    changed: Arc<Notify>,
    tasks: &mut Vec<JoinHandle<()>>,
    trim: impl Fn(&mut K) + Send + Sync + 'static,
    note: impl Fn(&K) + Send + Sync + 'static,
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
                Ok(o) => {
                    note(&o);
                    changed.notify_one();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "watch error; the watcher retries with backoff")
                }
            }
        }
    }));
    store
}

/// The Secret keys a translator reads: `tls.crt`/`tls.key` (listener and Ingress
/// certificates) and the three keys of `istio-secret`. (CA certificates come from ConfigMaps.)
pub const SECRET_KEYS_READ: &[&str] = &[
    "tls.crt",
    "tls.key",
    istio_certs::secret::DATA_CERT_CHAIN,
    istio_certs::secret::DATA_KEY,
    istio_certs::secret::DATA_ROOT_CERT,
];

/// The ApiResource a [`KindSpec`] names.
pub fn api_resource(spec: &KindSpec) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&spec.group, &spec.version, &spec.kind),
        &spec.plural,
    )
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

/// The optional inputs whose kind the API server does not serve (a CRD not installed), each
/// with what goes without it. Their stores stay empty (a watch on a missing resource would
/// never list, and the controller would never start); installing one later takes a restart,
/// as with AKO.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Missing {
    /// `(resource, consequence)`, e.g. `("ReferenceGrant.gateway.networking.k8s.io/v1beta1",
    /// "cross-namespace references are refused")`.
    pub kinds: Vec<(String, &'static str)>,
}

/// Kinds a translator cannot run without are not served.
#[derive(Debug, thiserror::Error)]
#[error("the API server does not serve {0}; install their CRDs first")]
pub struct RequiredKindsMissing(pub String);

/// Applies a watcher event to a kind's store (`pending` holds a relist until it is complete,
/// so a snapshot never sees half a list).
fn apply_event(
    store: &KindStore,
    pending: &mut Option<BTreeMap<NamespacedName, Stored>>,
    event: watcher::Event<DynamicObject>,
) -> bool {
    let spec = &store.spec;
    let key_of = |o: &DynamicObject| -> NamespacedName {
        (
            if spec.namespaced {
                o.metadata.namespace.clone().unwrap_or_default()
            } else {
                String::new()
            },
            o.metadata.name.clone().unwrap_or_default(),
        )
    };
    let parse = |o: &DynamicObject| -> Option<(NamespacedName, Stored)> {
        let key = key_of(o);
        let mut value = match serde_json::to_value(o) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(kind = %spec.kind, namespace = %key.0, name = %key.1, error = %e, "object not readable; ignored");
                return None;
            }
        };
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        let current = value.get("status");
        let status_digest = if spec.writes_status {
            current.map(status_digest)
        } else {
            None
        };
        let status = if spec.keeps_status {
            current.cloned()
        } else {
            None
        };
        match spec.parse(&value) {
            Ok(object) => Some((
                key,
                Stored {
                    object,
                    status_digest,
                    status,
                },
            )),
            Err(e) => {
                tracing::warn!(kind = %spec.kind, namespace = %key.0, name = %key.1, error = %e, "object does not have the shape of its kind; ignored");
                None
            }
        }
    };
    let Ok(mut objects) = store.objects.write() else {
        return false;
    };
    match event {
        watcher::Event::Apply(o) => match parse(&o) {
            Some((k, s)) => {
                objects.insert(k, s);
            }
            // An object that no longer parses is not served as it was.
            None => {
                objects.remove(&key_of(&o));
            }
        },
        watcher::Event::Delete(o) => {
            objects.remove(&key_of(&o));
        }
        watcher::Event::Init => *pending = Some(BTreeMap::new()),
        watcher::Event::InitApply(o) => {
            if let (Some(p), Some((k, s))) = (pending.as_mut(), parse(&o)) {
                p.insert(k, s);
            }
        }
        watcher::Event::InitDone => {
            if let Some(p) = pending.take() {
                *objects = p;
            }
            return true;
        }
    }
    false
}

fn reflect_kind(
    client: &Client,
    spec: KindSpec,
    changed: Arc<Notify>,
    log: ChangeLog,
    tasks: &mut Vec<JoinHandle<()>>,
) -> KindStore {
    let (ready_tx, ready) = watch::channel(false);
    let store = KindStore {
        spec,
        objects: Default::default(),
        ready,
    };
    let ar = api_resource(&store.spec);
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let task_store = store.clone();
    tasks.push(tokio::spawn(async move {
        let stream = watcher(api, watcher::Config::default()).default_backoff();
        let mut stream = std::pin::pin!(stream);
        let mut pending = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => {
                    if apply_event(&task_store, &mut pending, event) {
                        let _ = ready_tx.send(true);
                    }
                    if pending.is_none() {
                        note_other(&log);
                        changed.notify_one();
                    }
                }
                Err(e) => {
                    tracing::warn!(kind = %task_store.spec.kind, error = %e, "watch error; the watcher retries with backoff")
                }
            }
        }
    }));
    store
}

fn empty_kind(spec: KindSpec) -> KindStore {
    let (_, ready) = watch::channel(true);
    KindStore {
        spec,
        objects: Default::default(),
        ready,
    }
}

impl Inputs {
    /// Starts a reflector per shared input and per kind in `kinds` (duplicates are watched
    /// once); `changed` is notified on every event. Fails when a required kind is not
    /// served; optional kinds that are not served get empty stores and are listed in
    /// [`Missing`].
    pub async fn start(
        client: &Client,
        kinds: &[KindSpec],
        changed: Arc<Notify>,
    ) -> Result<(Inputs, Reflectors, Missing), RequiredKindsMissing> {
        let mut unique: Vec<KindSpec> = Vec::new();
        for k in kinds {
            if !unique
                .iter()
                .any(|u| u.group == k.group && u.kind == k.kind)
            {
                unique.push(k.clone());
            }
        }
        let mut absent = Vec::new();
        let mut missing = Missing::default();
        let mut is_served = Vec::new();
        for spec in &unique {
            let gvk = GroupVersionKind::gvk(&spec.group, &spec.version, &spec.kind);
            let ok = served(client, &gvk).await;
            let name = format!("{}/{}", spec.group_kind(), spec.version);
            match (ok, spec.without) {
                (true, _) => {}
                (false, None) => absent.push(name),
                (false, Some(consequence)) => missing.kinds.push((name, consequence)),
            }
            is_served.push(ok);
        }
        if !absent.is_empty() {
            return Err(RequiredKindsMissing(absent.join(", ")));
        }
        let mut tasks = Vec::new();
        let c = client.clone();
        let log: ChangeLog = Default::default();
        let slice_log = log.clone();
        let kind_stores = unique
            .into_iter()
            .zip(is_served)
            .map(|(spec, ok)| {
                if ok {
                    reflect_kind(client, spec, changed.clone(), log.clone(), &mut tasks)
                } else {
                    empty_kind(spec)
                }
            })
            .collect();
        let inputs = Inputs {
            services: reflect_trimmed(
                Api::all(c.clone()),
                changed.clone(),
                &mut tasks,
                |_| {},
                other(&log),
            ),
            // An EndpointSlice names its Service: a change to it alone can take the
            // controller's endpoint path (`Controller::endpoints`).
            endpoint_slices: reflect_trimmed(
                Api::all(c.clone()),
                changed.clone(),
                &mut tasks,
                |_| {},
                move |s: &EndpointSlice| {
                    let service = s
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("kubernetes.io/service-name"));
                    if let Ok(mut c) = slice_log.lock() {
                        match (service, &s.metadata.namespace) {
                            (Some(svc), Some(ns)) => {
                                c.services.insert((ns.clone(), svc.clone()));
                            }
                            _ => c.other = true,
                        }
                    }
                },
            ),
            nodes: reflect_trimmed(
                Api::all(c.clone()),
                changed.clone(),
                &mut tasks,
                |_| {},
                other(&log),
            ),
            namespaces: reflect_trimmed(
                Api::all(c.clone()),
                changed.clone(),
                &mut tasks,
                |_| {},
                other(&log),
            ),
            // Only a pod's metadata is read (sidecar annotations, mesh labels).
            pods: reflect_trimmed(
                Api::all(c.clone()),
                changed.clone(),
                &mut tasks,
                |p: &mut Pod| {
                    p.spec = None;
                    p.status = None;
                },
                other(&log),
            ),
            // Only the keys something here reads are kept: certificates and keys of
            // listeners and Ingresses, and istio-secret's set. Every other Secret's data
            // (tokens, passwords, other keys) stays out of this process's memory.
            secrets: reflect_trimmed(
                Api::all(c),
                changed,
                &mut tasks,
                |s: &mut Secret| {
                    s.string_data = None;
                    if let Some(data) = s.data.as_mut() {
                        data.retain(|k, _| SECRET_KEYS_READ.contains(&k.as_str()));
                    }
                },
                other(&log),
            ),
            kinds: kind_stores,
            changes: log,
        };
        Ok((inputs, Reflectors { tasks }, missing))
    }

    /// Waits until every store has listed once.
    pub async fn ready(&self) {
        let _ = self.services.wait_until_ready().await;
        let _ = self.endpoint_slices.wait_until_ready().await;
        let _ = self.nodes.wait_until_ready().await;
        let _ = self.namespaces.wait_until_ready().await;
        let _ = self.pods.wait_until_ready().await;
        let _ = self.secrets.wait_until_ready().await;
        for k in &self.kinds {
            let mut ready = k.ready.clone();
            let _ = ready.wait_for(|r| *r).await;
        }
    }

    /// The Secrets as they are now.
    pub fn secrets(&self) -> &Store<Secret> {
        &self.secrets
    }

    /// The kinds watched for the translators.
    pub fn kinds(&self) -> impl Iterator<Item = &KindSpec> {
        self.kinds.iter().map(|k| &k.spec)
    }

    fn store_of(&self, group_kind: &GroupKind) -> Option<&KindStore> {
        self.kinds
            .iter()
            .find(|k| k.spec.group == group_kind.group && k.spec.kind == group_kind.kind)
    }

    /// What is stored of object `namespace/name` of `group_kind`, through `f`.
    fn with_stored<T>(
        &self,
        group_kind: &GroupKind,
        namespace: &str,
        name: &str,
        f: impl FnOnce(&Stored) -> T,
    ) -> Option<T> {
        let objects = self.store_of(group_kind)?.objects.read().ok()?;
        objects.get(&(namespace.to_owned(), name.to_owned())).map(f)
    }

    /// The status object `namespace/name` of `group_kind` has now (`None` when it has none, or
    /// its kind's status is not kept: [`KindSpec::keeping_status`]).
    pub fn status_of(&self, group_kind: &GroupKind, namespace: &str, name: &str) -> Option<Value> {
        self.with_stored(group_kind, namespace, name, |s| s.status.clone())
            .flatten()
    }

    /// Whether `status` is the one object `namespace/name` of `group_kind` has now.
    pub fn has_status(
        &self,
        group_kind: &GroupKind,
        namespace: &str,
        name: &str,
        status: &Value,
    ) -> bool {
        self.with_stored(group_kind, namespace, name, |s| s.status_digest)
            .flatten()
            == Some(status_digest(status))
    }

    /// Whether object `namespace/name` of `group_kind` is known.
    pub fn contains(&self, group_kind: &GroupKind, namespace: &str, name: &str) -> bool {
        self.with_stored(group_kind, namespace, name, |_| ())
            .is_some()
    }

    /// What changed since the last call (or since the start), emptied.
    pub fn take_changes(&self) -> Changes {
        self.changes
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or(Changes {
                other: true,
                services: BTreeSet::new(),
            })
    }

    /// The inputs every translator shares (Services, EndpointSlices, nodes, namespaces,
    /// pods), without the Secrets and the translators' kinds: what a pool's servers need.
    pub fn shared(&self) -> SharedInputs {
        let mut shared = SharedInputs::default();
        for o in self.services.state() {
            shared.services.insert(key(&*o), o);
        }
        for o in self.endpoint_slices.state() {
            shared.endpoint_slices.insert(key(&*o), o);
        }
        for o in self.nodes.state() {
            shared.nodes.insert(key(&*o).1, o);
        }
        for o in self.namespaces.state() {
            shared.namespaces.insert(key(&*o).1, o);
        }
        for o in self.pods.state() {
            shared.pods.insert(key(&*o), o);
        }
        shared
    }

    /// Everything, as the translators read it.
    pub fn snapshot(&self) -> Snapshot {
        let mut shared = self.shared();
        for o in self.secrets.state() {
            shared.secrets.insert(key(&*o), o);
        }
        let mut s = Snapshot::default();
        s.shared = Arc::new(shared);
        for k in &self.kinds {
            let Ok(objects) = k.objects.read() else {
                continue;
            };
            let gk = k.spec.group_kind();
            for (key, stored) in objects.iter() {
                s.insert_erased(gk.clone(), key.clone(), stored.object.clone());
            }
        }
        s
    }
}
