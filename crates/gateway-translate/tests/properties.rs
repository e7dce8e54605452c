//! Properties of the translation over the seed scenarios in `examples/manifests`: the order in
//! which objects arrive never changes the output, and no object — however mangled — makes it
//! panic.

use gateway_translate::{Settings, Snapshot, translate};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

fn seed_objects() -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/manifests");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        out.extend(
            serde_saphyr::from_multiple::<Value>(&text)
                .unwrap()
                .into_iter()
                .filter(|v| !v.is_null()),
        );
    }
    assert!(out.len() > 10, "the seed scenarios are there");
    out
}

fn now() -> Time {
    Time(Timestamp::from_second(1_700_000_000).unwrap())
}

fn settings() -> Settings {
    Settings {
        istio_enabled: true,
        istio_refs: Some(gateway_translate::IstioRefs::for_cluster(
            "cluster",
            "avi-system",
        )),
        ..Settings::default()
    }
}

#[test]
fn input_order_does_not_change_the_output() {
    let objects = seed_objects();
    let mut reference = Snapshot::default();
    for o in &objects {
        let _ = reference.insert_json(o.clone());
    }
    let expected = translate(&reference, &settings(), &now());
    assert!(!expected.model.virtual_services.is_empty());
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..50 {
        let mut shuffled = objects.clone();
        shuffled.shuffle(&mut rng);
        let mut s = Snapshot::default();
        for o in shuffled {
            let _ = s.insert_json(o);
        }
        let got = translate(&s, &settings(), &now());
        assert_eq!(got.model, expected.model);
        assert_eq!(got.statuses, expected.statuses);
        assert_eq!(got.warnings, expected.warnings);
    }
}

/// Replaces, removes or retypes a random node of a JSON document.
fn mangle(v: &mut Value, rng: &mut StdRng, depth: usize) {
    match v {
        Value::Object(map) if !map.is_empty() && depth < 8 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let k = &keys[rng.random_range(0..keys.len())];
            match rng.random_range(0..6) {
                0 => {
                    map.remove(k);
                }
                1 => {
                    map.insert(k.clone(), Value::Null);
                }
                2 => {
                    map.insert(k.clone(), Value::from(rng.random_range(-70_000i64..70_000)));
                }
                3 => {
                    map.insert(k.clone(), Value::from("*.*..bad..host-"));
                }
                _ => {
                    if let Some(child) = map.get_mut(k) {
                        mangle(child, rng, depth + 1);
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() && depth < 8 => {
            let i = rng.random_range(0..items.len());
            if rng.random_bool(0.3) {
                items.remove(i);
            } else {
                mangle(&mut items[i], rng, depth + 1);
            }
        }
        other => {
            *other = match rng.random_range(0..4) {
                0 => Value::Null,
                1 => Value::from(""),
                2 => Value::from(0),
                _ => Value::from("RegularExpression"),
            };
        }
    }
}

#[test]
fn mangled_objects_never_panic() {
    let objects = seed_objects();
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..2_000 {
        let mut s = Snapshot::default();
        for o in &objects {
            let mut o = o.clone();
            for _ in 0..rng.random_range(0..3) {
                mangle(&mut o, &mut rng, 0);
            }
            // Rejected objects are fine: a typed error, never a panic.
            let _ = s.insert_json(o);
        }
        let t = translate(&s, &settings(), &now());
        // Whatever survived still renders.
        let _ = t.model.to_json();
    }
}
