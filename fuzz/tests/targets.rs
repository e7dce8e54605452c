//! Every fuzz target under bolero: random inputs (`BOLERO_RANDOM_ITERATIONS`, or
//! `BOLERO_RANDOM_TEST_TIME_MS` as `cargo xtask fuzz` sets it), then the regression corpus in
//! `corpus/<target>/`. A translation's output must stay within a budget proportional to its
//! input.

use std::path::PathBuf;

use fuzz_targets::{TARGETS, run};

/// Output allowed per input byte, on top of a fixed allowance: a linear translation of the
/// seed scenarios stays far below it; a quadratic one does not.
const OUTPUT_PER_BYTE: usize = 400;
const OUTPUT_BASE: usize = 2_000_000;

fn check(name: &str) {
    bolero::check!()
        .with_type::<Vec<u8>>()
        .with_iterations(200)
        .with_max_len(2_048)
        .for_each(|data: &Vec<u8>| budgeted(name, data));
}

fn budgeted(name: &str, data: &[u8]) {
    let size = run(name, data);
    assert!(
        size <= OUTPUT_BASE + OUTPUT_PER_BYTE * data.len(),
        "{name}: {size} bytes of output for {} bytes of input",
        data.len()
    );
}

#[test]
fn istio_bundle() {
    check("istio_bundle");
}

#[test]
fn spiffe_id() {
    check("spiffe_id");
}

#[test]
fn manifests() {
    check("manifests");
}

#[test]
fn mutated_manifests() {
    check("mutated_manifests");
}

#[test]
fn kube_request() {
    check("kube_request");
}

#[test]
fn kube_protobuf() {
    check("kube_protobuf");
}

#[test]
fn avi_request() {
    check("avi_request");
}

/// Every file under `corpus/<target>/` replayed through its target.
#[test]
fn the_corpus_replays() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut replayed = 0;
    for name in TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        for e in entries.flatten() {
            let data = std::fs::read(e.path()).unwrap();
            budgeted(name, &data);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "the corpus is there");
}
