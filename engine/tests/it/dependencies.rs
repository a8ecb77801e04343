//! Architecture invariant: the engine links no web framework, HTTP server or client, and nothing of `api`
//! (dependencies point one way: `api` -> `engine`).

use std::process::Command;

const FORBIDDEN: &[&str] = &[
    "api",
    "axum",
    "hyper",
    "hyper-util",
    "tower",
    "tower-http",
    "utoipa",
    "reqwest",
    "jsonwebtoken",
    "metrics-exporter-prometheus",
];

#[test]
fn the_engine_has_no_http_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["tree", "-p", "engine", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|line| line.split_whitespace().next()).collect();
    assert!(crates.contains(&"projections"), "the tree should list the engine's real dependencies: {tree}");
    for forbidden in FORBIDDEN {
        assert!(!crates.contains(forbidden), "the engine depends on {forbidden}:\n{tree}");
    }
}
