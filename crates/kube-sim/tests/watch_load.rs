//! Load: EndpointSlices created while watchers follow (a small run; the 10,000 run is
//! `cargo bench -p kube-sim --bench watch_load`).

#[path = "support/load.rs"]
mod common_load;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_watchers_see_every_endpointslice_in_order() {
    let report = common_load::run(1_000, 3).await;
    assert_eq!((report.slices, report.watchers), (1_000, 3));
    assert_eq!(report.events_per_watcher, vec![1_000; 3]);
    assert!(report.create_secs > 0.0 && report.last_delivery_secs >= report.create_secs * 0.5);
}
