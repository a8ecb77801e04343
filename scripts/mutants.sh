#!/usr/bin/env bash
# Mutation testing (cargo-mutants, https://mutants.rs/) over the code where a silent bug costs the most:
# the domain's money, caps and jurisdiction rules, then the file log's recovery (the scan of segments, the
# torn-tail decision, the cut and the quarantine), then the rest of the domain. Not in CI: a mutant is one
# rebuild and one run of the crate's tests, so a full run takes hours on a small machine. Run it before
# closing work that touches these files, and keep RELIABILITY.md's "Mutation testing" section current.
#
#   scripts/mutants.sh                 # every scope below, in this order
#   scripts/mutants.sh money recovery  # some of them
#   scripts/mutants.sh --list money    # list the mutants of a scope without testing them
#   MUTANTS_ARGS='--iterate' scripts/mutants.sh money   # extra cargo-mutants flags (here: skip those caught before)
#
# Scopes:
#   money     domain: money.rs, ledger.rs, the postings in event.rs, funding (budgets, batches, claims,
#             annual caps), the shared guards (role, jurisdiction, party), redemptions and audits
#             (disbursement, denial, clawback, recovery), announcements (a bureau announces its own
#             jurisdiction's redemptions)
#   recovery  store: the functions of store/src/file.rs that read a log back after a crash (scan_log,
#             scan_segment and its torn-tail tests, load, the quarantine, the record of started segments,
#             decode_frames) and `FileLog::open_with`, which applies the cut
#   domain    the rest of domain/src (ids, codes, bounds, calendar, policy, state, the other lifecycles)
#
# Each mutant is tested with its own crate's tests only (`.cargo/mutants.toml`: test_workspace = false):
# domain's unit tests and domain/tests/it, store's unit tests and store/tests/it.
#
# The machine it runs on is shared: every build and test runs under `nice -n 19`, one mutant at a time
# (`--jobs 1`), each test run stopped after MUTANTS_TIMEOUT seconds (default 300: domain's tests take
# about 25 s under load, store's about 20 s; a mutant that loops is a timeout, counted as caught by
# cargo-mutants' own rule but listed separately in RELIABILITY.md). Results go to
# $MUTANTS_OUT/<scope>/mutants.out (default target/mutants): outcomes.json, caught.txt, missed.txt,
# unviable.txt, timeout.txt. Give it a CARGO_TARGET_DIR of its own (default target/mutants-build), not the
# one you build in: cargo locks a target directory while it builds.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-mutants >/dev/null 2>&1; then
    echo "mutants.sh: installing cargo-mutants" >&2
    cargo install --locked cargo-mutants
fi

list=false
scopes=()
for arg in "$@"; do
    case "$arg" in
        --list) list=true ;;
        money | recovery | domain) scopes+=("$arg") ;;
        *)
            echo "mutants.sh: unknown argument $arg (scopes: money recovery domain; --list)" >&2
            exit 2
            ;;
    esac
done
if [ ${#scopes[@]} -eq 0 ]; then scopes=(money recovery domain); fi

export CARGO_TARGET_DIR="${MUTANTS_TARGET_DIR:-$PWD/target/mutants-build}"
out_root="${MUTANTS_OUT:-$PWD/target/mutants}"
timeout="${MUTANTS_TIMEOUT:-300}"
# shellcheck disable=SC2206 # word splitting of the extra flags is wanted
extra=(${MUTANTS_ARGS:-})

# The money files of the domain (scope `money`); `domain` is domain/src without them.
money_files=(
    domain/src/money.rs
    domain/src/ledger.rs
    domain/src/decide/funding.rs
    domain/src/decide/guards.rs
    domain/src/decide/redemptions.rs
    domain/src/decide/audits.rs
    domain/src/decide/announcements.rs
)
# The recovery functions of the file log (scope `recovery`), matched against the mutant's name, which ends
# with "in <function>" or starts with "replace <function> ->".
recovery_fns='scan_log|scan_segment|list_segments|shows_unwritten_space|crc_matches_shorter_body|only_zeros'
recovery_fns+='|contains_frame_for|load|quarantine_tail|read_quarantined_frames|quarantined'
recovery_fns+='|read_segments_started|record_segment_started|decode_frames|read_header|split_body'
recovery_fns+='|ScanProblem::position|ScanProblem::is_repairable|ScanReport::first_corruption|FileLog::open_with'
recovery_re="(^| )(replace |in )(${recovery_fns})( |$)"

run() {
    local scope=$1
    shift
    local args=(--jobs 1 --timeout "$timeout" --output "$out_root/$scope" "$@" "${extra[@]}")
    if $list; then
        nice -n 19 cargo mutants --list "${args[@]}"
        return
    fi
    mkdir -p "$out_root/$scope"
    echo "mutants.sh: scope $scope: cargo mutants ${args[*]}" >&2
    # cargo-mutants exits 2 when a mutant is missed, 3 on timeouts: report, do not stop the other scopes.
    local status=0
    nice -n 19 cargo mutants "${args[@]}" || status=$?
    local dir="$out_root/$scope/mutants.out"
    printf 'mutants.sh: scope %s (exit %s): caught %s, missed %s, unviable %s, timeout %s\n' "$scope" "$status" \
        "$(wc -l <"$dir/caught.txt")" "$(wc -l <"$dir/missed.txt")" \
        "$(wc -l <"$dir/unviable.txt")" "$(wc -l <"$dir/timeout.txt")"
    if [ -s "$dir/missed.txt" ]; then
        sed 's/^/  missed: /' "$dir/missed.txt"
    fi
}

for scope in "${scopes[@]}"; do
    case "$scope" in
        money)
            args=(--package domain)
            for file in "${money_files[@]}"; do args+=(--file "$file"); done
            # Of event.rs, only the postings (how each fact moves money).
            args+=(--file domain/src/event.rs)
            run money "${args[@]}" --re '^domain/src/(money|ledger|decide/(funding|guards|redemptions|audits|announcements))\.rs:|^domain/src/event\.rs:.* (in |replace )Event::postings( |$)'
            ;;
        recovery)
            run recovery --package store --file store/src/file.rs --re "$recovery_re"
            ;;
        domain)
            args=(--package domain --file 'domain/src/**/*.rs')
            for file in "${money_files[@]}"; do args+=(--exclude "$file"); done
            run domain "${args[@]}" --exclude-re '(in |replace )Event::postings( |$)'
            ;;
    esac
done
