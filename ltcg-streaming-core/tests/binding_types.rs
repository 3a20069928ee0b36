//! The TypeScript and Python declarations committed in the bindings are the ones the core's
//! Rust types generate.

use std::fs;
use std::path::Path;

use ltcg_streaming_core::schema::{generated_files, REGENERATE};

#[test]
fn committed_binding_types_match_the_rust_types() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for (path, expected) in generated_files(repo).unwrap() {
        let committed = fs::read_to_string(&path).unwrap();
        assert!(
            committed == expected,
            "{} is stale: run `{REGENERATE}` and commit the result",
            path.display()
        );
    }
}
