#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): builds the binary the end-to-end tests start, then runs
# every test of the workspace. Needs only the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --workspace --bins
cargo test --locked --workspace --all-targets "$@"
cargo test --locked --workspace --doc
