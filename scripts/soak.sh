#!/usr/bin/env bash
# The soak: `scripts/soak.sh SECONDS` kills the real `voucher-ledger serve` with SIGKILL at random moments
# for SECONDS (at least 5 kills) while 4 HTTP clients submit a seeded mixed workload, restarts it, retries
# every in-flight command with its Idempotency-Key, and checks after every restart that every acknowledged
# command is in the log with its acknowledged hashes, that every record belongs to exactly one command that
# was sent, that re-sends get the first answer, and that `voucher-ledger verify` (chain and SPEC §5
# invariants) passes. The logic is tests/tests/soak.rs (the test suite runs it with 5 kills).
#
# Then, when cargo-fuzz and a nightly-capable toolchain are present (see RELIABILITY.md), a short run of each
# fuzz target in fuzz/ (FUZZ_SECONDS each, default 20; SOAK_FUZZ=0 skips it); otherwise that step is skipped
# with a note.
#
# VOUCHER_LEDGER_SOAK_SEED=N fixes the workload's seed. The last line is
#   soak: kills=K acknowledged=A lost=L violations=V
# and the exit status is non-zero when L or V is not 0 (or the run failed).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/soak.sh SECONDS" >&2
    exit 2
fi

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
trap 'rm -f "$log"' EXIT
VOUCHER_LEDGER_SOAK_SECONDS="$seconds" cargo test --locked -p e2e --test soak -- --nocapture --test-threads=1 \
    >"$log" 2>&1
status=$?
grep -E '^soak (violation|:)|^soak: (seed|seed=)' "$log" >&2 || true
line=$(grep -E '^soak: kills=[0-9]+ acknowledged=[0-9]+ lost=[0-9]+ violations=[0-9]+$' "$log" | tail -1)
if [ -z "$line" ]; then
    tail -40 "$log" >&2
    echo "soak: kills=0 acknowledged=0 lost=0 violations=1"
    exit 1
fi
echo "$line"
lost=$(sed -E 's/.* lost=([0-9]+) .*/\1/' <<<"$line")
violations=$(sed -E 's/.* violations=([0-9]+)$/\1/' <<<"$line")
if [ "$status" -ne 0 ] || [ "$lost" != 0 ] || [ "$violations" != 0 ]; then
    exit 1
fi
