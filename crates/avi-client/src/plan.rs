//! Sync plans: from the desired objects and the objects we own on the controller, the ordered
//! creates, updates and deletes that make the controller match — creates and updates
//! bottom-up, deletes top-down, so no write references a missing object and no delete is
//! refused for being in use. A plan is data: print it for a dry run, apply it for real.

use std::collections::{HashMap, HashSet};
use std::fmt;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;

use crate::client::AviClient;
use crate::compare::differing_fields;
use crate::error::{AviError, Result};
use crate::kind::Kind;
use crate::object::AviObject;
use crate::reference::RawRef;

/// One object we want on the controller. `Debug` shows kind and name only: a body may hold a
/// private key.
#[derive(Clone, PartialEq)]
pub struct Desired {
    /// Its kind.
    pub kind: Kind,
    /// Its body as we would POST it.
    pub body: Value,
}

impl Desired {
    /// From a typed object.
    pub fn of<T: AviObject>(obj: &T) -> Result<Self> {
        let mut body = serde_json::to_value(obj).map_err(|e| AviError::Decode {
            kind: T::KIND,
            name: obj.name().to_owned(),
            detail: e.to_string(),
        })?;
        crate::owner::normalize(T::KIND, &mut body);
        Ok(Desired {
            kind: T::KIND,
            body,
        })
    }

    /// Marks top-level `fields` as ours even when this body leaves them out: any of them the
    /// body lacks must be unset on the controller. Without this, a field we stop setting (a
    /// pool's TLS references when its backend leaves the mesh) would stay as last written,
    /// since an update writes only what we set over what the controller holds.
    pub fn clearing(mut self, fields: &[&str]) -> Self {
        if let Some(o) = self.body.as_object_mut() {
            for f in fields {
                o.entry(*f).or_insert(Value::Null);
            }
        }
        self
    }

    /// Marks `fields` of every object in the top-level list `list` as ours (the way
    /// [`Desired::clearing`] marks top-level fields): an element that leaves one out wants it
    /// unset. A virtual service's `services` are replaced whole by an update, but only a
    /// difference triggers one; this makes a port that stops setting a field a difference.
    pub fn clearing_each(mut self, list: &str, fields: &[&str]) -> Self {
        if let Some(items) = self.body.get_mut(list).and_then(Value::as_array_mut) {
            for o in items.iter_mut().filter_map(Value::as_object_mut) {
                for f in fields {
                    o.entry(*f).or_insert(Value::Null);
                }
            }
        }
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// What a plan does to one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// POST.
    Create,
    /// PUT over the stored object; `fields` are the ones that differ.
    Update {
        /// Stored uuid.
        uuid: String,
        /// Fields that differ.
        fields: Vec<String>,
    },
    /// DELETE.
    Delete {
        /// Stored uuid.
        uuid: String,
    },
}

/// One step of a plan. `Debug` leaves the bodies out: they may hold a private key.
#[derive(Clone)]
pub struct Step {
    /// Object kind.
    pub kind: Kind,
    /// Object name.
    pub name: String,
    /// What happens.
    pub action: Action,
    /// Steps (indexes into [`SyncPlan::steps`]) that must succeed first.
    pub after: Vec<usize>,
    /// The body as compact JSON: a plan holds thousands, and a JSON tree is several times
    /// larger.
    desired: Option<Box<str>>,
    existing: Option<Value>,
}

/// The ordered steps that bring the controller to the desired state.
#[derive(Debug, Clone, Default)]
pub struct SyncPlan {
    /// Steps in a valid sequential order.
    pub steps: Vec<Step>,
    /// Desired objects already as wanted.
    pub unchanged: usize,
}

/// How one step went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// Done.
    Done,
    /// The controller or the network refused it.
    Failed(String),
    /// Not tried because a step it depends on failed.
    Skipped,
}

/// What applying a plan did, per step.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// `(kind, name, action label, outcome)` per step, in plan order.
    pub steps: Vec<(Kind, String, &'static str, StepOutcome)>,
    /// Desired objects that needed nothing.
    pub unchanged: usize,
}

impl SyncReport {
    /// Steps that did not complete.
    pub fn failures(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.3 != StepOutcome::Done)
            .count()
    }

    /// Steps that completed.
    pub fn done(&self) -> usize {
        self.steps.len() - self.failures()
    }
}

impl Action {
    fn label(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update { .. } => "update",
            Action::Delete { .. } => "delete",
        }
    }
}

impl fmt::Display for SyncPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.steps.iter().enumerate() {
            write!(f, "{i:>4}  {:<6} {} {}", s.action.label(), s.kind, s.name)?;
            if let Action::Update { fields, .. } = &s.action {
                write!(f, " ({})", fields.join(", "))?;
            }
            if !s.after.is_empty() {
                let after: Vec<String> = s.after.iter().map(usize::to_string).collect();
                write!(f, "  after {}", after.join(","))?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "{} steps, {} unchanged",
            self.steps.len(),
            self.unchanged
        )
    }
}

/// Back-references the controller computes (a VsVip lists the virtual services using it):
/// they are not dependencies of the object.
const BACK_REFERENCES: &[&str] = &["vs_refs"];

impl fmt::Debug for Desired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Desired")
            .field("kind", &self.kind)
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("action", &self.action)
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

/// Every reference an object holds (any string under a `*_ref` / `*_refs` field).
fn references(body: &Value) -> Vec<RawRef> {
    fn walk(v: &Value, in_ref: bool, out: &mut Vec<RawRef>) {
        match v {
            Value::String(s) if in_ref => out.extend(RawRef::parse(s)),
            Value::Array(items) => items.iter().for_each(|i| walk(i, in_ref, out)),
            Value::Object(map) => {
                for (k, v) in map
                    .iter()
                    .filter(|(k, _)| !BACK_REFERENCES.contains(&k.as_str()))
                {
                    walk(v, k.ends_with("_ref") || k.ends_with("_refs"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(body, false, &mut out);
    out
}

fn uuid_of(v: &Value) -> Option<&str> {
    v.get("uuid").and_then(Value::as_str)
}

fn name_of(v: &Value) -> &str {
    v.get("name").and_then(Value::as_str).unwrap_or_default()
}

impl SyncPlan {
    /// Computes the plan. `current` is what we own on the controller (listed by `created_by`),
    /// as the controller returns it (with `include_name`).
    pub fn compute(desired: &[Desired], current: &[(Kind, Value)]) -> SyncPlan {
        SyncPlan::compute_iter(desired.iter().cloned(), current)
    }

    /// As [`SyncPlan::compute`], taking the desired objects one at a time. Each body is looked
    /// at once and kept only as compact JSON for its step, so a caller that produces the bodies
    /// lazily never holds them all as JSON trees (a few kilobytes each) at once.
    pub fn compute_iter(
        desired: impl IntoIterator<Item = Desired>,
        current: &[(Kind, Value)],
    ) -> SyncPlan {
        struct Write<'a> {
            kind: Kind,
            name: String,
            action: Action,
            refs: Vec<(Kind, String)>,
            body: Box<str>,
            existing: Option<&'a Value>,
        }
        let existing: HashMap<(Kind, &str), &Value> =
            current.iter().map(|(k, v)| ((*k, name_of(v)), v)).collect();
        let name_by_uuid: HashMap<&str, &str> = current
            .iter()
            .filter_map(|(_, v)| uuid_of(v).map(|u| (u, name_of(v))))
            .collect();
        let mut wanted: HashSet<(Kind, String)> = HashSet::new();
        // The object of the same kind each desired object sits on (a child VS's parent).
        let mut parent_of: HashMap<(Kind, String), String> = HashMap::new();
        let mut plan = SyncPlan::default();
        let mut writes: Vec<Write<'_>> = Vec::new();
        for mut d in desired {
            crate::owner::normalize(d.kind, &mut d.body);
            let kind = d.kind;
            let name = d.name().to_owned();
            wanted.insert((kind, name.clone()));
            let refs: Vec<(Kind, String)> = references(&d.body)
                .into_iter()
                .filter_map(|r| {
                    let name = r.name.or_else(|| {
                        r.uuid
                            .as_deref()
                            .and_then(|u| name_by_uuid.get(u))
                            .map(|n| (*n).to_owned())
                    })?;
                    Some((r.kind, name))
                })
                .collect();
            if let Some((_, parent)) = refs.iter().find(|(k, _)| *k == kind) {
                parent_of.insert((kind, name.clone()), parent.clone());
            }
            let e = existing.get(&(kind, name.as_str())).copied();
            let action = match e {
                None => Action::Create,
                Some(e) => {
                    let fields = differing_fields(&d.body, e);
                    if fields.is_empty() {
                        plan.unchanged += 1;
                        continue;
                    }
                    Action::Update {
                        uuid: uuid_of(e).unwrap_or_default().to_owned(),
                        fields,
                    }
                }
            };
            writes.push(Write {
                kind,
                name,
                action,
                refs,
                body: d.body.to_string().into_boxed_str(),
                existing: e,
            });
        }
        // Writes, bottom-up: by kind rank, then by depth among objects of one kind (a child VS
        // after its parent).
        let mut keyed: Vec<(usize, usize, Write<'_>)> = writes
            .into_iter()
            .map(|w| {
                let depth = same_kind_depth(w.kind, &w.name, &parent_of);
                (w.kind.rank(), depth, w)
            })
            .collect();
        keyed.sort_by(|a, b| (a.0, a.1, &a.2.name).cmp(&(b.0, b.1, &b.2.name)));
        let mut index_of: HashMap<(Kind, String), usize> = HashMap::new();
        for (_, _, w) in keyed {
            let after: Vec<usize> = w
                .refs
                .into_iter()
                .filter_map(|r| index_of.get(&r).copied())
                .collect();
            index_of.insert((w.kind, w.name.clone()), plan.steps.len());
            plan.steps.push(Step {
                kind: w.kind,
                name: w.name,
                action: w.action,
                after,
                desired: Some(w.body),
                existing: w.existing.cloned(),
            });
        }
        let writes_end = plan.steps.len();

        // Deletes, top-down: every write first (an update may drop the last reference), then
        // referrers before what they refer to.
        let mut doomed: Vec<&(Kind, Value)> = current
            .iter()
            .filter(|(k, v)| !wanted.contains(&(*k, name_of(v).to_owned())))
            .collect();
        doomed.sort_by_key(|(k, v)| (std::cmp::Reverse(k.rank()), name_of(v).to_owned()));
        let doomed_uuids: HashMap<&str, usize> = doomed
            .iter()
            .enumerate()
            .filter_map(|(i, (_, v))| uuid_of(v).map(|u| (u, i)))
            .collect();
        // referrers[i] = doomed objects that refer to doomed object i.
        let mut referrers: Vec<Vec<usize>> = vec![Vec::new(); doomed.len()];
        for (i, (_, v)) in doomed.iter().enumerate() {
            for r in references(v) {
                if let Some(&j) = r
                    .uuid
                    .as_deref()
                    .and_then(|u| doomed_uuids.get(u))
                    .filter(|&&j| j != i)
                {
                    referrers[j].push(i);
                }
            }
        }
        let order = topo_referrers_first(&referrers);
        let mut delete_index = vec![0usize; doomed.len()];
        for &i in &order {
            delete_index[i] = plan.steps.len();
            let (kind, v) = doomed[i];
            let mut after: Vec<usize> = referrers[i].iter().map(|&j| delete_index[j]).collect();
            // An update that drops the last reference to this object must land first; nothing
            // else does (a delete waiting on every write would make one failed write strand
            // every leftover, and the edges would grow as writes × deletes).
            if let Some(uuid) = uuid_of(v) {
                after.extend((0..writes_end).filter(|&w| {
                    plan.steps[w].existing.as_ref().is_some_and(|e| {
                        references(e)
                            .iter()
                            .any(|r| r.kind == *kind && r.uuid.as_deref() == Some(uuid))
                    })
                }));
            }
            plan.steps.push(Step {
                kind: *kind,
                name: name_of(v).to_owned(),
                action: Action::Delete {
                    uuid: uuid_of(v).unwrap_or_default().to_owned(),
                },
                after,
                desired: None,
                existing: Some(v.clone()),
            });
        }
        plan
    }

    /// Whether the controller already matches.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// How many desired objects of the same kind this one sits on (a child VS on its parent).
fn same_kind_depth(kind: Kind, name: &str, parent_of: &HashMap<(Kind, String), String>) -> usize {
    let mut depth = 0;
    let mut current = name.to_owned();
    let mut seen = HashSet::new();
    while let Some(parent) = parent_of.get(&(kind, current)) {
        if !seen.insert(parent.clone()) {
            break;
        }
        depth += 1;
        current = parent.clone();
    }
    depth
}

/// An order where every node comes after all its referrers; cycles (which a controller would
/// refuse anyway) are broken by input order.
fn topo_referrers_first(referrers: &[Vec<usize>]) -> Vec<usize> {
    fn visit(i: usize, referrers: &[Vec<usize>], state: &mut [u8], out: &mut Vec<usize>) {
        if state[i] != 0 {
            return;
        }
        state[i] = 1;
        for &r in &referrers[i] {
            visit(r, referrers, state, out);
        }
        state[i] = 2;
        out.push(i);
    }
    let mut state = vec![0u8; referrers.len()];
    let mut out = Vec::with_capacity(referrers.len());
    for i in 0..referrers.len() {
        visit(i, referrers, &mut state, &mut out);
    }
    out
}

impl AviClient {
    /// Objects of these kinds created by `created_by` on the controller, in this tenant.
    pub async fn owned_state(
        &self,
        created_by: &str,
        kinds: &[Kind],
    ) -> Result<Vec<(Kind, Value)>> {
        let mut out = Vec::new();
        for &kind in kinds {
            for v in self.list_owned_raw(kind, created_by).await? {
                out.push((kind, v));
            }
        }
        Ok(out)
    }

    /// Plans a sync of `desired` against what `created_by` owns of the kinds `desired` uses
    /// (plus `also`, kinds whose leftovers should be deleted).
    pub async fn plan(
        &self,
        desired: &[Desired],
        created_by: &str,
        also: &[Kind],
    ) -> Result<SyncPlan> {
        self.plan_owned(desired.to_vec(), created_by, also).await
    }

    /// As [`AviClient::plan`], moving `desired` into the plan (see
    /// [`SyncPlan::compute_iter`]).
    pub async fn plan_owned(
        &self,
        desired: Vec<Desired>,
        created_by: &str,
        also: &[Kind],
    ) -> Result<SyncPlan> {
        let mut kinds: Vec<Kind> = desired
            .iter()
            .map(|d| d.kind)
            .chain(also.iter().copied())
            .collect();
        kinds.sort();
        kinds.dedup();
        let current = self.owned_state(created_by, &kinds).await?;
        Ok(SyncPlan::compute_iter(desired, &current))
    }

    /// Applies a plan: independent steps run concurrently (bounded by the client's
    /// concurrency), a step runs only after the steps it depends on succeeded.
    pub async fn apply(&self, plan: &SyncPlan) -> SyncReport {
        let n = plan.steps.len();
        // `steps` is public: a caller may have filtered it. A dependency that no longer exists
        // makes its step fail instead of panicking or running out of order.
        let broken: Vec<bool> = plan
            .steps
            .iter()
            .map(|s| s.after.iter().any(|&a| a >= n))
            .collect();
        let mut outcome: Vec<Option<StepOutcome>> = vec![None; n];
        let mut waiting: Vec<usize> = plan
            .steps
            .iter()
            .map(|s| s.after.iter().filter(|&&a| a < n).count())
            .collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, s) in plan.steps.iter().enumerate() {
            for &a in s.after.iter().filter(|&&a| a < n) {
                dependents[a].push(i);
            }
        }
        for (i, b) in broken.iter().enumerate() {
            if *b {
                outcome[i] = Some(StepOutcome::Failed(
                    "the plan was edited: a dependency is missing".into(),
                ));
            }
        }
        let mut ready: Vec<usize> = (0..n)
            .filter(|&i| waiting[i] == 0 && !broken[i])
            .rev()
            .collect();
        let limit = self.config().concurrency.max(1) * 2;
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < limit {
                let Some(i) = ready.pop() else { break };
                let step = &plan.steps[i];
                running.push(async move { (i, self.run_step(step).await) });
            }
            let Some((i, result)) = running.next().await else {
                break;
            };
            let ok = result.is_ok();
            if let Err(e) = &result {
                tracing::warn!(kind = %plan.steps[i].kind, name = %plan.steps[i].name, error = %e, "sync step failed");
            }
            outcome[i] = Some(result.map_or_else(
                |e| StepOutcome::Failed(e.to_string()),
                |()| StepOutcome::Done,
            ));
            let mut stack = vec![(i, ok)];
            while let Some((j, ok)) = stack.pop() {
                for &d in &dependents[j] {
                    if !ok {
                        if outcome[d].is_none() {
                            outcome[d] = Some(StepOutcome::Skipped);
                            stack.push((d, false));
                        }
                        continue;
                    }
                    waiting[d] -= 1;
                    if waiting[d] == 0 && outcome[d].is_none() {
                        ready.push(d);
                    }
                }
            }
        }
        SyncReport {
            steps: plan
                .steps
                .iter()
                .zip(outcome)
                .map(|(s, o)| {
                    (
                        s.kind,
                        s.name.clone(),
                        s.action.label(),
                        o.unwrap_or(StepOutcome::Skipped),
                    )
                })
                .collect(),
            unchanged: plan.unchanged,
        }
    }

    async fn run_step(&self, step: &Step) -> Result<()> {
        let desired = match &step.desired {
            Some(d) => Some(
                serde_json::from_str::<Value>(d).map_err(|e| AviError::Decode {
                    kind: step.kind,
                    name: step.name.clone(),
                    detail: e.to_string(),
                })?,
            ),
            None => None,
        };
        match (&step.action, &desired, &step.existing) {
            (Action::Create, Some(d), _) => self.create_raw(step.kind, d).await.map(|_| ()),
            (Action::Update { .. }, Some(d), Some(e)) => {
                self.converge(step.kind, e, d).await.map(|_| ())
            }
            (Action::Delete { uuid }, _, _) => self.delete_raw(step.kind, uuid).await,
            _ => Err(AviError::Config(format!(
                "malformed plan step for {} {}",
                step.kind, step.name
            ))),
        }
    }

    /// Plans and applies in one go.
    pub async fn sync(
        &self,
        desired: &[Desired],
        created_by: &str,
        also: &[Kind],
    ) -> Result<SyncReport> {
        let plan = self.plan(desired, created_by, also).await?;
        Ok(self.apply(&plan).await)
    }
}

#[cfg(test)]
mod tests;
