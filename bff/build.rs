//! The built shop (`web/dist`) is embedded by rust-embed, which cannot tell Cargo what it read:
//! watch the folder so a new build of the shop rebuilds the BFF. Before the shop is built, watch
//! `web/` so its first build is noticed too (the folder is scanned only in that state).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let dist = std::path::Path::new("../web/dist");
    if dist.exists() {
        println!("cargo:rerun-if-changed=../web/dist");
    } else {
        println!("cargo:rerun-if-changed=../web");
    }
}
