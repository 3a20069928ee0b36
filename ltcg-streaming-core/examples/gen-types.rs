//! Rewrites the TypeScript and Python declarations of the bindings from the core's Rust types
//! (see `ltcg_streaming_core::schema`): `cargo run -p ltcg-streaming-core --example gen-types`.

use std::path::Path;
use std::{fs, io};

use ltcg_streaming_core::schema::generated_files;

fn main() -> io::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| io::Error::other("the core crate has no parent directory"))?;
    for (path, text) in generated_files(repo)? {
        let changed = fs::read_to_string(&path).map_or(true, |old| old != text);
        if changed {
            fs::write(&path, text)?;
        }
        let state = if changed { "written" } else { "up to date" };
        println!("{state}: {}", path.display());
    }
    Ok(())
}
