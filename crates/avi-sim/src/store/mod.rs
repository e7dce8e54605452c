//! The controller's configuration database: objects per type and tenant, their names, and the
//! reference graph that keeps referrers consistent. Pure state; HTTP lives in `crate::api`.

pub mod catalog;
pub mod error;
mod patch;
mod prepare;
pub mod refs;
mod seed;
pub mod types;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use error::ApiError;
pub use patch::PatchOp;
pub use types::TypeInfo;

/// The admin tenant's uuid (and name): the controller gives it no `tenant-` prefix.
pub const ADMIN: &str = "admin";

/// Which tenant a request acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantScope {
    /// One tenant, by uuid.
    One(String),
    /// `X-Avi-Tenant: *`: every tenant (reads only).
    All,
}

impl TenantScope {
    /// The tenant a write goes to: `*` writes to admin, as the controller does for superusers.
    pub fn write_tenant(&self) -> &str {
        match self {
            TenantScope::One(t) => t,
            TenantScope::All => ADMIN,
        }
    }
}

/// A reference held by a stored object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRef {
    /// JSON pointer of the field inside the body.
    pub pointer: String,
    /// Target type.
    pub ty: String,
    /// Target uuid.
    pub uuid: String,
}

/// One stored object.
///
/// `Debug` never shows the private key (`secret`), only whether there is one.
#[derive(Clone, Serialize, Deserialize)]
pub struct Object {
    /// URL type.
    pub ty: String,
    /// `<type>-<uuid4>` (or the client's `Slug`).
    pub uuid: String,
    /// Owning tenant's uuid.
    pub tenant: String,
    /// Cloud uuid for cloud-scoped types.
    pub cloud: Option<String>,
    /// Current name.
    pub name: String,
    /// The body with references in canonical `/api/<type>/<uuid>` form.
    pub body: Map<String, Value>,
    /// Microseconds since the epoch of the last write.
    pub last_modified: u64,
    /// Creation order, for stable listing.
    pub seq: u64,
    /// Outgoing references.
    pub refs: Vec<StoredRef>,
    /// System default: cannot be deleted or renamed.
    pub system: bool,
    /// A private key (sslkeyandcertificate), never rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The certificates uploaded after the first in `certificate.certificate`
    /// (sslkeyandcertificate): the chain the data plane presents after the leaf. The
    /// controller shows only the first certificate, so this is never rendered either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("ty", &self.ty)
            .field("uuid", &self.uuid)
            .field("tenant", &self.tenant)
            .field("cloud", &self.cloud)
            .field("name", &self.name)
            .field("body", &self.body)
            .field("last_modified", &self.last_modified)
            .field("seq", &self.seq)
            .field("refs", &self.refs)
            .field("system", &self.system)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("chain", &self.chain)
            .finish()
    }
}

#[derive(Debug, Default, Clone)]
struct TypeStore {
    objects: HashMap<String, Object>,
    order: BTreeMap<u64, String>,
    names: HashMap<(String, Option<String>, String), String>,
}

/// Knobs of the write path.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `X-Avi-Version` of the request, for version-gated fields.
    pub api_version: Option<crate::schema::ApiVersion>,
    /// Reject unknown fields instead of dropping them.
    pub reject_unknown_fields: bool,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Store {
    types: HashMap<&'static str, TypeStore>,
    referrers: HashMap<(String, String), BTreeSet<(String, String)>>,
    seq: u64,
    last_modified: u64,
}

/// What a list request asks for (after the query string was parsed).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// `name=`.
    pub name: Option<String>,
    /// `name.contains=` (case-sensitive).
    pub name_contains: Option<String>,
    /// `name.icontains=`.
    pub name_icontains: Option<String>,
    /// `name.in=`.
    pub name_in: Option<Vec<String>>,
    /// `uuid.in=` / `uuid=`.
    pub uuid_in: Option<Vec<String>>,
    /// `created_by=`.
    pub created_by: Option<String>,
    /// `refers_to=<type>:<uuid>`: objects that refer to that object.
    pub refers_to: Option<(String, String)>,
    /// `referred_by=<type>:<uuid>`: objects that object refers to.
    pub referred_by: Option<(String, String)>,
    /// `label_key=` (+ optional `label_value=`): marker filter.
    pub label: Option<(String, Option<String>)>,
    /// `cloud_ref.name=`.
    pub cloud_name: Option<String>,
    /// `cloud_ref.uuid=` / `cloud_uuid=`.
    pub cloud_uuid: Option<String>,
    /// `sort=name` / `sort=-name`.
    pub sort: Option<String>,
}

impl Store {
    /// A store seeded like a freshly installed controller.
    pub fn new() -> Result<Self, ApiError> {
        let mut store = Store::empty();
        seed::seed(&mut store)?;
        Ok(store)
    }

    fn empty() -> Self {
        Store {
            types: types::TYPES
                .iter()
                .map(|t| (t.name, TypeStore::default()))
                .collect(),
            referrers: HashMap::new(),
            seq: 0,
            last_modified: 0,
        }
    }

    fn type_store(&self, ty: &str) -> Option<&TypeStore> {
        self.types.get(ty)
    }

    fn next_modified(&mut self) -> u64 {
        let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000;
        let now = u64::try_from(now).unwrap_or(0);
        self.last_modified = now.max(self.last_modified + 1);
        self.last_modified
    }

    /// An object by type and uuid, regardless of tenant.
    pub fn object(&self, ty: &str, uuid: &str) -> Option<&Object> {
        self.type_store(ty)?.objects.get(uuid)
    }

    /// Whether `obj` is visible to a request in `scope`.
    pub fn visible(&self, obj: &Object, scope: &TenantScope) -> bool {
        let info = types::lookup(&obj.ty);
        match scope {
            TenantScope::All => true,
            TenantScope::One(t) => {
                info.is_some_and(|i| i.global)
                    || obj.tenant == *t
                    || (obj.tenant == ADMIN && info.is_some_and(|i| i.shared_from_admin))
            }
        }
    }

    /// An object by uuid if visible in `scope`.
    pub fn get(&self, ty: &str, uuid: &str, scope: &TenantScope) -> Option<&Object> {
        self.object(ty, uuid).filter(|o| self.visible(o, scope))
    }

    /// Resolves a name in a tenant: the tenant's own object first, then a shared admin object.
    /// O(1): one or two hash lookups per cloud.
    pub fn find_by_name(&self, ty: &str, name: &str, scope: &TenantScope) -> Option<&Object> {
        let info = types::lookup(ty)?;
        let store = self.type_store(ty)?;
        let tenants: Vec<&str> = match scope {
            _ if info.global => vec![ADMIN],
            TenantScope::One(t) if t != ADMIN && info.shared_from_admin => vec![t.as_str(), ADMIN],
            TenantScope::One(t) => vec![t.as_str()],
            TenantScope::All => {
                return store
                    .order
                    .values()
                    .filter_map(|u| store.objects.get(u))
                    .find(|o| o.name == name);
            }
        };
        for tenant in tenants {
            let key = |cloud: Option<String>| (tenant.to_owned(), cloud, name.to_owned());
            if let Some(uuid) = store.names.get(&key(None)) {
                return store.objects.get(uuid);
            }
            if info.cloud_scoped {
                for cloud in self.clouds() {
                    if let Some(uuid) = store.names.get(&key(Some(cloud))) {
                        return store.objects.get(uuid);
                    }
                }
            }
        }
        None
    }

    fn clouds(&self) -> Vec<String> {
        self.type_store("cloud")
            .map(|s| s.order.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Objects of a type visible in `scope` that pass `filter`, in creation order (or sorted).
    pub fn list(&self, ty: &str, scope: &TenantScope, filter: &ListFilter) -> Vec<&Object> {
        let Some(store) = self.type_store(ty) else {
            return Vec::new();
        };
        // A name filter is an index lookup, not a scan: GET by name is the hot path.
        let candidates: Vec<&Object> = match (&filter.name, scope) {
            (Some(name), TenantScope::One(_)) => {
                self.find_by_name(ty, name, scope).into_iter().collect()
            }
            _ => store
                .order
                .values()
                .filter_map(|u| store.objects.get(u))
                .collect(),
        };
        let mut out: Vec<&Object> = candidates
            .into_iter()
            .filter(|o| self.visible(o, scope) && self.matches(o, filter))
            .collect();
        match filter.sort.as_deref() {
            Some("name") => out.sort_by(|a, b| a.name.cmp(&b.name)),
            Some("-name") => out.sort_by(|a, b| b.name.cmp(&a.name)),
            _ => {}
        }
        out
    }

    fn matches(&self, o: &Object, f: &ListFilter) -> bool {
        let text = |k: &str| o.body.get(k).and_then(Value::as_str);
        f.name.as_ref().is_none_or(|n| o.name == *n)
            && f.name_contains
                .as_ref()
                .is_none_or(|n| o.name.contains(n.as_str()))
            && f.name_icontains
                .as_ref()
                .is_none_or(|n| o.name.to_lowercase().contains(&n.to_lowercase()))
            && f.name_in.as_ref().is_none_or(|ns| ns.contains(&o.name))
            && f.uuid_in.as_ref().is_none_or(|us| us.contains(&o.uuid))
            && f.created_by
                .as_ref()
                .is_none_or(|c| text("created_by") == Some(c.as_str()))
            && f.refers_to
                .as_ref()
                .is_none_or(|(t, u)| o.refs.iter().any(|r| r.ty == *t && r.uuid == *u))
            && f.referred_by.as_ref().is_none_or(|(t, u)| {
                self.object(t, u)
                    .is_some_and(|src| src.refs.iter().any(|r| r.ty == o.ty && r.uuid == o.uuid))
            })
            && f.label
                .as_ref()
                .is_none_or(|(k, v)| has_marker(o, k, v.as_deref()))
            && f.cloud_uuid
                .as_ref()
                .is_none_or(|c| o.cloud.as_deref() == Some(c.as_str()))
            && f.cloud_name.as_ref().is_none_or(|n| {
                o.cloud
                    .as_ref()
                    .and_then(|c| self.object("cloud", c))
                    .is_some_and(|c| c.name == *n)
            })
    }

    /// Creates an object (POST). `slug` forces the uuid.
    pub fn create(
        &mut self,
        ty: &str,
        body: Value,
        scope: &TenantScope,
        slug: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<&Object, ApiError> {
        let info = known_type(ty)?;
        let prepared = prepare::prepare(self, info, body, scope, None, opts)?;
        let uuid = match slug {
            Some(s) if !s.is_empty() => s.to_owned(),
            _ => match info.name {
                "tenant" => format!("tenant-{}", uuid::Uuid::new_v4()),
                name => format!("{name}-{}", uuid::Uuid::new_v4()),
            },
        };
        if self.object(ty, &uuid).is_some() {
            return Err(ApiError::new(
                409,
                format!("{} with this Uuid already exists.", info.verbose_name()),
            ));
        }
        self.seq += 1;
        let obj = Object {
            ty: info.name.to_owned(),
            uuid: uuid.clone(),
            tenant: prepared.tenant,
            cloud: prepared.cloud,
            name: prepared.name,
            body: prepared.body,
            last_modified: self.next_modified(),
            seq: self.seq,
            refs: prepared.refs,
            system: false,
            secret: prepared.secret,
            chain: prepared.chain,
        };
        Ok(self.insert(obj))
    }

    /// Replaces an object (PUT). A stale `_last_modified` in the body gets 412.
    pub fn replace(
        &mut self,
        ty: &str,
        uuid: &str,
        body: Value,
        scope: &TenantScope,
        opts: &WriteOptions,
    ) -> Result<&Object, ApiError> {
        let info = known_type(ty)?;
        let existing = self
            .get(ty, uuid, scope)
            .cloned()
            .ok_or_else(|| ApiError::not_found(info.model))?;
        if let Some(sent) = body.get("_last_modified") {
            let sent = sent
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| sent.to_string());
            if sent != existing.last_modified.to_string() {
                return Err(ApiError::new(
                    412,
                    format!("Need to reload object data {}", info.model),
                ));
            }
        }
        let mut prepared = prepare::prepare(self, info, body, scope, Some(&existing), opts)?;
        // A client on an older API version neither sees nor sends fields introduced later:
        // its PUT keeps what is stored in them.
        for key in newer_fields(&existing, opts) {
            if let Some(v) = existing.body.get(&key) {
                prepared.body.insert(key, v.clone());
            }
        }
        if existing.system && prepared.name != existing.name {
            return Err(ApiError::new(403, "Cannot rename system default object"));
        }
        // A PUT echoing what a GET showed (the leaf alone) keeps the uploaded chain.
        let leaf = |b: &Map<String, Value>| {
            b.get("certificate")
                .and_then(|c| c.get("certificate"))
                .cloned()
        };
        let chain = prepared.chain.take().or_else(|| {
            (leaf(&prepared.body) == leaf(&existing.body))
                .then(|| existing.chain.clone())
                .flatten()
        });
        self.remove(ty, uuid);
        let obj = Object {
            tenant: existing.tenant.clone(),
            cloud: prepared.cloud.or(existing.cloud.clone()),
            name: prepared.name,
            body: prepared.body,
            last_modified: self.next_modified(),
            refs: prepared.refs,
            secret: prepared.secret.or(existing.secret.clone()),
            chain,
            ..existing
        };
        Ok(self.insert(obj))
    }

    /// Applies a PATCH (`add` / `replace` / `delete`) and stores the result.
    pub fn patch(
        &mut self,
        ty: &str,
        uuid: &str,
        op: &PatchOp,
        scope: &TenantScope,
        opts: &WriteOptions,
    ) -> Result<&Object, ApiError> {
        let info = known_type(ty)?;
        let existing = self
            .get(ty, uuid, scope)
            .cloned()
            .ok_or_else(|| ApiError::not_found(info.model))?;
        let mut body = existing.body.clone();
        for key in newer_fields(&existing, opts) {
            body.remove(&key);
        }
        body.insert("name".into(), Value::String(existing.name.clone()));
        patch::apply(&mut body, op)?;
        let mut body = Value::Object(body);
        if let Some(map) = body.as_object_mut() {
            map.remove("_last_modified");
        }
        self.replace(ty, uuid, body, scope, opts)
    }

    /// Deletes an object; refused while others refer to it.
    pub fn delete(&mut self, ty: &str, uuid: &str, scope: &TenantScope) -> Result<(), ApiError> {
        let info = known_type(ty)?;
        let obj = self
            .get(ty, uuid, scope)
            .ok_or_else(|| ApiError::not_found(info.model))?;
        if obj.system {
            return Err(ApiError::new(403, "Cannot delete system default object"));
        }
        let referrers = self.referrers_of(ty, uuid);
        if !referrers.is_empty() {
            let list: Vec<String> = referrers
                .iter()
                .filter_map(|(t, u)| self.object(t, u))
                .map(|o| {
                    let model = types::lookup(&o.ty).map_or(o.ty.as_str(), |i| i.model);
                    format!("'{model} {}'", o.name)
                })
                .collect();
            return Err(ApiError::new(
                403,
                format!(
                    "Cannot delete, object is referred by: [{}]",
                    list.join(", ")
                ),
            ));
        }
        self.remove(ty, uuid);
        Ok(())
    }

    /// Objects referring to `(ty, uuid)`.
    pub fn referrers_of(&self, ty: &str, uuid: &str) -> Vec<(String, String)> {
        self.referrers
            .get(&(ty.to_owned(), uuid.to_owned()))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every object, in creation order (for persistence and inspection).
    pub fn all_objects(&self) -> Vec<&Object> {
        let mut all: Vec<&Object> = self
            .types
            .values()
            .flat_map(|s| s.objects.values())
            .collect();
        all.sort_by_key(|o| o.seq);
        all
    }

    /// Number of objects of a type (all tenants).
    pub fn count(&self, ty: &str) -> usize {
        self.type_store(ty).map_or(0, |s| s.objects.len())
    }

    /// Rebuilds a store from persisted objects.
    pub fn from_objects(objects: Vec<Object>) -> Result<Self, ApiError> {
        let mut store = Store::empty();
        for obj in objects {
            known_type(&obj.ty)?;
            store.seq = store.seq.max(obj.seq);
            store.last_modified = store.last_modified.max(obj.last_modified);
            store.insert(obj);
        }
        Ok(store)
    }

    fn insert(&mut self, obj: Object) -> &Object {
        for r in &obj.refs {
            self.referrers
                .entry((r.ty.clone(), r.uuid.clone()))
                .or_default()
                .insert((obj.ty.clone(), obj.uuid.clone()));
        }
        let ty = obj.ty.clone();
        let uuid = obj.uuid.clone();
        let store = self.types.entry(static_name(&ty)).or_default();
        store.names.insert(
            (obj.tenant.clone(), obj.cloud.clone(), obj.name.clone()),
            uuid.clone(),
        );
        store.order.insert(obj.seq, uuid.clone());
        store.objects.entry(uuid).insert_entry(obj).into_mut()
    }

    fn remove(&mut self, ty: &str, uuid: &str) -> Option<Object> {
        let store = self.types.get_mut(ty)?;
        let obj = store.objects.remove(uuid)?;
        store.order.remove(&obj.seq);
        store
            .names
            .remove(&(obj.tenant.clone(), obj.cloud.clone(), obj.name.clone()));
        for r in &obj.refs {
            if let Some(set) = self.referrers.get_mut(&(r.ty.clone(), r.uuid.clone())) {
                set.remove(&(obj.ty.clone(), obj.uuid.clone()));
                if set.is_empty() {
                    self.referrers.remove(&(r.ty.clone(), r.uuid.clone()));
                }
            }
        }
        Some(obj)
    }

    /// The uuid holding `(tenant, cloud, name)` of a type, for uniqueness checks.
    fn name_holder(&self, ty: &str, tenant: &str, cloud: Option<&str>, name: &str) -> Option<&str> {
        self.type_store(ty)?
            .names
            .get(&(tenant.to_owned(), cloud.map(str::to_owned), name.to_owned()))
            .map(String::as_str)
    }

    /// Marks an object as a system default (seeding).
    fn mark_system(&mut self, ty: &str, uuid: &str) {
        if let Some(o) = self.types.get_mut(ty).and_then(|s| s.objects.get_mut(uuid)) {
            o.system = true;
        }
    }
}

/// Top-level fields of `obj` introduced after the request's API version.
fn newer_fields(obj: &Object, opts: &WriteOptions) -> Vec<String> {
    let (Some(version), Ok(schema)) = (&opts.api_version, crate::schema::Schema::embedded()) else {
        return Vec::new();
    };
    let mut visible = obj.body.clone();
    schema.strip_newer_fields(&obj.ty, &mut visible, version);
    obj.body
        .keys()
        .filter(|k| !visible.contains_key(*k))
        .cloned()
        .collect()
}

fn known_type(ty: &str) -> Result<&'static TypeInfo, ApiError> {
    types::lookup(ty).ok_or_else(|| ApiError::new(404, format!("Unknown object type '{ty}'")))
}

fn static_name(ty: &str) -> &'static str {
    types::lookup(ty).map_or("unknown", |i| i.name)
}

fn has_marker(o: &Object, key: &str, value: Option<&str>) -> bool {
    o.body
        .get("markers")
        .and_then(Value::as_array)
        .is_some_and(|markers| {
            markers.iter().any(|m| {
                m.get("key").and_then(Value::as_str) == Some(key)
                    && value.is_none_or(|v| {
                        m.get("values")
                            .and_then(Value::as_array)
                            .is_some_and(|vs| vs.iter().any(|x| x.as_str() == Some(v)))
                    })
            })
        })
}

#[cfg(test)]
mod tests;
