//! The cluster state: objects by (group, resource, namespace, name), one global revision, a
//! bounded event history for watches, and the semantics of create / update / patch / delete.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use crate::patch::{self, PatchType};
use crate::resources::{self, Resource};
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::StatusError;

/// Watch event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Debug, Clone)]
pub struct Event {
    /// Revision of the change.
    pub rev: u64,
    /// API group of the resource.
    pub group: String,
    /// Resource (plural).
    pub plural: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (before, for DELETED, with the deletion's revision).
    pub object: Value,
    /// For MODIFIED, the object before: a selector watch turns a change that makes an object
    /// enter or leave its selection into ADDED or DELETED, as the API server does.
    pub old: Option<Value>,
}

type Key = (String, String, String, String);

/// What a list asks for.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// `labelSelector`.
    pub labels: Option<LabelSelector>,
    /// `fieldSelector`.
    pub fields: Option<FieldSelector>,
    /// `limit` (0 = all).
    pub limit: usize,
    /// `continue` token from the previous page.
    pub continue_token: Option<String>,
}

/// A page of a list.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// Items.
    pub items: Vec<Value>,
    /// Revision the list reflects.
    pub rev: u64,
    /// Token for the next page.
    pub continue_token: Option<String>,
    /// Items left after this page.
    pub remaining: usize,
}

/// A PATCH: its type, body, field manager and target part.
#[derive(Debug, Clone, Copy)]
pub struct PatchRequest<'a> {
    /// Patch type.
    pub kind: PatchType,
    /// Patch body.
    pub body: &'a Value,
    /// `fieldManager`.
    pub manager: Option<&'a str>,
    /// Object or status.
    pub part: Part,
}

/// Which part of an object a write targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The object (status ignored when the resource has a status subresource).
    Main,
    /// `/status`: only `.status` changes.
    Status,
}

/// The whole cluster.
#[derive(Debug)]
pub struct Store {
    resources: Vec<Resource>,
    objects: BTreeMap<Key, Value>,
    rev: u64,
    history: VecDeque<Arc<Event>>,
    history_cap: usize,
    tx: broadcast::Sender<Arc<Event>>,
}

fn now() -> String {
    let t = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

fn meta_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj.as_object_mut()?.insert("metadata".into(), json!({}));
    }
    obj.get_mut("metadata")?.as_object_mut()
}

/// Everything but metadata and status: what `generation` tracks.
fn spec_part(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        for k in ["metadata", "status", "apiVersion", "kind"] {
            m.remove(k);
        }
    }
    o
}

impl Store {
    /// A cluster with the built-in resources and namespaces `default`, `kube-system`,
    /// `kube-public`, `kube-node-lease`.
    pub fn new(history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(8192);
        let mut store = Store {
            resources: resources::builtins(),
            objects: BTreeMap::new(),
            rev: 0,
            history: VecDeque::new(),
            history_cap: history_cap.max(1),
            tx,
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            if let Some(res) = store.find("", "v1", "namespaces") {
                let _ = store.create(
                    &res,
                    "",
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                );
            }
        }
        store
    }

    /// The whole state as JSON (for `--state`): revision and every object.
    pub fn export(&self) -> Value {
        json!({"revision": self.rev, "objects": self.objects.values().collect::<Vec<_>>()})
    }

    /// Rebuilds a cluster from [`Store::export`]; CRDs in it are served again.
    pub fn import(history_cap: usize, state: &Value) -> Result<Store, String> {
        let (tx, _) = broadcast::channel(8192);
        let mut store = Store {
            resources: resources::builtins(),
            objects: BTreeMap::new(),
            rev: state
                .get("revision")
                .and_then(Value::as_u64)
                .ok_or("state without revision")?,
            history: VecDeque::new(),
            history_cap: history_cap.max(1),
            tx,
        };
        let objects = state
            .get("objects")
            .and_then(Value::as_array)
            .ok_or("state without objects")?;
        // CRDs first, so the resources they define exist for the objects after them.
        let (crds, rest): (Vec<&Value>, Vec<&Value>) = objects.iter().partition(|o| {
            o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
        });
        for obj in crds.into_iter().chain(rest) {
            let api_version = obj
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
            let res = store
                .resources
                .iter()
                .find(|r| r.group == group && r.version == version && r.kind == kind)
                .cloned()
                .ok_or_else(|| format!("state holds {api_version} {kind}, which nothing serves"))?;
            if kind == "CustomResourceDefinition" {
                for r in resources::from_crd(obj)? {
                    store.resources.retain(|x| {
                        !(x.group == r.group && x.version == r.version && x.plural == r.plural)
                    });
                    store.resources.push(r);
                }
            }
            let ns = meta_str(obj, "namespace").unwrap_or_default();
            let name = meta_str(obj, "name").ok_or("object without a name")?;
            store.objects.insert(Self::key(&res, ns, name), obj.clone());
        }
        Ok(store)
    }

    /// Every served resource.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// A served resource by group, version and plural.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Resource> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    /// The current revision.
    pub fn revision(&self) -> u64 {
        self.rev
    }

    /// The oldest revision a watch may resume from.
    pub fn oldest_resumable(&self) -> u64 {
        self.history
            .front()
            .map_or(self.rev, |e| e.rev.saturating_sub(1))
    }

    /// Forgets the history (fault injection: every resumed watch gets 410).
    pub fn compact(&mut self) {
        self.history.clear();
    }

    /// A receiver of every future event.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Events after `rev` still in history, or 410 when `rev` is older than the history.
    pub fn events_since(&self, rev: u64) -> Result<Vec<Arc<Event>>, StatusError> {
        if rev < self.oldest_resumable() {
            return Err(StatusError::expired(format!(
                "too old resource version: {rev} ({})",
                self.oldest_resumable() + 1
            )));
        }
        Ok(self
            .history
            .iter()
            .filter(|e| e.rev > rev)
            .cloned()
            .collect())
    }

    fn emit(
        &mut self,
        res: &Resource,
        namespace: &str,
        kind: EventType,
        object: Value,
        old: Option<Value>,
    ) {
        let event = Arc::new(Event {
            rev: self.rev,
            group: res.group.clone(),
            plural: res.plural.clone(),
            namespace: namespace.to_owned(),
            kind,
            object,
            old,
        });
        if self.history.len() == self.history_cap {
            self.history.pop_front();
        }
        self.history.push_back(event.clone());
        let _ = self.tx.send(event);
    }

    fn key(res: &Resource, ns: &str, name: &str) -> Key {
        (
            res.group.clone(),
            res.plural.clone(),
            if res.namespaced {
                ns.to_owned()
            } else {
                String::new()
            },
            name.to_owned(),
        )
    }

    fn with_version(res: &Resource, mut obj: Value) -> Value {
        if let Some(m) = obj.as_object_mut() {
            m.insert("apiVersion".into(), Value::String(res.api_version()));
            m.insert("kind".into(), Value::String(res.kind.clone()));
        }
        obj
    }

    /// One object.
    pub fn get(&self, res: &Resource, ns: &str, name: &str) -> Result<Value, StatusError> {
        self.objects
            .get(&Self::key(res, ns, name))
            .map(|o| Self::with_version(res, o.clone()))
            .ok_or_else(|| StatusError::not_found(&res.plural, name))
    }

    /// A page of objects (namespace `None` = all namespaces).
    pub fn list(
        &self,
        res: &Resource,
        ns: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListPage, StatusError> {
        let start: Key = match &opts.continue_token {
            Some(token) => serde_json::from_str::<(String, String)>(token)
                .map(|(n, name)| (res.group.clone(), res.plural.clone(), n, name))
                .map_err(|_| StatusError::bad_request("invalid continue token"))?,
            None => (
                res.group.clone(),
                res.plural.clone(),
                String::new(),
                String::new(),
            ),
        };
        let matching = self
            .objects
            .range(start.clone()..)
            .filter(|(k, _)| opts.continue_token.is_none() || **k != start)
            .take_while(|(k, _)| k.0 == res.group && k.1 == res.plural)
            .filter(|(k, _)| ns.is_none_or(|n| !res.namespaced || k.2 == n))
            .filter(|(_, o)| opts.labels.as_ref().is_none_or(|s| s.matches(o)))
            .filter(|(_, o)| opts.fields.as_ref().is_none_or(|s| s.matches(o)));
        let mut items = Vec::new();
        let mut last = None;
        let mut remaining = 0;
        for (k, o) in matching {
            if opts.limit > 0 && items.len() == opts.limit {
                remaining += 1;
                continue;
            }
            items.push(Self::with_version(res, o.clone()));
            last = Some(k);
        }
        let continue_token = (remaining > 0)
            .then(|| last.map(|k| serde_json::to_string(&(&k.2, &k.3)).unwrap_or_default()))
            .flatten();
        Ok(ListPage {
            items,
            rev: self.rev,
            continue_token,
            remaining,
        })
    }

    /// Creates an object.
    pub fn create(
        &mut self,
        res: &Resource,
        ns: &str,
        mut obj: Value,
    ) -> Result<Value, StatusError> {
        if !obj.is_object() {
            return Err(StatusError::bad_request("the body must be an object"));
        }
        let meta = meta_mut(&mut obj)
            .ok_or_else(|| StatusError::bad_request("metadata must be an object"))?;
        if meta
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            let Some(prefix) = meta.get("generateName").and_then(Value::as_str) else {
                return Err(StatusError::invalid(format!(
                    "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                    res.kind
                )));
            };
            let suffix: String = uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .chars()
                .take(5)
                .collect();
            meta.insert("name".into(), Value::String(format!("{prefix}{suffix}")));
        }
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if res.namespaced {
            if let Some(given) = meta.get("namespace").and_then(Value::as_str)
                && given != ns
            {
                return Err(StatusError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            meta.insert("namespace".into(), Value::String(ns.to_owned()));
        } else {
            meta.remove("namespace");
        }
        if res.namespaced
            && !self.objects.contains_key(&(
                String::new(),
                "namespaces".into(),
                String::new(),
                ns.to_owned(),
            ))
        {
            return Err(StatusError::not_found("namespaces", ns));
        }
        let key = Self::key(res, ns, &name);
        if self.objects.contains_key(&key) {
            return Err(StatusError::already_exists(&res.plural, &name));
        }
        let defined =
            if res.group == "apiextensions.k8s.io" && res.plural == "customresourcedefinitions" {
                Some(resources::from_crd(&obj).map_err(|e| {
                    StatusError::invalid(format!(
                        "CustomResourceDefinition.apiextensions.k8s.io \"{name}\" is invalid: {e}"
                    ))
                })?)
            } else {
                None
            };
        self.rev += 1;
        let meta = meta_mut(&mut obj)
            .ok_or_else(|| StatusError::bad_request("metadata must be an object"))?;
        meta.insert(
            "uid".into(),
            Value::String(uuid::Uuid::new_v4().to_string()),
        );
        meta.insert("creationTimestamp".into(), Value::String(now()));
        meta.insert(
            "resourceVersion".into(),
            Value::String(self.rev.to_string()),
        );
        if tracks_generation(res) {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        meta.remove("deletionTimestamp");
        if is_secret(res) {
            merge_string_data(&mut obj)?;
        }
        let accepted_names = obj.pointer("/spec/names").cloned().unwrap_or(Value::Null);
        if let Some(m) = obj.as_object_mut() {
            if res.status && res.kind != "Namespace" {
                // With a status subresource, a create ignores status (as for CRDs and pods).
                m.remove("status");
            }
            if res.kind == "Namespace" {
                m.insert("status".into(), json!({"phase": "Active"}));
            }
            if defined.is_some() {
                m.insert("status".into(), json!({"conditions": [{"type": "Established", "status": "True"}, {"type": "NamesAccepted", "status": "True"}],
                    "acceptedNames": accepted_names}));
            }
        }
        let obj = Self::with_version(res, obj);
        if let Some(defined) = defined {
            for r in defined {
                self.resources.retain(|x| {
                    !(x.group == r.group && x.version == r.version && x.plural == r.plural)
                });
                self.resources.push(r);
            }
        }
        self.objects.insert(key, obj.clone());
        self.emit(res, ns, EventType::Added, obj.clone(), None);
        Ok(obj)
    }

    /// Replaces an object (PUT), honouring `metadata.resourceVersion` when given.
    pub fn update(
        &mut self,
        res: &Resource,
        ns: &str,
        name: &str,
        obj: Value,
        part: Part,
    ) -> Result<Value, StatusError> {
        let current = self.get(res, ns, name)?;
        if let Some(rv) = meta_str(&obj, "resourceVersion")
            && rv != meta_str(&current, "resourceVersion").unwrap_or_default()
        {
            return Err(StatusError::conflict(&res.plural, name));
        }
        if meta_str(&obj, "name").is_some_and(|n| n != name) {
            return Err(StatusError::bad_request(
                "the name of the object does not match the name on the URL",
            ));
        }
        self.store_write(res, ns, name, current, obj, part)
    }

    /// Patches an object; server-side apply creates it when missing.
    pub fn patch(
        &mut self,
        res: &Resource,
        ns: &str,
        name: &str,
        req: PatchRequest<'_>,
    ) -> Result<Value, StatusError> {
        let PatchRequest {
            kind,
            body,
            manager,
            part,
        } = req;
        let current = match self.get(res, ns, name) {
            Ok(c) => c,
            Err(e) if e.code == 404 && kind == PatchType::Apply && part == Part::Main => {
                let mut obj = body.clone();
                record_manager(&mut obj, manager, "Apply", "", &res.api_version(), body);
                if let Some(m) = meta_mut(&mut obj) {
                    m.insert("name".into(), Value::String(name.to_owned()));
                }
                return self.create(res, ns, obj);
            }
            Err(e) => return Err(e),
        };
        let mut next = current.clone();
        match kind {
            PatchType::Merge => patch::merge_patch(&mut next, body),
            PatchType::Json => patch::json_patch(&mut next, body)?,
            PatchType::Strategic => {
                if !resources::builtins()
                    .iter()
                    .any(|b| b.group == res.group && b.plural == res.plural)
                {
                    return Err(StatusError {
                        code: 415,
                        reason: "UnsupportedMediaType",
                        message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml".into(),
                    });
                }
                patch::strategic_merge(&mut next, body);
            }
            PatchType::Apply => {
                let sub = subresource(part);
                let before = manager.and_then(|m| applied_fields(&current, m, sub));
                patch::strategic_merge(&mut next, body);
                record_manager(&mut next, manager, "Apply", sub, &res.api_version(), body);
                // Server-side apply: what this manager applied before and applies no longer,
                // and no other manager owns, goes.
                if let (Some(m), Some(before)) = (manager, before) {
                    remove_dropped_fields(&mut next, m, sub, &before, &fields_v1(body));
                }
            }
        }
        if kind != PatchType::Apply {
            record_manager(
                &mut next,
                manager,
                "Update",
                subresource(part),
                &res.api_version(),
                body,
            );
        }
        if let Some(rv) = meta_str(body, "resourceVersion")
            && rv != meta_str(&current, "resourceVersion").unwrap_or_default()
        {
            return Err(StatusError::conflict(&res.plural, name));
        }
        self.store_write(res, ns, name, current, next, part)
    }

    /// The common tail of PUT and PATCH: immutable fields, status handling, generation,
    /// finalizer-driven removal.
    fn store_write(
        &mut self,
        res: &Resource,
        ns: &str,
        name: &str,
        current: Value,
        mut next: Value,
        part: Part,
    ) -> Result<Value, StatusError> {
        match part {
            Part::Status => {
                let status = next.get("status").cloned();
                let managed = next.pointer("/metadata/managedFields").cloned();
                next = current.clone();
                if let Some(m) = next.as_object_mut() {
                    match status {
                        Some(s) => m.insert("status".into(), s),
                        None => m.remove("status"),
                    };
                }
                // The managers of a status write are recorded too (as `subresource: status`).
                if let (Some(managed), Some(meta)) = (managed, meta_mut(&mut next)) {
                    meta.insert("managedFields".into(), managed);
                }
            }
            Part::Main if res.status => {
                if let Some(m) = next.as_object_mut() {
                    match current.get("status").cloned() {
                        Some(s) => m.insert("status".into(), s),
                        None => m.remove("status"),
                    };
                }
            }
            Part::Main => {}
        }
        if part == Part::Main && is_secret(res) {
            merge_string_data(&mut next)?;
        }
        let cur_meta = current.get("metadata").cloned().unwrap_or(json!({}));
        let meta = meta_mut(&mut next)
            .ok_or_else(|| StatusError::bad_request("metadata must be an object"))?;
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "name",
            "namespace",
            "generation",
        ] {
            match cur_meta.get(f) {
                Some(v) => meta.insert(f.to_owned(), v.clone()),
                None => meta.remove(f),
            };
        }
        if next == current {
            // A no-op write changes nothing, not even the resourceVersion.
            return Ok(current);
        }
        let generation = cur_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let bump = part == Part::Main && spec_part(&next) != spec_part(&current);
        self.rev += 1;
        let rev = self.rev;
        let meta = meta_mut(&mut next)
            .ok_or_else(|| StatusError::bad_request("metadata must be an object"))?;
        meta.insert("resourceVersion".into(), Value::String(rev.to_string()));
        if tracks_generation(res) {
            meta.insert(
                "generation".into(),
                json!(if bump { generation + 1 } else { generation }),
            );
        }
        let next = Self::with_version(res, next);
        let finalizers_gone = next
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if meta_str(&next, "deletionTimestamp").is_some() && finalizers_gone {
            self.objects.remove(&Self::key(res, ns, name));
            self.emit(res, ns, EventType::Deleted, next.clone(), None);
            return Ok(next);
        }
        self.objects.insert(Self::key(res, ns, name), next.clone());
        self.emit(res, ns, EventType::Modified, next.clone(), Some(current));
        Ok(next)
    }

    /// Deletes an object: with finalizers it only gets a deletionTimestamp.
    pub fn delete(&mut self, res: &Resource, ns: &str, name: &str) -> Result<Value, StatusError> {
        let mut current = self.get(res, ns, name)?;
        let has_finalizers = current
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        self.rev += 1;
        let rev = self.rev;
        if has_finalizers {
            if meta_str(&current, "deletionTimestamp").is_some() {
                self.rev -= 1;
                return Ok(current);
            }
            let before = current.clone();
            if let Some(m) = meta_mut(&mut current) {
                m.insert("deletionTimestamp".into(), Value::String(now()));
                m.insert("resourceVersion".into(), Value::String(rev.to_string()));
            }
            self.objects
                .insert(Self::key(res, ns, name), current.clone());
            self.emit(res, ns, EventType::Modified, current.clone(), Some(before));
            return Ok(current);
        }
        if let Some(m) = meta_mut(&mut current) {
            m.insert("resourceVersion".into(), Value::String(rev.to_string()));
        }
        self.objects.remove(&Self::key(res, ns, name));
        self.emit(res, ns, EventType::Deleted, current.clone(), None);
        if res.group.is_empty() && res.plural == "namespaces" {
            self.delete_namespace_contents(name);
        }
        if res.group == "apiextensions.k8s.io"
            && res.plural == "customresourcedefinitions"
            && let Ok(defined) = resources::from_crd(&current)
        {
            self.resources.retain(|r| {
                !defined
                    .iter()
                    .any(|d| d.group == r.group && d.plural == r.plural)
            });
        }
        Ok(current)
    }

    fn delete_namespace_contents(&mut self, ns: &str) {
        let keys: Vec<Key> = self.objects.keys().filter(|k| k.2 == ns).cloned().collect();
        for k in keys {
            let res = self
                .resources
                .iter()
                .find(|r| r.group == k.0 && r.plural == k.1)
                .cloned();
            if let Some(res) = res
                && let Some(mut obj) = self.objects.remove(&k)
            {
                self.rev += 1;
                if let Some(m) = meta_mut(&mut obj) {
                    m.insert(
                        "resourceVersion".into(),
                        Value::String(self.rev.to_string()),
                    );
                }
                self.emit(&res, ns, EventType::Deleted, obj, None);
            }
        }
    }
}

/// `status` for a status write, `` for the main resource (a managedFields entry's
/// `subresource`).
fn subresource(part: Part) -> &'static str {
    match part {
        Part::Status => "status",
        Part::Main => "",
    }
}

fn entry_is(e: &Value, manager: &str, operation: &str, sub: &str) -> bool {
    e["manager"] == manager
        && e["operation"] == operation
        && e.get("subresource").and_then(Value::as_str).unwrap_or("") == sub
}

/// Records a field manager in `metadata.managedFields` (one entry per manager, operation and
/// subresource), with the fields its patch set.
fn record_manager(
    obj: &mut Value,
    manager: Option<&str>,
    operation: &str,
    sub: &str,
    api_version: &str,
    body: &Value,
) {
    let Some(manager) = manager else { return };
    let fields = fields_v1(body);
    let Some(meta) = meta_mut(obj) else { return };
    let list = meta.entry("managedFields").or_insert_with(|| json!([]));
    let Value::Array(entries) = list else { return };
    entries.retain(|e| !entry_is(e, manager, operation, sub));
    let mut entry = json!({
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now(),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    });
    if !sub.is_empty() {
        entry["subresource"] = json!(sub);
    }
    entries.push(entry);
}

/// The fields `manager` last applied to `obj` (its `Apply` entry for `sub`).
fn applied_fields(obj: &Value, manager: &str, sub: &str) -> Option<Value> {
    obj.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|e| entry_is(e, manager, "Apply", sub))
        .and_then(|e| e.get("fieldsV1").cloned())
}

/// The leaf paths of a `FieldsV1` set (`{"f:data": {"f:a": {}}}` → `[["data", "a"]]`).
fn leaves(fields: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Value::Object(m) = fields else { return };
    if m.is_empty() {
        if !at.is_empty() {
            out.push(at.clone());
        }
        return;
    }
    for (k, v) in m {
        let Some(key) = k.strip_prefix("f:") else {
            continue;
        };
        at.push(key.to_owned());
        leaves(v, at, out);
        at.pop();
    }
}

/// Removes from `obj` the leaves `manager` applied `before` and no longer applies (`now`),
/// unless another entry of `managedFields` owns them too.
fn remove_dropped_fields(obj: &mut Value, manager: &str, sub: &str, before: &Value, now: &Value) {
    let (mut old, mut new) = (Vec::new(), Vec::new());
    leaves(before, &mut Vec::new(), &mut old);
    leaves(now, &mut Vec::new(), &mut new);
    let mut others = Vec::new();
    for e in obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| !entry_is(e, manager, "Apply", sub))
    {
        if let Some(f) = e.get("fieldsV1") {
            leaves(f, &mut Vec::new(), &mut others);
        }
    }
    for path in old {
        // Still applied, itself or something below it, or owned so by another manager.
        let kept = new.iter().chain(&others).any(|p| p.starts_with(&path));
        if kept
            || path
                .first()
                .is_some_and(|k| k == "metadata" && path.len() < 2)
        {
            continue;
        }
        let (last, parents) = match path.split_last() {
            Some(x) => x,
            None => continue,
        };
        let pointer: String = parents
            .iter()
            .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
            .collect();
        if let Some(m) = obj.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            m.remove(last.as_str());
        }
    }
}

/// The `FieldsV1` set of the fields a patch body sets (`{"f:spec": {"f:replicas": {}}}`).
fn fields_v1(body: &Value) -> Value {
    match body {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "apiVersion" | "kind" | "managedFields" | "resourceVersion"
                    )
                })
                .map(|(k, v)| (format!("f:{k}"), fields_v1(v)))
                .collect(),
        ),
        _ => json!({}),
    }
}

/// Whether the API server keeps `metadata.generation` for objects of `res`: custom resources and
/// the built-ins whose registry strategy sets it (not Secrets, ConfigMaps, Services, Pods,
/// Nodes, Namespaces, Events, Leases, EndpointSlices, Endpoints or ServiceAccounts).
fn tracks_generation(res: &Resource) -> bool {
    !matches!(
        (res.group.as_str(), res.kind.as_str()),
        (
            "",
            "Secret"
                | "ConfigMap"
                | "Service"
                | "Endpoints"
                | "Pod"
                | "Node"
                | "Namespace"
                | "ServiceAccount"
                | "Event"
        ) | ("events.k8s.io", "Event")
            | ("discovery.k8s.io", "EndpointSlice")
            | ("coordination.k8s.io", "Lease")
    )
}

fn is_secret(res: &Resource) -> bool {
    res.group.is_empty() && res.kind == "Secret"
}

/// A Secret's `stringData` merged into `data` (base64, the string's bytes; a key in both takes
/// the `stringData` value) and dropped, as the API server does: it is write-only.
fn merge_string_data(obj: &mut Value) -> Result<(), StatusError> {
    use base64::Engine;
    let Some(m) = obj.as_object_mut() else {
        return Ok(());
    };
    // The API server's defaulting: a Secret without a type is Opaque.
    if m.get("type").is_none_or(|t| t.is_null() || t == "") {
        m.insert("type".into(), Value::String("Opaque".into()));
    }
    let Some(string_data) = m.remove("stringData") else {
        return Ok(());
    };
    let Value::Object(entries) = string_data else {
        if string_data.is_null() {
            return Ok(());
        }
        return Err(StatusError::bad_request(
            "Secret stringData must be a map of strings",
        ));
    };
    let data = m
        .entry("data")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if data.is_null() {
        *data = Value::Object(serde_json::Map::new());
    }
    let Some(data) = data.as_object_mut() else {
        return Err(StatusError::bad_request("Secret data must be a map"));
    };
    for (k, v) in entries {
        let Some(text) = v.as_str() else {
            return Err(StatusError::bad_request(format!(
                "Secret stringData[{k}] must be a string"
            )));
        };
        data.insert(
            k,
            Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
        );
    }
    Ok(())
}
