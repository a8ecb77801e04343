//! The memory ceiling of the as-of cache: the rebuilds it keeps never hold more folded records together than
//! its limit, the least recently used going first, and a rebuild over the limit on its own is answered but not
//! kept. (The queue's limits per caller and in all are unit tests of `engine::replay`.)

use std::sync::Arc;

use engine::demo::{DemoOptions, run_on_keeping_projections};
use engine::replay::{AsOfCache, AsOfLimits};
use store::EventLog;
use store::file::FileLog;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_rebuilds_never_hold_more_records_than_the_ceiling() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, _recovery) = FileLog::open(&dir.path().join("data")).expect("open the log");
    let log: Arc<dyn EventLog> = Arc::new(log);
    let options = DemoOptions { seed: 11, applicants: 12, providers: 4 };
    let (summary, _incremental) = run_on_keeping_projections(log.clone(), options).await.expect("demo");
    let head = summary.head_position;
    assert!(head > 120, "the demo ledger has {head} records");

    let ceiling = 100;
    let cache = AsOfCache::with_limits(AsOfLimits { entries: 8, records: ceiling, queue: 16, per_caller: 2 });
    for position in [20, 40, 30, 10, 24, 60, 2] {
        let rebuilt =
            cache.at_for(log.as_ref(), position, "auditor|guiyang||auditor-1").await.expect("rebuild");
        assert_eq!(rebuilt.position(), position);
        assert!(cache.records() <= ceiling, "{} records kept after {position}", cache.records());
        assert_eq!(cache.positions().first(), Some(&position), "the latest rebuild is kept first");
    }
    // 24 pushed out 20 and 40, 60 pushed out 30 (the least recently used first): 96 records kept.
    assert_eq!(cache.positions(), vec![2, 60, 24, 10]);
    // A rebuild over the ceiling by itself is answered, and not kept.
    let large = cache.at_for(log.as_ref(), ceiling + 1, "auditor|guiyang||auditor-1").await.expect("rebuild");
    assert_eq!(large.position(), ceiling + 1);
    assert_eq!(cache.positions(), vec![2, 60, 24, 10]);
}
