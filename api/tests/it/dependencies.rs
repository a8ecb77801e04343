//! Architecture invariant: the service does not link the benchmark's clients. `reqwest` and a direct
//! `tokio-postgres` are the `bench` crate's (and the end-to-end tests'); the service reaches PostgreSQL only
//! through `store`.

use std::process::Command;

#[test]
fn the_service_has_no_http_client_nor_a_direct_postgres_client() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["tree", "-p", "api", "-e", "normal", "--depth", "1", "--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|line| line.split_whitespace().next()).collect();
    assert!(crates.contains(&"engine"), "the tree should list api's real dependencies: {tree}");
    for forbidden in ["reqwest", "tokio-postgres"] {
        assert!(!crates.contains(&forbidden), "api depends on {forbidden} directly:\n{tree}");
    }
}
