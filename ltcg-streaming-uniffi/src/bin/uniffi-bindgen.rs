//! uniffi's binding generator, built from the same uniffi version as the library (library
//! mode: `generate --library <path to libltcg_streaming_uniffi.so>`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
