//! When a call may still be cancelled: a call is abortable until its first durable effect
//! (the session row of a start, the ended state of a stop), and runs to its documented end
//! after that, so a cancelled caller never leaves a half-done start (a session `initializing`
//! with a running egress) behind.
//!
//! A binding that can cancel calls (Python's `asyncio`) runs each call inside [`tracked`] and
//! aborts it on cancellation only while [`CommitFlag::committed`] is `false`; the service
//! marks the commit point.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

tokio::task_local! {
    static COMMITTED: Arc<AtomicBool>;
}

/// Whether a tracked call has passed its commit point.
#[derive(Debug, Clone, Default)]
pub struct CommitFlag(Arc<AtomicBool>);

impl CommitFlag {
    /// `true` once the call has made a durable change: aborting it now would leave it half
    /// done, so let it finish.
    pub fn committed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// `future`, with a flag telling whether it has committed.
pub fn tracked<F: Future>(future: F) -> (impl Future<Output = F::Output>, CommitFlag) {
    let flag = CommitFlag::default();
    (COMMITTED.scope(flag.0.clone(), future), flag)
}

/// Marks the current tracked call committed (nothing outside [`tracked`]).
pub(crate) fn mark_committed() {
    let _ = COMMITTED.try_with(|c| c.store(true, Ordering::SeqCst));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_flag_follows_the_commit_point() {
        let (call, flag) = tracked(async {
            tokio::task::yield_now().await;
            mark_committed();
        });
        assert!(!flag.committed());
        call.await;
        assert!(flag.committed());
        mark_committed(); // outside a tracked call: no effect, no panic
    }
}
