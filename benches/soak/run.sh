#!/usr/bin/env bash
# The soak benchmark (not part of CI): a throw-away PostgreSQL on 127.0.0.1, the reference
# server (release) on it with 1,000 live sessions, distinct signed webhooks at a steady rate.
#
#   benches/soak/run.sh [minutes=10] [rate=5000]
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-10}
rate=${2:-5000}
source scripts/postgres.sh
start_postgres
trap stop_postgres EXIT
cargo build --release --quiet -p ltcg-streaming-examples --bin ltcg-streaming-server
cargo build --release --quiet -p ltcg-streaming-benches --bin soak
target/release/soak target/release/ltcg-streaming-server "$minutes" "$rate"
