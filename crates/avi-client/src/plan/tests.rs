use serde_json::json;

use super::*;

fn d(kind: Kind, body: Value) -> Desired {
    Desired { kind, body }
}

fn pool(name: &str, port: u16) -> Desired {
    d(
        Kind::Pool,
        json!({"name": name, "created_by": "ako-c", "default_server_port": port}),
    )
}

fn pg(name: &str, pools: &[&str]) -> Desired {
    let members: Vec<Value> = pools
        .iter()
        .map(|p| json!({"pool_ref": format!("/api/pool/?name={p}")}))
        .collect();
    d(
        Kind::PoolGroup,
        json!({"name": name, "created_by": "ako-c", "members": members}),
    )
}

fn stored(kind: Kind, uuid: &str, body: Value) -> (Kind, Value) {
    let mut body = body;
    body["uuid"] = json!(uuid);
    (kind, body)
}

fn position(plan: &SyncPlan, kind: Kind, name: &str) -> usize {
    plan.steps
        .iter()
        .position(|s| s.kind == kind && s.name == name)
        .unwrap()
}

#[test]
fn cold_plan_creates_bottom_up_with_dependencies() {
    let desired = vec![
        d(
            Kind::VirtualService,
            json!({"name": "child", "created_by": "ako-c",
            "vh_parent_vs_ref": "/api/virtualservice/?name=parent", "pool_group_ref": "/api/poolgroup/?name=pg"}),
        ),
        pg("pg", &["a", "b"]),
        d(
            Kind::VirtualService,
            json!({"name": "parent", "created_by": "ako-c",
            "vsvip_ref": "/api/vsvip/?name=vip"}),
        ),
        pool("b", 80),
        d(Kind::VsVip, json!({"name": "vip", "created_by": "ako-c"})),
        pool("a", 80),
    ];
    let plan = SyncPlan::compute(&desired, &[]);
    assert_eq!(plan.steps.len(), 6);
    assert!(plan.steps.iter().all(|s| s.action == Action::Create));
    let at = |k, n| position(&plan, k, n);
    assert!(at(Kind::Pool, "a") < at(Kind::PoolGroup, "pg"));
    assert!(at(Kind::PoolGroup, "pg") < at(Kind::VirtualService, "child"));
    assert!(at(Kind::VsVip, "vip") < at(Kind::VirtualService, "parent"));
    assert!(at(Kind::VirtualService, "parent") < at(Kind::VirtualService, "child"));
    let child = &plan.steps[at(Kind::VirtualService, "child")];
    assert!(child.after.contains(&at(Kind::VirtualService, "parent")));
    assert!(child.after.contains(&at(Kind::PoolGroup, "pg")));
    let text = plan.to_string();
    assert!(text.contains("create virtualservice child"), "{text}");
    assert!(text.ends_with("6 steps, 0 unchanged\n"), "{text}");
}

#[test]
fn unchanged_objects_make_no_step_and_differences_make_updates() {
    let desired = vec![pool("a", 80), pool("b", 8080)];
    let current = vec![
        stored(
            Kind::Pool,
            "pool-a",
            json!({"name": "a", "created_by": "ako-c", "default_server_port": 80, "lb_algorithm": "X"}),
        ),
        stored(
            Kind::Pool,
            "pool-b",
            json!({"name": "b", "created_by": "ako-c", "default_server_port": 80}),
        ),
    ];
    let plan = SyncPlan::compute(&desired, &current);
    assert_eq!(plan.unchanged, 1);
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(
        plan.steps[0].action,
        Action::Update {
            uuid: "pool-b".into(),
            fields: vec!["default_server_port".into()]
        }
    );
}

#[test]
fn deletes_come_last_and_top_down() {
    // On the controller: vs -> pg -> pool x; we now want only pool "a".
    let current = vec![
        stored(
            Kind::Pool,
            "pool-x",
            json!({"name": "x", "created_by": "ako-c"}),
        ),
        stored(
            Kind::PoolGroup,
            "pg-1",
            json!({"name": "pg", "created_by": "ako-c",
            "members": [{"pool_ref": "https://c/api/pool/pool-x#x"}]}),
        ),
        stored(
            Kind::VirtualService,
            "vs-1",
            json!({"name": "vs", "created_by": "ako-c",
            "pool_group_ref": "https://c/api/poolgroup/pg-1#pg"}),
        ),
        stored(
            Kind::VirtualService,
            "vs-2",
            json!({"name": "child", "created_by": "ako-c",
            "vh_parent_vs_ref": "https://c/api/virtualservice/vs-1#vs"}),
        ),
    ];
    let plan = SyncPlan::compute(&[pool("a", 80)], &current);
    let names: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .map(|s| (s.action.label(), s.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("create", "a"),
            ("delete", "child"),
            ("delete", "vs"),
            ("delete", "pg"),
            ("delete", "x")
        ]
    );
    // Each delete waits for its referrers' deletes (and for updates that drop a reference to it,
    // none here: the create of "a" refers to nothing doomed).
    assert_eq!(plan.steps[1].after, Vec::<usize>::new());
    assert_eq!(plan.steps[2].after, vec![1]);
    assert_eq!(plan.steps[3].after, vec![2]);
    assert_eq!(plan.steps[4].after, vec![3]);
}

#[test]
fn references_by_uuid_to_planned_objects_are_dependencies() {
    let current = vec![stored(
        Kind::Pool,
        "pool-a",
        json!({"name": "a", "created_by": "ako-c", "default_server_port": 1}),
    )];
    let desired = vec![
        pool("a", 80),
        d(
            Kind::PoolGroup,
            json!({"name": "pg", "created_by": "ako-c", "members": [{"pool_ref": "/api/pool/pool-a"}]}),
        ),
    ];
    let plan = SyncPlan::compute(&desired, &current);
    let pg = position(&plan, Kind::PoolGroup, "pg");
    assert_eq!(plan.steps[pg].after, vec![position(&plan, Kind::Pool, "a")]);
}

#[test]
fn virtual_services_are_deleted_before_their_vips() {
    let current = vec![
        stored(
            Kind::VsVip,
            "vsvip-1",
            json!({"name": "vip-3", "markers": [{"key": "created_by", "values": ["ako-c"]}],
            "vs_refs": ["http://127.0.0.1:1/api/virtualservice/vs-1#vs-3"]}),
        ),
        stored(
            Kind::VirtualService,
            "vs-1",
            json!({"name": "vs-3", "created_by": "ako-c",
            "vsvip_ref": "http://127.0.0.1:1/api/vsvip/vsvip-1#vip-3"}),
        ),
    ];
    let plan = SyncPlan::compute(&[], &current);
    let names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["vs-3", "vip-3"], "{plan}");
}

#[test]
fn a_delete_waits_for_the_update_that_drops_its_last_reference() {
    let current = vec![
        stored(
            Kind::Pool,
            "pool-x",
            json!({"name": "x", "created_by": "ako-c"}),
        ),
        stored(
            Kind::Pool,
            "pool-y",
            json!({"name": "y", "created_by": "ako-c"}),
        ),
        stored(
            Kind::PoolGroup,
            "pg-1",
            json!({"name": "pg", "created_by": "ako-c",
            "members": [{"pool_ref": "https://c/api/pool/pool-x#x"}, {"pool_ref": "https://c/api/pool/pool-y#y"}]}),
        ),
    ];
    // The pool group keeps only y: x must be deleted after the update.
    let plan = SyncPlan::compute(&[pool("y", 80), pg("pg", &["y"])], &current);
    let update = position(&plan, Kind::PoolGroup, "pg");
    let delete = position(&plan, Kind::Pool, "x");
    assert_eq!(plan.steps[delete].after, vec![update]);
}

#[test]
fn debug_never_shows_bodies() {
    let key = d(
        Kind::SslKeyAndCertificate,
        json!({"name": "k", "key": "-----BEGIN PRIVATE KEY-----"}),
    );
    let plan = SyncPlan::compute(std::slice::from_ref(&key), &[]);
    let text = format!("{key:?} {plan:?}");
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(
        text.contains("sslkeyandcertificate") || text.contains("SslKeyAndCertificate"),
        "{text}"
    );
}
