#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): builds the binary the end-to-end tests start, starts a
# throwaway PostgreSQL cluster for the PostgreSQL backend's tests (scripts/pg-cluster.sh: initdb + pg_ctl in a
# temporary directory on a free loopback port, installing Debian's postgresql package first when it is
# missing and this runs as root), installs the OpenAPI validator (openapi-spec-validator, PyPI) into a
# virtualenv under ${XDG_CACHE_HOME:-$HOME/.cache}/voucher-ledger, finds promtool (installing Debian's
# prometheus package when it is missing and this runs as root), FUSE for the power-loss tests (installing
# Debian's fuse3 package when fusermount3 is missing and this runs as root) and systemd-analyze, runs every test of the workspace (one
# `cargo test`: unit, integration and doc tests), and stops the cluster at the end, also on failure.
#
# A test that cannot run here is reported `ignored` with its reason, never `ok` (tests/build.rs decides at
# build time from what this script found):
# - VOUCHER_LEDGER_TEST_POSTGRES_URL set beforehand: use that server instead (a role that may create
#   databases); the crash tests, which need the throwaway cluster, are then ignored. No PostgreSQL at all: the
#   PostgreSQL tests are ignored, unless VOUCHER_LEDGER_REQUIRE_POSTGRES=1 (.ci/run), where this script fails.
# - KURRENTDB_URL=kurrentdb://host:2113?tls=false set: the KurrentDB backend is built in (feature kurrentdb) and
#   the conformance suite and the per-backend HTTP tests run on that server too, each in a fresh stream.
#   Unset: the KurrentDB tests are ignored; the KurrentDB unit tests that need no server (store/src/kurrent.rs)
#   still run, in a `cargo test -p store --features kurrentdb --lib` of their own before the others.
# - No validator could be installed (no network): the OpenAPI validation is ignored, unless
#   VOUCHER_LEDGER_REQUIRE_POSTGRES=1, where this script fails. The same for promtool (the check of
#   deploy/prometheus/alerts.yml) and for FUSE (the power-loss tests). No systemd-analyze: the check of the systemd unit is ignored.
set -euo pipefail
cd "$(dirname "$0")/.."

features=()
if [ -n "${KURRENTDB_URL:-}" ]; then
    features=(--features api/kurrentdb,e2e/kurrentdb)
fi

# Every locked crate, also those of other platforms: the layout test reads `cargo metadata --offline`, which
# needs them all downloaded, and a build fetches only what this platform compiles.
cargo fetch --locked

# The server binary the end-to-end tests start as a child process (cargo test builds only test harnesses).
cargo build --locked --bin voucher-ledger "${features[@]}"

require=${VOUCHER_LEDGER_REQUIRE_POSTGRES:-}

# The OpenAPI validator, in a virtualenv kept between runs (outside target/, so `cargo clean` keeps it).
venv="${XDG_CACHE_HOME:-$HOME/.cache}/voucher-ledger/openapi-venv"
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
    python3 -m venv "$venv" >&2 && "$venv/bin/pip" install --quiet openapi-spec-validator >&2 || true
fi
if [ -x "$venv/bin/openapi-spec-validator" ]; then
    export VOUCHER_LEDGER_OPENAPI_VALIDATOR="$venv/bin/openapi-spec-validator"
elif [ "$require" = 1 ]; then
    echo "test.sh: VOUCHER_LEDGER_REQUIRE_POSTGRES=1 but openapi-spec-validator could not be installed" >&2
    exit 1
else
    echo "test.sh: openapi-spec-validator could not be installed: the OpenAPI validation is ignored" >&2
fi

# promtool checks the shipped alerting rules; Debian has it in the prometheus package.
if ! command -v promtool >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing Debian's prometheus package (for promtool)" >&2
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; } >&2 || true
fi
if promtool=$(command -v promtool); then
    export VOUCHER_LEDGER_PROMTOOL="$promtool"
elif [ "$require" = 1 ]; then
    echo "test.sh: VOUCHER_LEDGER_REQUIRE_POSTGRES=1 but promtool could not be installed" >&2
    exit 1
else
    echo "test.sh: no promtool (run as root to install Debian's prometheus package): the rules check is ignored" >&2
fi
# The console's browser tests (tests/tests/it/console.rs): Debian's chromium, driven from node by the pinned
# playwright-core and axe-core of tests/browser/package-lock.json (with CJK fonts, for the zh-CN screenshots).
browser_packages=()
command -v chromium >/dev/null || browser_packages+=(chromium)
# Without CJK fonts the zh-CN pages render as empty boxes (the tests pass; the screenshots are unreadable).
{ command -v dpkg >/dev/null && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; } && browser_packages+=(fonts-noto-cjk)
if [ "${#browser_packages[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing Debian's ${browser_packages[*]} (for the console's browser tests)" >&2
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${browser_packages[@]}"; } >&2 || true
fi
if chromium=$(command -v chromium) && command -v node >/dev/null && (cd tests/browser && npm ci --no-audit --no-fund >&2); then
    export VOUCHER_LEDGER_CHROMIUM="$chromium"
elif [ "$require" = 1 ]; then
    echo "test.sh: VOUCHER_LEDGER_REQUIRE_POSTGRES=1 but chromium, node or tests/browser's npm packages are missing" >&2
    exit 1
else
    echo "test.sh: no chromium or node (run as root to install Debian's chromium): the browser tests are ignored" >&2
fi
# FUSE for the power-loss tests (tests/lazyfs): /dev/fuse and fusermount3 (Debian's fuse3).
if ! command -v fusermount3 >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing Debian's fuse3 package (for the power-loss tests)" >&2
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fuse3; } >&2 || true
fi
if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
    export VOUCHER_LEDGER_FUSE=1
elif [ "$require" = 1 ]; then
    echo "test.sh: VOUCHER_LEDGER_REQUIRE_POSTGRES=1 but FUSE is unavailable (/dev/fuse, fuse3)" >&2
    exit 1
else
    echo "test.sh: no FUSE (/dev/fuse and fusermount3 of Debian's fuse3): the power-loss tests are ignored" >&2
fi
# systemd-analyze verifies the shipped unit, where the machine has it (not installed here).
if systemd_analyze=$(command -v systemd-analyze); then
    export VOUCHER_LEDGER_SYSTEMD_ANALYZE="$systemd_analyze"
fi

pg_dir=""
stop_cluster() {
    if [ -n "$pg_dir" ]; then
        bash scripts/pg-cluster.sh destroy "$pg_dir" || true
    fi
}
trap stop_cluster EXIT

if [ -n "${VOUCHER_LEDGER_TEST_POSTGRES_URL:-}" ]; then
    export VOUCHER_LEDGER_TEST_POSTGRES=server
else
    pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/voucher-ledger-pg.XXXXXX")
    if url=$(bash scripts/pg-cluster.sh start "$pg_dir"); then
        export VOUCHER_LEDGER_TEST_POSTGRES_URL="$url"
        export VOUCHER_LEDGER_TEST_POSTGRES_DIR="$pg_dir"
        # Stays the same from run to run (the URL does not): what tests/build.rs builds the tests for.
        export VOUCHER_LEDGER_TEST_POSTGRES=cluster
        echo "test.sh: PostgreSQL test cluster at $(sed 's|://\([^:]*\):[^@]*@|://\1@|' <<<"$url") ($pg_dir)"
    elif [ "$require" = 1 ]; then
        echo "test.sh: VOUCHER_LEDGER_REQUIRE_POSTGRES=1 but no PostgreSQL cluster could be started" >&2
        exit 1
    else
        echo "*******************************************************************************" >&2
        echo "*** test.sh: no PostgreSQL could be started: the PostgreSQL tests are IGNORED ***" >&2
        echo "*******************************************************************************" >&2
    fi
fi

# The KurrentDB backend's unit tests need no server (the record <-> event mapping, URLs, revisions, errors,
# a closed port): a full run builds the feature for them, also without KURRENTDB_URL (with it, the feature
# is on in the run below and they run there).
if [ $# -eq 0 ] && [ -z "${KURRENTDB_URL:-}" ]; then
    cargo test --locked -p store --features kurrentdb --lib kurrent::
fi

cargo test --locked --workspace "${features[@]}" "$@"
