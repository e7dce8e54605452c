//! The interface through which the runtime drives translators, in the spirit of
//! kube-runtime's `Controller::watches`: a translator declares the kinds it reads
//! ([`KindSpec`], beyond the [`SharedInputs`] every translator gets), and turns a [`Snapshot`]
//! into Avi objects, statuses of any kind and Events ([`Output`]). The runtime watches the
//! union of the kinds, runs every translator on one snapshot, syncs all their Avi objects in
//! one plan and writes the statuses by server-side apply.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::inputs::{NamespacedName, SharedInputs};
use crate::key::{GroupKind, ObjectKey};
use crate::model::AviModel;
use crate::settings::Settings;

/// An object of a translator's kind as the runtime stores it: parsed once when it arrives,
/// shared by every snapshot.
pub type Erased = Arc<dyn Any + Send + Sync>;

type Parse = fn(&Value) -> Result<Erased, String>;

/// A kind a translator reads: where the runtime watches it, how its objects are parsed, and
/// what goes when the API server does not serve it.
#[derive(Clone)]
pub struct KindSpec {
    /// API group (`""` for core).
    pub group: String,
    /// Version watched.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural (the URL segment).
    pub plural: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// `None`: the translator cannot work without it (the runtime waits for it to be served).
    /// `Some(what)`: optional; without it `what` goes (e.g. "cross-namespace references are
    /// refused"), and the store stays empty.
    pub without: Option<&'static str>,
    /// Other versions read into the same type (an older version the same fields still serve).
    pub also_versions: Vec<String>,
    /// The translator writes this kind's status: the runtime remembers a digest of each
    /// object's current status, to write only what differs.
    pub writes_status: bool,
    /// The translator reads the status objects have now ([`Translator::address`]'s `previous`):
    /// the runtime keeps it whole (it costs memory: only for kinds whose status shows an
    /// address).
    pub keeps_status: bool,
    parse: Parse,
    type_id: TypeId,
}

impl std::fmt::Debug for KindSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KindSpec")
            .field("group", &self.group)
            .field("version", &self.version)
            .field("kind", &self.kind)
            .field("plural", &self.plural)
            .field("namespaced", &self.namespaced)
            .field("without", &self.without)
            .field("writes_status", &self.writes_status)
            .field("keeps_status", &self.keeps_status)
            .finish()
    }
}

fn parse_as<T: DeserializeOwned + Send + Sync + 'static>(v: &Value) -> Result<Erased, String> {
    T::deserialize(v)
        .map(|t| Arc::new(t) as Erased)
        .map_err(|e| crate::inputs::redact_values(&e.to_string()))
}

impl KindSpec {
    /// A kind with a Rust type that knows its group, version, kind and plural (k8s-openapi
    /// types, `#[derive(CustomResource)]` types such as the gateway-api crate's).
    pub fn typed<K>() -> Self
    where
        K: kube_core::Resource<DynamicType = ()> + DeserializeOwned + Send + Sync + 'static,
        K::Scope: 'static,
    {
        KindSpec {
            group: K::group(&()).into_owned(),
            version: K::version(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
            plural: K::plural(&()).into_owned(),
            namespaced: TypeId::of::<K::Scope>()
                == TypeId::of::<k8s_openapi::NamespaceResourceScope>(),
            without: None,
            also_versions: Vec::new(),
            writes_status: false,
            keeps_status: false,
            parse: parse_as::<K>,
            type_id: TypeId::of::<K>(),
        }
    }

    /// A kind read into `T`, a type of the translator's own that only describes the fields it
    /// reads (a CRD without a Rust crate); `serde_json::Value` keeps objects as they are.
    pub fn custom<T: DeserializeOwned + Send + Sync + 'static>(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
    ) -> Self {
        KindSpec {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            plural: plural.to_owned(),
            namespaced,
            without: None,
            also_versions: Vec::new(),
            writes_status: false,
            keeps_status: false,
            parse: parse_as::<T>,
            type_id: TypeId::of::<T>(),
        }
    }

    /// Optional: when the API server does not serve it, `without` says what goes.
    pub fn optional(mut self, without: &'static str) -> Self {
        self.without = Some(without);
        self
    }

    /// The translator writes this kind's status.
    pub fn with_status(mut self) -> Self {
        self.writes_status = true;
        self
    }

    /// The translator writes this kind's status and reads the one objects have now (to keep an
    /// address shown while the controller cannot be asked, say).
    pub fn keeping_status(mut self) -> Self {
        self.writes_status = true;
        self.keeps_status = true;
        self
    }

    /// `version` of the same group and kind is read into the same type too (dry runs of
    /// manifests; the runtime watches [`KindSpec::version`]).
    pub fn also_version(mut self, version: &str) -> Self {
        self.also_versions.push(version.to_owned());
        self
    }

    /// `group`/`kind`.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.group.clone(), self.kind.clone())
    }

    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether an object of `api_version` is of this kind's versions.
    pub fn reads_version(&self, api_version: &str) -> bool {
        let version = api_version.rsplit_once('/').map_or(api_version, |(_, v)| v);
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        group == self.group
            && (version == self.version || self.also_versions.iter().any(|v| v == version))
    }

    /// Parses one object (JSON as the API server sends it) into the kind's type.
    pub fn parse(&self, value: &Value) -> Result<Erased, String> {
        (self.parse)(value)
    }

    /// Whether objects of this kind are read into `T`.
    pub fn is<T: 'static>(&self) -> bool {
        self.type_id == TypeId::of::<T>()
    }
}

/// Why an object could not be added to a snapshot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InsertError {
    /// `apiVersion`/`kind` of an object no translator reads.
    #[error("{api_version} {kind} is not an input of the translation")]
    Unsupported {
        /// apiVersion.
        api_version: String,
        /// kind.
        kind: String,
    },
    /// The object does not have the shape of its kind.
    #[error("{kind} {name}: {detail}")]
    Invalid {
        /// kind.
        kind: String,
        /// name.
        name: String,
        /// The parse error.
        detail: String,
    },
}

/// Everything translators read: the shared inputs, and the objects of each translator's kinds
/// (parsed by their [`KindSpec`]). Ordered by key: the same objects give the same snapshot
/// whatever order they arrived in. Cloning shares every object.
#[derive(Clone, Default)]
pub struct Snapshot {
    /// Services, EndpointSlices, Pods, Namespaces, Nodes, Secrets.
    pub shared: Arc<SharedInputs>,
    objects: BTreeMap<GroupKind, BTreeMap<NamespacedName, Erased>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Snapshot");
        d.field("shared", &self.shared);
        for (gk, objects) in &self.objects {
            d.field(&gk.kind, &objects.len());
        }
        d.finish()
    }
}

impl Snapshot {
    /// Adds one object of a translator's kind, already parsed by its [`KindSpec`].
    pub fn insert_erased(&mut self, group_kind: GroupKind, key: NamespacedName, object: Erased) {
        self.objects
            .entry(group_kind)
            .or_default()
            .insert(key, object);
    }

    /// Adds one object of `T` (tests, dry runs).
    pub fn insert<T: Any + Send + Sync>(
        &mut self,
        group_kind: GroupKind,
        key: NamespacedName,
        object: T,
    ) {
        self.insert_erased(group_kind, key, Arc::new(object));
    }

    /// The objects of `group_kind` that were read into `T`, in key order (an object of
    /// another type under the same kind is not returned).
    pub fn objects<T: Any + Send + Sync>(
        &self,
        group_kind: &GroupKind,
    ) -> impl Iterator<Item = (&NamespacedName, Arc<T>)> + '_ {
        self.objects
            .get(group_kind)
            .into_iter()
            .flatten()
            .filter_map(|(k, o)| Arc::clone(o).downcast::<T>().ok().map(|t| (k, t)))
    }

    /// The objects of a kind with a Rust type that knows its group and kind, by key.
    pub fn typed<K>(&self) -> BTreeMap<NamespacedName, Arc<K>>
    where
        K: kube_core::Resource<DynamicType = ()> + Send + Sync + 'static,
    {
        let gk = GroupKind::new(K::group(&()), K::kind(&()));
        self.objects::<K>(&gk)
            .map(|(k, o)| (k.clone(), o))
            .collect()
    }

    /// How many objects of `group_kind` there are.
    pub fn count(&self, group_kind: &GroupKind) -> usize {
        self.objects.get(group_kind).map_or(0, BTreeMap::len)
    }

    /// Adds one object given as JSON (as read from a manifest or a watch): a shared input, or an
    /// object of one of `kinds`. Namespaced objects without a namespace go to `default`, as
    /// `kubectl apply` would put them.
    pub fn insert_json(&mut self, mut value: Value, kinds: &[KindSpec]) -> Result<(), InsertError> {
        let text = |v: &Value, k: &str| {
            v.pointer(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let api_version = text(&value, "/apiVersion");
        let kind = text(&value, "/kind");
        let name = text(&value, "/metadata/name");
        let spec = kinds
            .iter()
            .find(|s| s.kind == kind && s.reads_version(&api_version));
        let shared = SharedInputs::is_shared(&api_version, &kind);
        if spec.is_none() && !shared {
            return Err(InsertError::Unsupported { api_version, kind });
        }
        let cluster_scoped = match spec {
            Some(s) => !s.namespaced,
            None => matches!(kind.as_str(), "Node" | "Namespace"),
        };
        if !cluster_scoped
            && value.pointer("/metadata/namespace").is_none()
            && let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.insert("namespace".into(), Value::String("default".into()));
        }
        if shared {
            Arc::make_mut(&mut self.shared)
                .insert_json(&value)
                .map_err(|e| InsertError::Invalid {
                    kind: e.kind,
                    name: e.name,
                    detail: e.detail,
                })?;
            return Ok(());
        }
        let Some(spec) = spec else {
            return Err(InsertError::Unsupported { api_version, kind });
        };
        let object = spec.parse(&value).map_err(|detail| InsertError::Invalid {
            kind: kind.clone(),
            name: name.clone(),
            detail,
        })?;
        let ns = if spec.namespaced {
            text(&value, "/metadata/namespace")
        } else {
            String::new()
        };
        self.insert_erased(spec.group_kind(), (ns, name), object);
        Ok(())
    }
}

/// Whether an Event reports normal operation or something to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

/// One Event a translation calls for. The runtime raises each once while it holds (a resync
/// repeats nothing).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Notice {
    /// Normal or Warning.
    pub severity: Severity,
    /// The object the Event is about.
    pub object: ObjectKey,
    /// Reason (UpperCamelCase).
    pub reason: String,
    /// For humans.
    pub message: String,
    /// Raise only once the controller holds the objects (an `Accepted` that should mean
    /// "served").
    pub when_synced: bool,
}

impl Notice {
    /// A Warning Event.
    pub fn warning(
        object: ObjectKey,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Notice {
            severity: Severity::Warning,
            object,
            reason: reason.into(),
            message: message.into(),
            when_synced: false,
        }
    }

    /// A Normal Event.
    pub fn normal(
        object: ObjectKey,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Notice {
            severity: Severity::Normal,
            object,
            reason: reason.into(),
            message: message.into(),
            when_synced: false,
        }
    }

    /// Raised only after a sync that succeeded.
    pub fn once_synced(mut self) -> Self {
        self.when_synced = true;
        self
    }
}

/// A status a virtual service's address completes: the runtime reads the VIP after the sync
/// and hands it to [`Translator::address`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressNeed {
    /// The VsVip whose address the status shows.
    pub vsvip: String,
    /// The virtual service behind it (a failed step on it means the object is not
    /// programmed).
    pub virtual_service: String,
    /// The hostnames the address serves, for statuses that pair each with it (an Ingress's
    /// `loadBalancer.ingress`); empty when the status shows the address alone.
    pub hosts: Vec<String>,
}

/// What the runtime learnt of an [`AddressNeed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressed {
    /// The controller allocated this address.
    Vip(String),
    /// The VsVip exists but holds no address yet.
    NotYet,
    /// The VsVip could not be read (`.0` why).
    Unknown(String),
    /// The controller did not take the configuration (`.0` why).
    Failed(String),
}

/// One status to write, of any kind.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectStatus {
    /// The object.
    pub key: ObjectKey,
    /// Its whole status, as the kind defines it.
    pub status: Value,
    /// The addresses the status waits for (none, one, or one per virtual service an object
    /// spans, such as an Ingress whose hosts sit on several shards).
    pub addresses: Vec<AddressNeed>,
}

/// What one translator produced from a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// The Avi objects it wants.
    pub model: AviModel,
    /// Statuses to write.
    pub statuses: Vec<ObjectStatus>,
    /// Events to raise.
    pub notices: Vec<Notice>,
    /// The Service port behind each pool whose servers follow endpoints (by pool name), for
    /// endpoint changes without a full translation ([`crate::incremental`]).
    pub pool_backends: BTreeMap<String, crate::incremental::PoolBackend>,
}

/// A translator: pure, no I/O; the same snapshot gives the same output.
pub trait Translator: Send + Sync {
    /// A short name for logs and metrics (`gateway-api`, `ingress`).
    fn name(&self) -> &'static str;

    /// The kinds it reads beyond the shared inputs.
    fn kinds(&self) -> Vec<KindSpec>;

    /// The Avi objects, statuses and Events for `snapshot`.
    fn translate(&self, snapshot: &Snapshot, settings: &Settings, now: &Time) -> Output;

    /// Completes a status that waits for addresses ([`ObjectStatus::addresses`]) with what
    /// the controller said of each (`addressed[i]` for `status.addresses[i]`); `previous` is the
    /// object's status now. Returns false when an address is not settled: the runtime looks
    /// again soon. The default leaves the status as it is.
    fn address(
        &self,
        status: &mut ObjectStatus,
        addressed: &[Addressed],
        previous: Option<&Value>,
        now: &Time,
    ) -> bool {
        let _ = (status, addressed, previous, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::api::networking::v1::Ingress;
    use serde_json::json;

    use super::*;

    #[test]
    fn specs_know_their_kind_and_scope() {
        let ing = KindSpec::typed::<Ingress>();
        assert_eq!(
            (
                ing.group.as_str(),
                ing.version.as_str(),
                ing.kind.as_str(),
                ing.plural.as_str()
            ),
            ("networking.k8s.io", "v1", "Ingress", "ingresses")
        );
        assert!(ing.namespaced);
        let class = KindSpec::typed::<k8s_openapi::api::networking::v1::IngressClass>();
        assert!(!class.namespaced);
        assert!(ing.reads_version("networking.k8s.io/v1"));
        assert!(!ing.reads_version("networking.k8s.io/v1beta1"));
        assert!(!ing.reads_version("v1"));
    }

    #[test]
    fn objects_land_under_their_kind_or_are_refused() {
        let kinds = [KindSpec::typed::<Ingress>(), KindSpec::typed::<ConfigMap>()];
        let mut s = Snapshot::default();
        s.insert_json(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"}}),
            &kinds,
        )
        .unwrap();
        s.insert_json(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "apps"}}),
            &kinds,
        )
        .unwrap();
        let ingresses = s.typed::<Ingress>();
        assert!(ingresses.contains_key(&("default".to_owned(), "web".to_owned())));
        assert_eq!(s.shared.services.len(), 1);
        let err = s
            .insert_json(
                json!({"apiVersion": "networking.k8s.io/v7", "kind": "Ingress", "metadata": {"name": "x"}}),
                &kinds,
            )
            .unwrap_err();
        assert!(matches!(err, InsertError::Unsupported { .. }), "{err}");
        let err = s
            .insert_json(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "x"}, "spec": {"rules": 3}}),
                &kinds,
            )
            .unwrap_err();
        assert!(matches!(err, InsertError::Invalid { .. }), "{err}");
    }
}
