//! Generates the bindings in library mode with this crate's `uniffi-bindgen` (feature
//! `cli`): Python is generated and tested against the freshly built library with the core's
//! JSON vectors; Kotlin and Swift sources are generated and checked (no compiler here).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The cdylib cargo built for this test: next to it in `target/<profile>/deps`, or
/// uplifted into `target/<profile>`.
fn library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let name = format!(
        "{}ltcg_streaming_uniffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    [deps.join(&name), deps.parent().unwrap().join(&name)]
        .into_iter()
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} was not built near {}", deps.display()))
}

fn generate(language: &str, out: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_uniffi-bindgen"))
        .args(["generate", "--library"])
        .arg(library())
        .args(["--language", language, "--no-format", "--out-dir"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "uniffi-bindgen {language} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn generated_python_bindings_pass_the_vectors() {
    let out = tempfile::tempdir().unwrap();
    generate("python", out.path());
    let module = out.path().join("ltcg_streaming_uniffi.py");
    assert!(module.exists(), "no Python module generated");
    let library = library();
    std::fs::copy(&library, out.path().join(library.file_name().unwrap())).unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(manifest.join("tests/python/test_bindings.py"))
        .env("PYTHONPATH", out.path())
        .env(
            "LTCG_FIXTURES",
            manifest.join("../ltcg-streaming-core/tests/fixtures"),
        )
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "the Python test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("4 passed"), "{stdout}");
}

#[test]
fn kotlin_and_swift_sources_are_generated() {
    let out = tempfile::tempdir().unwrap();
    generate("kotlin", out.path());
    generate("swift", out.path());
    let kotlin = out
        .path()
        .join("uniffi/ltcg_streaming_uniffi/ltcg_streaming_uniffi.kt");
    let swift = out.path().join("ltcg_streaming_uniffi.swift");
    let header = out.path().join("ltcg_streaming_uniffiFFI.h");
    for (file, wanted) in [
        (&kotlin, "class StreamKeyVault"),
        (&kotlin, "fun `buildRtmpUrl`"),
        (&swift, "class StreamKeyVault"),
        (&swift, "func buildRtmpUrl"),
        (
            &header,
            "uniffi_ltcg_streaming_uniffi_fn_func_build_rtmp_url",
        ),
    ] {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("{} missing: {e}", file.display()));
        assert!(text.contains(wanted), "{} lacks {wanted:?}", file.display());
    }
}
