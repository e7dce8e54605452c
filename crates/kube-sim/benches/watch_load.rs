//! 10,000 EndpointSlices created (8 concurrent writers) while 3 watchers follow: every watcher
//! must see every event, in order. Prints the figures.
//!
//! `cargo bench -p kube-sim --bench watch_load` (`WATCH_LOAD_SLICES` changes the count).

#[path = "../tests/support/load.rs"]
mod common_load;

fn main() {
    let slices: usize = std::env::var("WATCH_LOAD_SLICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let r = rt.block_on(common_load::run(slices, 3));
    println!(
        "kube-sim watch load: {} EndpointSlices, {} watchers: created in {:.2} s ({:.0} creates/s); \
         last watcher done {:.2} s after the first create; events per watcher {:?}, all in order",
        r.slices,
        r.watchers,
        r.create_secs,
        r.slices as f64 / r.create_secs,
        r.last_delivery_secs,
        r.events_per_watcher
    );
}
