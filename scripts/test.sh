#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): builds the binary the end-to-end tests start, starts a
# throwaway PostgreSQL cluster for the PostgreSQL backend's tests (scripts/pg-cluster.sh: initdb + pg_ctl in a
# temporary directory on a free loopback port, installing Debian's postgresql package first when it is
# missing and this runs as root), runs every test of the workspace, and stops the cluster at the end, also on
# failure.
#
# VOUCHER_LEDGER_TEST_POSTGRES_URL set beforehand: use that server instead (a role that may create
# databases); the crash tests then skip. No PostgreSQL at all: its tests print that they were skipped, unless
# VOUCHER_LEDGER_REQUIRE_POSTGRES=1 (.ci/run), where this script fails instead.
#
# KURRENTDB_URL=kurrentdb://host:2113?tls=false set: the KurrentDB backend is built in (feature kurrentdb) and
# the conformance suite and the per-backend HTTP tests run on that server too, each in a fresh stream.
# Unset: the KurrentDB tests print that they were skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

features=()
if [ -n "${KURRENTDB_URL:-}" ]; then
    features=(--features api/kurrentdb,e2e/kurrentdb)
fi

cargo build --locked --workspace --bins "${features[@]}"

pg_dir=""
stop_cluster() {
    if [ -n "$pg_dir" ]; then
        bash scripts/pg-cluster.sh destroy "$pg_dir" || true
    fi
}
trap stop_cluster EXIT

if [ -z "${VOUCHER_LEDGER_TEST_POSTGRES_URL:-}" ]; then
    pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/voucher-ledger-pg.XXXXXX")
    if url=$(bash scripts/pg-cluster.sh start "$pg_dir"); then
        export VOUCHER_LEDGER_TEST_POSTGRES_URL="$url"
        export VOUCHER_LEDGER_TEST_POSTGRES_DIR="$pg_dir"
        echo "test.sh: PostgreSQL test cluster at $(sed 's|://\([^:]*\):[^@]*@|://\1@|' <<<"$url") ($pg_dir)"
    elif [ "${VOUCHER_LEDGER_REQUIRE_POSTGRES:-}" = 1 ]; then
        echo "test.sh: VOUCHER_LEDGER_REQUIRE_POSTGRES=1 but no PostgreSQL cluster could be started" >&2
        exit 1
    else
        echo "******************************************************************************" >&2
        echo "*** test.sh: no PostgreSQL could be started: the PostgreSQL tests are SKIPPED ***" >&2
        echo "******************************************************************************" >&2
    fi
fi

cargo test --locked --workspace --all-targets "${features[@]}" "$@"
cargo test --locked --workspace --doc
