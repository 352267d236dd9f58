//! A short run of the load harness (`tools/load`): every kind of valid and invalid
//! request at once against the emulator on loopback, with the replay guard off and
//! on. Every answer must match the error table, none may be 5xx, and memory must stay flat.

use std::time::Duration;

use janrain_auth_load as load;

use crate::counting::memory_exclusive_async;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_traffic_is_answered_correctly_with_and_without_the_replay_guard() {
    // One after the other, and alone in the process: the memory figures are the whole
    // process's.
    let _alone = memory_exclusive_async().await;
    for replay in [false, true] {
        let report = load::run(load::Options {
            duration: Duration::from_secs(3),
            concurrency: 16,
            replay,
            max_growth_mib: 16.0,
        })
        .await;
        println!("{}", report.render());
        if let Err(reason) = report.verdict() {
            panic!("replay guard {replay}: {reason}\n{}", report.render());
        }
        assert!(report.sent > 29, "too few requests: {}", report.sent);
        assert_eq!(report.guard_entries.is_some(), replay);
        let replayed = report
            .refused
            .iter()
            .filter(|((_, code, _), _)| *code == 434)
            .map(|(_, n)| *n)
            .sum::<u64>();
        assert_eq!(replayed > 0, replay, "434 answers only with the guard");
    }
}
