//! Rebuilds the crate when a migration is added or changed (`sqlx::migrate!` and the
//! SQLite schema embed them at compile time).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
