//! Compiles every `v1/*.proto` schema with protox (no `protoc` binary) and generates Rust code with prost-build.

use std::error::Error;
use std::fs;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    // Watching the directory catches added or removed files; each file is watched for edits.
    println!("cargo:rerun-if-changed=v1");

    let mut files: Vec<PathBuf> = Vec::new();
    for entry in fs::read_dir("v1")? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    // A stable order keeps the generated code reproducible.
    files.sort();
    if files.is_empty() {
        return Err("no .proto files found in proto/v1".into());
    }
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let fds = protox::compile(&files, ["."])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
