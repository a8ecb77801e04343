#!/usr/bin/env bash
# The soak: `scripts/soak.sh SECONDS` runs the kill test of tests/tests/soak.rs for SECONDS on each backend,
# both at once:
#
# - file: the real `voucher-ledger serve` on the embedded log, killed with SIGKILL at random moments (at
#   least 5 kills) while 4 HTTP clients submit a seeded mixed workload, and restarted;
# - postgres: the same with `--store postgres://...` on a throwaway PostgreSQL cluster this script starts
#   (scripts/pg-cluster.sh, destroyed at exit), rounds alternating between a SIGKILL of the ledger and a crash
#   of PostgreSQL itself (`pg-cluster.sh crash`, an immediate stop) with the ledger left running, which must
#   answer 503 meanwhile and recover by itself after `pg-cluster.sh restart` (at least 3 kills, 2 crashes).
#
# After every round every in-flight command is retried with its Idempotency-Key, and the log is checked:
# every acknowledged command is in it with its acknowledged hashes, every record belongs to exactly one
# command that was sent, re-sends get the first answer, and `voucher-ledger verify` (chain and SPEC §5
# invariants) passes.
#
# SOAK_BACKENDS=file or SOAK_BACKENDS=postgres runs one backend only (default: both). With
# VOUCHER_LEDGER_TEST_POSTGRES_URL and VOUCHER_LEDGER_TEST_POSTGRES_DIR set (a cluster of scripts/pg-cluster.sh:
# the soak crashes it), that cluster is used instead of one of its own; with the URL alone the postgres soak
# is built ignored (it cannot crash that server) and this script fails for want of its result line. When no PostgreSQL can be started the postgres soak is skipped with a
# loud note, unless VOUCHER_LEDGER_REQUIRE_POSTGRES=1, where this script fails.
#
# Then, when cargo-fuzz and a nightly-capable toolchain are present (see RELIABILITY.md), a short run of each
# fuzz target in fuzz/ (FUZZ_SECONDS each, default 20; SOAK_FUZZ=0 skips it); otherwise that step is skipped
# with a note.
#
# VOUCHER_LEDGER_SOAK_SEED=N fixes the workload's seed. Each backend's figures are printed on a line of its
# own (`soak file: ...`, `soak postgres: kills=K pg_restarts=R ...`); the last line is their sum,
#   soak: kills=K acknowledged=A lost=L violations=V
# (K counts the ledger's kills) and the exit status is non-zero when L or V is not 0 (or the run failed).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/soak.sh SECONDS" >&2
    exit 2
fi
backends="${SOAK_BACKENDS:-file,postgres}"
run_file=0
run_postgres=0
for backend in ${backends//,/ }; do
    case "$backend" in
    file) run_file=1 ;;
    postgres) run_postgres=1 ;;
    *)
        echo "soak.sh: unknown backend '$backend' in SOAK_BACKENDS (file, postgres)" >&2
        exit 2
        ;;
    esac
done

cargo build --locked --workspace --bins >&2 || exit 1

if [ "${SOAK_FUZZ:-1}" = 0 ]; then
    echo "soak.sh: SOAK_FUZZ=0: the fuzz step is skipped" >&2
elif [ -d fuzz ] && cargo fuzz --version >/dev/null 2>&1; then
    for target in $(cargo fuzz list --fuzz-dir fuzz 2>/dev/null); do
        echo "soak.sh: fuzzing $target for ${FUZZ_SECONDS:-20}s" >&2
        RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --sanitizer none "$target" -- -max_total_time="${FUZZ_SECONDS:-20}" >&2 \
            || { echo "soak.sh: fuzz target $target failed"; echo "soak: kills=0 acknowledged=0 lost=0 violations=1"; exit 1; }
    done
else
    echo "soak.sh: cargo-fuzz not installed: the fuzz step is skipped (the stable proptests over the same inputs run in the test suite)" >&2
fi

log=$(mktemp "${TMPDIR:-/tmp}/soak.XXXXXX")
pg_dir=""
cleanup() {
    rm -f "$log"
    if [ -n "$pg_dir" ]; then
        bash scripts/pg-cluster.sh destroy "$pg_dir" || true
    fi
}
trap cleanup EXIT

if [ "$run_postgres" = 1 ] && [ -z "${VOUCHER_LEDGER_TEST_POSTGRES_URL:-}" ]; then
    pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/voucher-ledger-soak-pg.XXXXXX")
    if url=$(bash scripts/pg-cluster.sh start "$pg_dir"); then
        export VOUCHER_LEDGER_TEST_POSTGRES_URL="$url"
        export VOUCHER_LEDGER_TEST_POSTGRES_DIR="$pg_dir"
        echo "soak.sh: PostgreSQL cluster at $(sed 's|://\([^:]*\):[^@]*@|://\1@|' <<<"$url") ($pg_dir)" >&2
    elif [ "${VOUCHER_LEDGER_REQUIRE_POSTGRES:-}" = 1 ]; then
        echo "soak.sh: VOUCHER_LEDGER_REQUIRE_POSTGRES=1 but no PostgreSQL cluster could be started"
        echo "soak: kills=0 acknowledged=0 lost=0 violations=1"
        exit 1
    else
        echo "*****************************************************************************" >&2
        echo "*** soak.sh: no PostgreSQL could be started: the postgres soak is SKIPPED ***" >&2
        echo "*****************************************************************************" >&2
        run_postgres=0
    fi
fi

filters=()
[ "$run_file" = 1 ] && filters+=(soak::kill_nine_at_random_moments_loses_nothing_acknowledged)
[ "$run_postgres" = 1 ] && filters+=(soak::postgres_kills_and_server_crashes_lose_nothing_acknowledged)
if [ "${#filters[@]}" = 0 ]; then
    echo "soak.sh: no backend to run"
    echo "soak: kills=0 acknowledged=0 lost=0 violations=1"
    exit 1
fi

# Both backends at once (one test each), so the run takes SECONDS, not twice that.
VOUCHER_LEDGER_SOAK_SECONDS="$seconds" cargo test --locked -p e2e --test it -- --nocapture --exact \
    --test-threads=2 "${filters[@]}" >"$log" 2>&1
status=$?
grep -E '^soak (violation|file|postgres)|^\*\*\* ' "$log" >&2 || true

kills=0
acknowledged=0
lost=0
violations=0
field() { sed -nE "s/.* $1=([0-9]+)( .*|$)/\1/p" <<<"$2"; }
for backend in file postgres; do
    if [ "$backend" = file ] && [ "$run_file" = 0 ]; then continue; fi
    if [ "$backend" = postgres ] && [ "$run_postgres" = 0 ]; then continue; fi
    line=$(grep -E "^soak $backend: kills=[0-9]+ .*acknowledged=[0-9]+ lost=[0-9]+ violations=[0-9]+$" "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "soak.sh: the $backend soak printed no result line:" >&2
        tail -40 "$log" >&2
        violations=$((violations + 1))
        continue
    fi
    echo "$line"
    kills=$((kills + $(field kills "$line")))
    acknowledged=$((acknowledged + $(field acknowledged "$line")))
    lost=$((lost + $(field lost "$line")))
    violations=$((violations + $(field violations "$line")))
done
if [ "$status" -ne 0 ] && [ "$lost" = 0 ] && [ "$violations" = 0 ]; then
    echo "soak.sh: the soak test failed (exit $status):" >&2
    tail -40 "$log" >&2
    violations=1
fi
echo "soak: kills=$kills acknowledged=$acknowledged lost=$lost violations=$violations"
if [ "$status" -ne 0 ] || [ "$lost" != 0 ] || [ "$violations" != 0 ]; then
    exit 1
fi
