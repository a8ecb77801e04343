#!/usr/bin/env bash
# Schemathesis (PyPI) against the running API's /openapi.json: `scripts/schemathesis.sh [SECONDS]`.
# Not in the default test suite (it installs schemathesis from PyPI into a virtualenv on first use:
# $SCHEMATHESIS_VENV, default target/schemathesis-venv). Starts `voucher-ledger serve` on a fresh data
# directory with a manual clock, sends a Guiyang bureau token (and a second run with a finance token), and
# requires 0 server errors (not_a_server_error) and every 4xx to be application/problem+json with a status
# and a code (scripts/schemathesis_hooks.py). The event feed (/v1/events, an endless stream) is excluded.
# Exit status: schemathesis's (non-zero on any failure).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
root=$PWD
venv="${SCHEMATHESIS_VENV:-target/schemathesis-venv}"
case "$venv" in /*) root_venv="$venv" ;; *) root_venv="$root/$venv" ;; esac
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q schemathesis
fi
cargo build --locked --bin voucher-ledger >&2

data=$(mktemp -d "${TMPDIR:-/tmp}/voucher-ledger-st.XXXXXX")
export VOUCHER_LEDGER_JWT_SECRET="schemathesis-key-0123456789abcdef0123456789"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
./target/debug/voucher-ledger serve --data "$data" --listen "127.0.0.1:$port" --clock manual \
    --now 2025-03-03T09:00:00+08:00 >"$data/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

status=0
for role in bureau finance; do
    token=$(./target/debug/voucher-ledger token --role "$role" --jurisdiction guiyang --subject "st-$role")
    # Run from the data directory: schemathesis writes a .schemathesis/ cache into its working directory.
    (cd "$data" && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$root/scripts" "$root_venv/bin/schemathesis" run \
        "http://127.0.0.1:$port/openapi.json" \
        --checks not_a_server_error,problem_json_on_4xx \
        --exclude-path-regex '^/v1/events' \
        -H "Authorization: Bearer $token" \
        --max-time "$seconds" --workers 2 --suppress-health-check all) || status=$?
done
if grep -q "panicked" "$data/server.log"; then
    echo "schemathesis.sh: the server panicked:" >&2
    grep -A5 panicked "$data/server.log" >&2
    status=1
fi
echo "schemathesis: exit=$status"
exit "$status"
