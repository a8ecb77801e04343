//! Architecture invariant: the domain depends on no async runtime, protobuf, web framework or database.

use std::process::Command;

const FORBIDDEN: &[&str] = &[
    "tokio",
    "prost",
    "axum",
    "hyper",
    "sqlx",
    "tokio-postgres",
    "postgres",
    "rusqlite",
    "kurrentdb",
    "eventstore",
    "tonic",
    "mio",
];

#[test]
fn domain_has_no_runtime_protobuf_web_or_database_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["tree", "-p", "domain", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|line| line.split_whitespace().next()).collect();
    assert!(crates.contains(&"rust_decimal"), "the tree should list the domain's real dependencies: {tree}");
    for forbidden in FORBIDDEN {
        assert!(!crates.contains(forbidden), "domain depends on {forbidden}:\n{tree}");
    }
}
