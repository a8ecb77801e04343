#!/usr/bin/env bash
# The benchmark harness (BENCHMARKS.md): builds the release binaries, starts a throwaway PostgreSQL cluster
# (scripts/pg-cluster.sh, on the same disk as the logs), runs every figure RUNS times on the seeded workload
# of engine/src/workload.rs and prints ONE table of medians and ratios. Not a test.
#
#   scripts/bench.sh [--quick] [--runs N] [--json FILE] [--keep]
#
#   --quick      smaller scales (a log of ~55,000 events instead of ~1.1 million); same figures
#   --runs N     runs of each figure (default 3); the table shows medians, ratios are per run
#   --json FILE  also write the figures as JSON (commands_per_s_inprocess, commands_per_s_http,
#                noop_per_s_http, baseline_commands_per_s, replay_events_per_s, raw_decode_hash_per_s,
#                bytes_per_event, events_replayed, ratios, latencies and every run; the rush: rush_claims_per_s,
#                rush_baseline_claims_per_s, rush_p99_ms, rush_drain_s, rush_issued_ok; the light generator:
#                commands_per_s_http_light, noop_per_s_http_light; the console: console_page_p99_ms)
#   --keep       keep the work directory (logs, server output, JSON lines)
#
# Scales can be overridden with BENCH_SCALE_INPROCESS, BENCH_SCALE_HTTP, BENCH_SCALE_BASELINE (1 = the demo's
# program year: 300 applicants, 40 providers, ~2,400 commands, ~2,800 events).
# Start-up with/without a snapshot runs on the largest ledger: BENCH_SCALE_STARTUP (full: 3600, ~10 M events,
# written once and kept in BENCH_CACHE, default ~/.cache/voucher-ledger-bench; --quick: the in-process log).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
runs=3
json=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --runs)
        runs=${2:?--runs needs a number}
        shift
        ;;
    --json)
        json=${2:?--json needs a file}
        shift
        ;;
    --keep) keep=1 ;;
    -h | --help)
        sed -n '2,17p' "$0"
        exit 0
        ;;
    *)
        echo "bench.sh: unknown argument $1 (see --help)" >&2
        exit 2
        ;;
    esac
    shift
done
if [ -n "$json" ]; then
    case "$json" in /*) ;; *) json="$PWD/$json" ;; esac
fi

if [ "$quick" = 1 ]; then
    scale_inprocess=${BENCH_SCALE_INPROCESS:-20}
    scale_http=${BENCH_SCALE_HTTP:-4}
    scale_baseline=${BENCH_SCALE_BASELINE:-4}
    noop_seconds=2
    rush_enterprises=${BENCH_RUSH_ENTERPRISES:-4000}
    console_loads=20
else
    scale_inprocess=${BENCH_SCALE_INPROCESS:-400}
    scale_http=${BENCH_SCALE_HTTP:-20}
    scale_baseline=${BENCH_SCALE_BASELINE:-20}
    noop_seconds=5
    rush_enterprises=${BENCH_RUSH_ENTERPRISES:-20000}
    console_loads=100
fi

# What the harness needs: a Rust toolchain (Debian's cargo when there is none) and PostgreSQL
# (scripts/pg-cluster.sh installs Debian's postgresql when it finds none).
if ! command -v cargo >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bench: installing Debian's cargo" >&2
        apt-get update >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y cargo >&2
    else
        echo "bench: cargo is missing and cannot be installed here (not root or no apt-get)" >&2
        exit 1
    fi
fi

rustc_busy=$(pgrep -c rustc || true)
cargo build --locked --release -p api -p bench --bins >&2
bench="${CARGO_TARGET_DIR:-target}/release/voucher-bench"
server="${CARGO_TARGET_DIR:-target}/release/voucher-ledger"

work=$(mktemp -d "${TMPDIR:-/tmp}/voucher-ledger-bench.XXXXXX")
chmod 755 "$work"
cleanup() {
    bash scripts/pg-cluster.sh destroy "$work/pg" >/dev/null 2>&1 || true
    if [ "$keep" = 1 ]; then
        echo "bench: kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
url=$(bash scripts/pg-cluster.sh start "$work/pg")
results="$work/results.jsonl"
: >"$results"

started=$(date +%s)
replay_log=""
for run in $(seq 1 "$runs"); do
    echo "bench: run $run of $runs" >&2
    dir="$work/inprocess-$run"
    "$bench" inprocess --scale "$scale_inprocess" --dir "$dir" >>"$results"
    # The same without the Merkle tree (issue 17: the ratio tree and signing on / off).
    "$bench" inprocess --transparency off --scale "$scale_inprocess" --dir "$work/inprocess-off-$run" >>"$results"
    rm -rf "$work/inprocess-off-$run"
    if [ -n "$replay_log" ]; then rm -rf "$replay_log"; fi
    replay_log=$dir
    "$bench" http --server "$server" --scale "$scale_http" --noop-seconds "$noop_seconds" \
        --dir "$work/http-$run" >>"$results"
    rm -rf "$work/http-$run"
    # The same workload from the light generator (bench/src/light.rs), and the rush (bench/src/rush.rs).
    "$bench" http --client light --server "$server" --scale "$scale_http" --noop-seconds "$noop_seconds" \
        --dir "$work/http-light-$run" >>"$results"
    rm -rf "$work/http-light-$run"
    "$bench" rush --server "$server" --postgres "$url" --enterprises "$rush_enterprises" \
        --dir "$work/rush-$run" >>"$results"
    rm -rf "$work/rush-$run"
    "$bench" baseline --postgres "$url" --scale "$scale_baseline" --dir "$work/baseline-$run" \
        >>"$results"
    rm -rf "$work/baseline-$run"
done
# Replay, memory and start-up on the last in-process log (a fresh process each time).
for run in $(seq 1 "$runs"); do
    "$bench" replay --dir "$replay_log" >>"$results"
done
# Inclusion and consistency proofs at the full size of the same log.
for run in $(seq 1 "$runs"); do
    "$bench" proofs --dir "$replay_log" >>"$results"
done
for run in $(seq 1 "$runs"); do
    "$bench" startup --server "$server" --dir "$replay_log" >>"$results"
done
# Start-up with and without a snapshot (issue 19) on the run's largest ledger.
scale_startup=${BENCH_SCALE_STARTUP:-}
if [ -z "$scale_startup" ] && [ "$quick" = 0 ]; then scale_startup=3600; fi
startup_log=$replay_log
if [ -n "$scale_startup" ]; then
    cache=${BENCH_CACHE:-$HOME/.cache/voucher-ledger-bench}
    startup_log="$cache/ledger-scale-$scale_startup"
    if [ ! -f "$startup_log.complete" ]; then
        echo "bench: writing the scale $scale_startup ledger once into $startup_log (kept for later runs)" >&2
        mkdir -p "$cache"
        rm -rf "$startup_log" "$startup_log.partial"
        "$bench" inprocess --scale "$scale_startup" --dir "$startup_log.partial" >"$cache/ledger-scale-$scale_startup.json"
        mv "$startup_log.partial" "$startup_log"
        touch "$startup_log.complete"
    fi
fi
for run in $(seq 1 "$runs"); do
    "$bench" startup-snapshot --server "$server" --dir "$startup_log" >>"$results"
done
# Every console page's server time on the same log (figure console_page_p99_ms).
for run in $(seq 1 "$runs"); do
    "$bench" console --server "$server" --dir "$replay_log" --loads "$console_loads" >>"$results"
done
elapsed=$(($(date +%s) - started))

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
disk=$(df -P "$work" | awk 'NR==2 {print $1}')
rotational=$(cat "/sys/block/$(basename "$disk" | sed 's/[0-9]*$//')/queue/rotational" 2>/dev/null || echo "?")
mode=""
if [ "$quick" = 1 ]; then mode=", --quick"; fi
machine="nproc=$(nproc), CPU: ${cpu:-unknown}, logs and PostgreSQL on $disk (rotational=$rotational), \
rustc processes at start: $rustc_busy, $runs runs in ${elapsed}s$mode"
args=(report --results "$results" --machine "$machine")
if [ -n "$json" ]; then args+=(--json "$json"); fi
"$bench" "${args[@]}"
