#!/usr/bin/env bash
# HTTP load on the reference server (SQLite store), loopback only and bounded in time:
#   GET  /api/streaming/status         (authenticated read)
#   POST /api/webhooks/livekit         (a LiveKit-signed webhook: signature + body hash
#                                       checked, event id de-duplicated in SQLite)
# Needs: wrk (Debian), node + `npm ci` in examples/e2e (livekit-server-sdk signs the webhook).
#
#   benches/http/run.sh [duration_secs=10] [connections=32]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
connections=${2:-32}
work=$(mktemp -d)
cleanup() { [ -n "${server:-}" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cargo build --release --quiet -p ltcg-streaming-examples --bin ltcg-streaming-server
[ -d examples/e2e/node_modules ] || npm ci --prefix examples/e2e --no-audit --no-fund --silent
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=bench-internal-key-0123456789
lk_key=APIbenchLiveKit
lk_secret=bench-livekit-secret-0123456789abcdef
LTCG_BIND=127.0.0.1:$port LTCG_DATABASE=$work/bench.db LTCG_INTERNAL_KEY=$key LTCG_EGRESS=memory \
  STREAM_KEY_ENCRYPTION_KEY=$(printf '42%.0s' {1..32}) STREAMING_JWT_SECRET=bench-overlay-secret-0123456789abcdef \
  NEXT_PUBLIC_APP_URL=http://127.0.0.1:$port LIVEKIT_API_KEY=$lk_key LIVEKIT_API_SECRET=$lk_secret RUST_LOG=warn \
  target/release/ltcg-streaming-server >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

sid=$(curl -sf -X POST "http://127.0.0.1:$port/api/streaming/start" -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' \
  -d '{"agentId":"bench_agent","platform":"twitch","streamKey":"live_123456789_abcdefghijklmnop"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["sessionId"])')

# The egress id the memory backend gave the session (random; not in the public views).
egress=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT egress_id FROM streaming_sessions WHERE id = ?", (sys.argv[2],)).fetchone()[0])' "$work/bench.db" "$sid")
body='{"event":"egress_updated","id":"EV_bench","createdAt":"1795478332","egressInfo":{"egressId":"'"$egress"'","status":"EGRESS_ACTIVE"}}'
auth=$(printf '%s' "$body" | node examples/e2e/sign-livekit-webhook.mjs examples/e2e "$lk_key" "$lk_secret")
cat >"$work/webhook.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$body]]
wrk.headers["Content-Type"] = "application/webhook+json"
wrk.headers["Authorization"] = "$auth"
LUA

summary() { awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} END {printf "%s req/s, p99 %s\n", rps, p99}'; }
echo "== GET /api/streaming/status ($connections connections, ${duration}s)"
wrk -t2 -c"$connections" -d"${duration}s" --latency -H "Authorization: Bearer $key" \
  "http://127.0.0.1:$port/api/streaming/status?sessionId=$sid" | tee "$work/status.txt" | summary
echo "== POST /api/webhooks/livekit ($connections connections, ${duration}s)"
wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/webhook.lua" \
  "http://127.0.0.1:$port/api/webhooks/livekit" | tee "$work/webhook.txt" | summary
grep -h "Non-2xx" "$work"/status.txt "$work"/webhook.txt || echo "all responses 2xx"
