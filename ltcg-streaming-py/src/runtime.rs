//! Awaitables for Rust futures, and an interpreter exit that never races a runtime thread.
//!
//! A call runs on pyo3-async-runtimes' tokio runtime (inside its task-local scope, so a
//! Python store can schedule coroutines on the caller's loop); its outcome is handed to the
//! caller's event loop with `call_soon_threadsafe`. That call briefly releases the GIL
//! (asyncio writes to its self-pipe), and CPython kills a thread that takes the GIL back
//! while the interpreter finalizes, which is fatal for a Rust thread. So runtime threads
//! enter Python only through [`attach`], which is counted, and an `atexit` hook
//! ([`wait_for_runtime_threads`]) stops new entries and waits for running ones before
//! finalization begins.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use ltcg_streaming_core::service::commit::{tracked, CommitFlag};
use ltcg_streaming_core::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;
use pyo3::{intern, IntoPyObjectExt};
use tokio::task::AbortHandle;

use crate::errors::to_py_err;

/// Runtime threads currently entering or inside Python.
static ATTACHED: AtomicUsize = AtomicUsize::new(0);
/// Set once the interpreter exits: runtime threads stay out of Python.
static EXITING: AtomicBool = AtomicBool::new(false);
/// Longest wait at exit for runtime threads to leave Python.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Runs `f` attached to the interpreter from a runtime thread; `None` once the interpreter
/// is exiting.
pub(crate) fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    ATTACHED.fetch_add(1, SeqCst);
    let result = if EXITING.load(SeqCst) {
        None
    } else {
        Python::try_attach(f)
    };
    ATTACHED.fetch_sub(1, SeqCst);
    result
}

/// The `atexit` hook: runtime threads stop entering Python, and those inside are waited for.
#[pyfunction]
pub(crate) fn wait_for_runtime_threads(py: Python<'_>) {
    EXITING.store(true, SeqCst);
    let deadline = Instant::now() + EXIT_GRACE;
    while ATTACHED.load(SeqCst) > 0 && Instant::now() < deadline {
        py.detach(|| std::thread::sleep(Duration::from_millis(1)));
    }
}

/// Why a call failed: a core error (raised as its exception class) or a Python exception.
#[derive(Debug)]
pub(crate) enum Failure {
    Core(Error),
    Py(PyErr),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Core(err)
    }
}

impl From<PyErr> for Failure {
    fn from(err: PyErr) -> Self {
        Failure::Py(err)
    }
}

/// What a call resolves to.
pub(crate) type Outcome<T> = Result<T, Failure>;

/// An `asyncio.Future` of the running loop, resolved with the outcome of `future` (run on
/// the runtime, without the GIL). Cancelling it aborts the Rust task unless the call has
/// committed (`ltcg_streaming_core::service::commit`): then it runs to its documented end.
pub(crate) fn spawn<'py, T, F>(py: Python<'py>, future: F) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    F: Future<Output = Outcome<T>> + Send + 'static,
{
    let locals = pyo3_async_runtimes::tokio::get_current_locals(py)?;
    let event_loop = locals.event_loop(py);
    let awaitable = event_loop.call_method0(intern!(py, "create_future"))?;
    let (event_loop, target) = (event_loop.unbind(), awaitable.clone().unbind());
    let (future, committed) = tracked(future);
    let task = pyo3_async_runtimes::tokio::get_runtime().spawn(async move {
        let outcome = pyo3_async_runtimes::tokio::scope(locals, future).await;
        // Waiting for the GIL blocks a thread: not one of the runtime's workers.
        tokio::task::spawn_blocking(move || deliver(event_loop, target, outcome));
    });
    awaitable.call_method1(
        intern!(py, "add_done_callback"),
        (AbortOnCancel(task.abort_handle(), committed),),
    )?;
    Ok(awaitable)
}

/// Hands `outcome` to `target` on its loop.
fn deliver<T: for<'a> IntoPyObject<'a>>(
    event_loop: Py<PyAny>,
    target: Py<PyAny>,
    outcome: Outcome<T>,
) {
    static SETTLE: PyOnceLock<Py<PyCFunction>> = PyOnceLock::new();
    // A closed loop refuses the call: nobody is waiting any more.
    let _ = attach(|py| -> PyResult<()> {
        let (ok, value) = match outcome {
            Ok(value) => match value.into_bound_py_any(py) {
                Ok(value) => (true, value),
                Err(e) => (false, e.into_value(py).into_bound(py).into_any()),
            },
            Err(Failure::Py(e)) => (false, e.into_value(py).into_bound(py).into_any()),
            Err(Failure::Core(e)) => (false, to_py_err(e).into_value(py).into_bound(py).into_any()),
        };
        let settle =
            SETTLE.get_or_try_init(py, || wrap_pyfunction!(settle, py).map(Bound::unbind))?;
        event_loop.bind(py).call_method1(
            intern!(py, "call_soon_threadsafe"),
            (settle, target, ok, value),
        )?;
        Ok(())
    });
}

/// Sets the result or exception of `future` unless it was cancelled meanwhile.
#[pyfunction]
fn settle(future: &Bound<'_, PyAny>, ok: bool, value: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = future.py();
    if future.call_method0(intern!(py, "done"))?.is_truthy()? {
        return Ok(());
    }
    let method = if ok {
        intern!(py, "set_result")
    } else {
        intern!(py, "set_exception")
    };
    future.call_method1(method, (value,))?;
    Ok(())
}

/// Done-callback of an awaitable: aborts its Rust task when it was cancelled before the call
/// committed.
#[pyclass(frozen)]
struct AbortOnCancel(AbortHandle, CommitFlag);

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future
            .call_method0(intern!(future.py(), "cancelled"))?
            .is_truthy()?
            && !self.1.committed()
        {
            self.0.abort();
        }
        Ok(())
    }
}

/// An awaitable that is already done with `value` (for `__aenter__`).
pub(crate) fn ready<'py>(value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = value.py();
    let future = py
        .import(intern!(py, "asyncio"))?
        .call_method0(intern!(py, "get_running_loop"))?
        .call_method0(intern!(py, "create_future"))?;
    future.call_method1(intern!(py, "set_result"), (value,))?;
    Ok(future)
}
