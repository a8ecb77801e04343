#!/usr/bin/env bash
# Durable appends per second of the file log and PostgreSQL, one command per append and grouped (1000
# records per append): builds store/examples/bench_store.rs in release mode, starts a throwaway PostgreSQL
# cluster (scripts/pg-cluster.sh; its data directory next to the file log's, on the same disk), runs the
# bench and prints a table with the medians of the runs. Not a test; arguments go to the bench
# (--runs N --single N --groups N --group-size N).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --release -p store --example bench_store
work=$(mktemp -d "${TMPDIR:-/tmp}/voucher-ledger-bench.XXXXXX")
chmod 755 "$work"
trap 'bash scripts/pg-cluster.sh destroy "$work/pg" || true; rm -rf "$work"' EXIT
url=$(bash scripts/pg-cluster.sh start "$work/pg")
mkdir -p "$work/file"
"${CARGO_TARGET_DIR:-target}"/release/examples/bench_store --dir "$work/file" --postgres "$url" "$@"
