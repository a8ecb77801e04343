//! Compiles every `v1/*.proto` schema with protox (no `protoc` binary) and generates Rust code with prost-build.
//!
//! The event messages (`v1/events.proto`) also derive `serde::Serialize`: that is the JSON of a payload the
//! event feed sends (`ledger_proto::payload_json`). Two conventions of the schema decide it, applied here to
//! every field so that no field is mapped by hand: a `bytes` field holds a UUID and is written as its
//! hyphenated text, and an `int32` field named `*_days` holds a date and is written as `YYYY-MM-DD` under the
//! name without `_days`. A message with a oneof has its `Serialize` written by hand in `src/json.rs`.

use std::error::Error;
use std::fs;
use std::path::PathBuf;

/// `FieldDescriptorProto.type` of a `bytes` and an `int32` field, and the label of a repeated field.
const TYPE_BYTES: i32 = 12;
const TYPE_INT32: i32 = 5;
const LABEL_REPEATED: i32 = 3;

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
    let mut config = prost_build::Config::new();
    for file in fds.file.iter().filter(|file| file.name().ends_with("events.proto")) {
        let package = file.package();
        for message in &file.message_type {
            let path = format!(".{package}.{}", message.name());
            // A proto3 `optional` field is a oneof of its own in the descriptor; only a real oneof counts.
            if message.field.iter().any(|field| field.oneof_index.is_some() && !field.proto3_optional()) {
                continue; // written by hand in src/json.rs
            }
            config.type_attribute(&path, "#[derive(serde::Serialize)]");
            for field in &message.field {
                let name = field.name();
                let repeated = field.label.unwrap_or_default() == LABEL_REPEATED;
                let field_path = format!("{path}.{name}");
                let kind = field.r#type.unwrap_or_default();
                if kind == TYPE_BYTES {
                    let with = if repeated { "crate::json::uuids" } else { "crate::json::uuid" };
                    config.field_attribute(&field_path, format!("#[serde(serialize_with = \"{with}\")]"));
                } else if let Some(date_name) = name.strip_suffix("_days").filter(|_| kind == TYPE_INT32) {
                    let with = if repeated { "crate::json::dates" } else { "crate::json::date" };
                    config.field_attribute(
                        &field_path,
                        format!("#[serde(rename = \"{date_name}\", serialize_with = \"{with}\")]"),
                    );
                }
            }
        }
    }
    config.compile_fds(fds)?;
    Ok(())
}
