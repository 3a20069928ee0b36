//! Node binding of `ltcg-streaming` (napi-rs). Not built yet: this crate only reserves its
//! place in the workspace; see the repository README for the roadmap.
