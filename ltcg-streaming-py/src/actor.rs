//! `Actor`: who is calling a service method.

use ltcg_streaming_core::Actor;
use pyo3::prelude::*;

use crate::errors::OrRaise;

/// The caller of a service method: `Actor.internal()`, `Actor.user(id)` or `Actor.agent(id)`.
#[pyclass(name = "Actor", module = "ltcg_streaming", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PyActor(pub(crate) Actor);

#[pymethods]
impl PyActor {
    /// Trusted server-side code: may do everything.
    #[staticmethod]
    fn internal() -> Self {
        Self(Actor::internal())
    }

    /// A signed-in user: only their own user sessions and credentials.
    #[staticmethod]
    fn user(id: &str) -> PyResult<Self> {
        Actor::user(id).map(Self).or_raise()
    }

    /// An AI agent: only its own agent sessions and credentials.
    #[staticmethod]
    fn agent(id: &str) -> PyResult<Self> {
        Actor::agent(id).map(Self).or_raise()
    }

    /// `"internal"`, `"user"` or `"agent"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.0 {
            Actor::Internal => "internal",
            Actor::User(_) => "user",
            Actor::Agent(_) => "agent",
        }
    }

    /// The user or agent id (`None` for internal callers).
    #[getter]
    fn id(&self) -> Option<&str> {
        match &self.0 {
            Actor::Internal => None,
            Actor::User(id) | Actor::Agent(id) => Some(id),
        }
    }

    fn __repr__(&self) -> String {
        match self.id() {
            None => "Actor.internal()".to_owned(),
            Some(id) => format!("Actor.{}('{id}')", self.kind()),
        }
    }
}
