//! Python binding of `ltcg-streaming` (PyO3 + maturin). Not built yet: this crate only
//! reserves its place in the workspace; see the repository README for the roadmap.
