//! Rebuilds when a migration file is added: `sqlx::migrate!` embeds the directory's files but
//! only notices edits to files it already knows.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
