//! A waker that keeps a connection task from being woken by the calls it runs itself.
//!
//! The Triple server runs a call on the connection task when it can. Queueing the response
//! through h2's stream handles wakes the task that last polled the connection: the very task
//! doing the queueing. tokio treats a task that wakes itself while running as one that
//! yields: it polls the task once more after it returns, and on the multi-thread runtime it
//! first wakes an idle worker to look for work (a futex call and a hop between threads for
//! every request). The connection loop polls h2 again after every call it runs, so those
//! wakes bring no news; [`InlineWake`] drops them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Wake, Waker};

use futures_util::task::AtomicWaker;

/// The waker a connection task hands to its protocol engine in place of its own.
///
/// It passes every wake on to the task, except those that arrive while [`InlineWake::run`]
/// runs a call. The caller promises to poll the engine (and anything else polled with
/// [`InlineWake::waker`]) after every `run`, which is what those wakes would have caused.
pub(crate) struct InlineWake {
    inner: Arc<Inner>,
    waker: Waker,
}

struct Inner {
    /// Set while a call runs inline.
    inline: AtomicBool,
    /// The connection task's own waker, as of its latest poll.
    task: AtomicWaker,
}

impl Wake for Inner {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // A wake from another thread seen as inline is covered too: whatever it signals was
        // done before the engine's next poll, which comes after the call.
        if !self.inline.load(Ordering::Acquire) {
            self.task.wake();
        }
    }
}

impl InlineWake {
    pub(crate) fn new() -> InlineWake {
        let inner = Arc::new(Inner {
            inline: AtomicBool::new(false),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(Arc::clone(&inner));
        InlineWake { inner, waker }
    }

    /// The waker to poll the engine with on behalf of the task polling with `cx`.
    pub(crate) fn waker(&self, cx: &Context<'_>) -> &Waker {
        self.inner.task.register(cx.waker());
        &self.waker
    }

    /// Runs one call, dropping the wakes it causes.
    pub(crate) fn run<T>(&self, call: impl FnOnce() -> T) -> T {
        /// Clears the flag even if the call unwinds.
        struct Reset<'a>(&'a AtomicBool);
        impl Drop for Reset<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        self.inner.inline.store(true, Ordering::Release);
        let _reset = Reset(&self.inner.inline);
        call()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn task() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        (count, waker)
    }

    #[test]
    fn wakes_outside_a_call_reach_the_task_and_wakes_inside_do_not() {
        let (count, task_waker) = task();
        let wake = InlineWake::new();
        let engine = wake.waker(&Context::from_waker(&task_waker)).clone();
        wake.run(|| engine.wake_by_ref());
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        engine.wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        // Once woken, the task has to poll (and register) again to hear of the next wake.
        engine.wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let _ = wake.waker(&Context::from_waker(&task_waker));
        engine.wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn wakes_go_through_again_after_a_call_that_panicked() {
        let (count, task_waker) = task();
        let wake = InlineWake::new();
        let engine = wake.waker(&Context::from_waker(&task_waker)).clone();
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wake.run(|| panic!("handler panicked"))
        }));
        assert!(unwound.is_err());
        engine.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_latest_task_waker_is_the_one_woken() {
        let (first, first_waker) = task();
        let (second, second_waker) = task();
        let wake = InlineWake::new();
        let engine = wake.waker(&Context::from_waker(&first_waker)).clone();
        let _ = wake.waker(&Context::from_waker(&second_waker));
        engine.wake_by_ref();
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
