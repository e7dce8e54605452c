use super::*;
use notify::event::{EventKind, ModifyKind, RenameMode};

fn event(paths: &[&str]) -> notify::Event {
    let mut e = notify::Event::new(EventKind::Modify(ModifyKind::Name(RenameMode::Both)));
    for p in paths {
        e = e.add_path(PathBuf::from(p));
    }
    e
}

#[test]
fn renames_of_the_three_files_are_relevant() {
    let dir = Path::new("/certs");
    assert!(is_relevant(&event(&["/certs/key.pem.tmp.123", "/certs/key.pem"]), dir));
    assert!(is_relevant(&event(&["/certs/cert-chain.pem"]), dir));
    assert!(is_relevant(&event(&["/certs/root-cert.pem"]), dir));
}

#[test]
fn temp_files_and_strangers_are_not() {
    let dir = Path::new("/certs");
    assert!(!is_relevant(&event(&["/certs/key.pem.tmp.123"]), dir));
    assert!(!is_relevant(&event(&["/certs/other.txt"]), dir));
}

#[test]
fn projected_volume_swaps_and_rescans_are() {
    let dir = Path::new("/certs");
    assert!(is_relevant(&event(&["/certs/..data_tmp", "/certs/..data"]), dir));
    assert!(is_relevant(&event(&["/certs/..2026_11_21_00_00_00.1"]), dir));
    let rescan = notify::Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
    assert!(is_relevant(&rescan, dir));
}
