#!/usr/bin/env bash
# A burst of anonymous as-of queries against a demo ledger, and a bureau as-of query sent right after it:
# the answers' status codes, the server's peak resident memory, and how long the bureau waited.
# Usage: scripts/as-of-burst.sh [BURST] (BIN, APPLICANTS, PORT from the environment).
set -euo pipefail
BURST=${1:-30}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/debug/voucher-ledger}
APPLICANTS=${APPLICANTS:-1000}
PORT=${PORT:-18093}
DIR=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DIR"' EXIT
export VOUCHER_LEDGER_JWT_SECRET=as-of-burst-key-0123456789abcdef0123456789
"$BIN" demo --data "$DIR/data" --applicants "$APPLICANTS" --providers 40 >/dev/null
"$BIN" serve --data "$DIR/data" --listen "127.0.0.1:$PORT" 2>"$DIR/server.log" &
SERVER=$!
BASE="http://127.0.0.1:$PORT"
until curl -sf "$BASE/readyz" >/dev/null; do sleep 0.2; done
BUREAU=$("$BIN" token --role bureau --jurisdiction guiyang --subject clerk-1)
HEAD=$(curl -sf -H "Authorization: Bearer $BUREAU" "$BASE/v1/log/head" | sed 's/.*"position":\([0-9]*\).*/\1/')
rss() { awk '/^VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$SERVER/status"; }
echo "ledger: $HEAD records; server resident before: $(rss)"
PIDS=()
for i in $(seq 1 "$BURST"); do
  position=$(( HEAD * i / (BURST + 1) ))
  curl -s -o /dev/null -w '%{http_code}\n' "$BASE/v1/announcements?as_of_position=$position" >>"$DIR/codes" &
  PIDS+=($!)
done
sleep 0.1
start=$(date +%s.%N)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BUREAU" \
  "$BASE/v1/budgets?as_of_position=$(( HEAD - 1 ))")
end=$(date +%s.%N)
wait "${PIDS[@]}"
echo "anonymous answers: $(sort "$DIR/codes" | uniq -c | tr '\n' ' ')"
echo "bureau as-of query: $code in $(echo "$end - $start" | bc) s"
echo "server peak resident: $(awk '/^VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$SERVER/status"), now $(rss)"
