#!/usr/bin/env bash
# Cross-language comparison: the Node and Python bindings, built in release mode,
# against the peer stacks they replace, each in one process. Prints two tables (µs/op for
# both sides and the ratio peer/ours).
#
#   benches/compare/run.sh                  # build what is needed, run both comparisons
#   COMPARE_SKIP_BUILD=1 benches/compare/run.sh   # reuse the release builds already made
#   COMPARE_ONLY=node|python benches/compare/run.sh
#
# Knobs passed to both scripts: COMPARE_WARMUP_MS (300), COMPARE_ROUNDS (7), COMPARE_ROUND_MS (300).
#
# What it builds (release builds take minutes on 2 cores):
#   - ltcg-streaming-node: `npm ci && npm run build` (napi build --release); this replaces the
#     native module next to ltcg-streaming-node/index.js with a release one (scripts/test-node
#     rebuilds its debug module itself);
#   - benches/compare/node: `npm ci` (jose, livekit-server-sdk);
#   - benches/compare/.venv (gitignored): requirements.txt, then the release wheel of
#     ltcg-streaming-py built by `maturin build --release` into benches/compare/wheels and
#     installed into the venv (the in-tree debug module of scripts/test-python is left alone).
# It is a benchmark, not a test: no CI job runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
only=${COMPARE_ONLY:-all}
skip_build=${COMPARE_SKIP_BUILD:-0}

log() { printf '\n== %s\n' "$*" >&2; }

if [ "$only" = all ] || [ "$only" = node ]; then
  if [ "$skip_build" != 1 ]; then
    log "ltcg-streaming-node: npm ci && npm run build (release)"
    (cd "$root/ltcg-streaming-node" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
    log "benches/compare/node: npm ci"
    (cd "$here/node" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

if [ "$only" = all ] || [ "$only" = python ]; then
  venv="$here/.venv"
  if [ "$skip_build" != 1 ] || [ ! -x "$venv/bin/python" ]; then
    if [ ! -x "$venv/bin/python" ]; then
      log "creating $venv"
      "${PYTHON:-python3}" -m venv "$venv"
    fi
    log "benches/compare/python/requirements.txt"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/python/requirements.txt"
    log "ltcg-streaming-py: maturin build --release"
    rm -rf "$here/wheels"
    "$venv/bin/maturin" build --release --quiet --manifest-path "$root/ltcg-streaming-py/Cargo.toml" \
      --interpreter "$venv/bin/python" --out "$here/wheels"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$here"/wheels/ltcg_streaming-*.whl
  fi
fi

if [ "$only" = all ] || [ "$only" = node ]; then
  log "Node: @ltcg/streaming vs node:crypto, jose, livekit-server-sdk"
  (cd "$here/node" && node compare.mjs)
fi
if [ "$only" = all ] || [ "$only" = python ]; then
  log "Python: ltcg_streaming vs cryptography, PyJWT, livekit-api"
  # From the script's directory, so the installed wheel (not the source tree) is imported.
  (cd "$here/python" && "$here/.venv/bin/python" compare.py)
fi
