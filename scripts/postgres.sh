# shellcheck shell=bash
# A throw-away PostgreSQL cluster for the tests. Source this file, then:
#
#   start_postgres            # exports LTCG_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/ltcg_test
#   trap stop_postgres EXIT   # stops the cluster and deletes its directory (safe to call twice)
#
# start_postgres does nothing when LTCG_TEST_POSTGRES_URL is already set (use your own server).
# LTCG_PG_EXTRA_OPTS adds server options, e.g. for profiling:
#   LTCG_PG_EXTRA_OPTS='-c shared_preload_libraries=pg_stat_statements'
# Otherwise it finds the Debian PostgreSQL binaries (/usr/lib/postgresql/*/bin), installing the
# `postgresql` package when they are missing and this runs as root with apt-get. Without them it
# warns and returns (the PostgreSQL tests then skip), or exits 1 when CI=true.
# The cluster lives in a fresh temporary directory owned by `postgres` (initdb refuses root),
# listens only on 127.0.0.1 on a free port, keeps its unix socket in that directory, and never
# touches the system's default cluster.

_ltcg_pg_log() { printf '[postgres] %s\n' "$*" >&2; }

# Runs a PostgreSQL binary as the cluster owner.
_ltcg_pg_run() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_ltcg_pg_bindir() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$initdb" ] && [ -x "$initdb" ]; then
    dirname "$initdb"
  fi
}

# Prints a TCP port on 127.0.0.1 that nothing listens on.
_ltcg_pg_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' \
      && return 0
  fi
  local port tries=0
  while [ "$tries" -lt 200 ]; do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  return 1
}

# A missing or broken PostgreSQL: fatal in CI, a warning otherwise.
_ltcg_pg_unavailable() {
  if [ "${CI:-}" = "true" ]; then
    _ltcg_pg_log "error: $*; PostgreSQL is required in CI"
    exit 1
  fi
  _ltcg_pg_log "warning: $*; the PostgreSQL tests will be skipped"
}

start_postgres() {
  if [ -n "${LTCG_TEST_POSTGRES_URL:-}" ]; then
    _ltcg_pg_log "using the server in LTCG_TEST_POSTGRES_URL"
    return 0
  fi
  if [ -n "${LTCG_PG_DIR:-}" ]; then
    _ltcg_pg_log "a test cluster is already running in $LTCG_PG_DIR"
    return 0
  fi

  local bin
  bin=$(_ltcg_pg_bindir)
  if [ -z "$bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    _ltcg_pg_log "installing postgresql (Debian)"
    if ! { apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
      _ltcg_pg_log "apt-get install postgresql failed"
    fi
    bin=$(_ltcg_pg_bindir)
  fi
  if [ -z "$bin" ]; then
    _ltcg_pg_unavailable "PostgreSQL (initdb) not found"
    return 0
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    _ltcg_pg_unavailable "user 'postgres' does not exist"
    return 0
  fi

  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ltcg-postgres.XXXXXX")
  chmod 700 "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
  fi
  export LTCG_PG_DIR="$dir" LTCG_PG_BIN="$bin"

  if ! _ltcg_pg_run "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale \
    --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    stop_postgres
    _ltcg_pg_unavailable "initdb failed"
    return 0
  fi

  # The port is picked before the server binds it; retry if someone else took it meanwhile.
  local port="" attempt started=""
  for attempt in 1 2 3; do
    port=$(_ltcg_pg_free_port) || break
    if _ltcg_pg_run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${LTCG_PG_EXTRA_OPTS:-}" \
      start >/dev/null; then
      started=1
      break
    fi
    _ltcg_pg_log "start attempt $attempt on port $port failed"
  done
  if [ -z "$started" ]; then
    tail -n 20 "$dir/server.log" >&2 2>/dev/null || true
    stop_postgres
    _ltcg_pg_unavailable "the test cluster did not start"
    return 0
  fi
  export LTCG_PG_PORT="$port"

  local waited=0
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
    waited=$((waited + 1))
    if [ "$waited" -ge 60 ]; then
      stop_postgres
      _ltcg_pg_unavailable "the test cluster is not ready after 30 s"
      return 0
    fi
    sleep 0.5
  done

  if ! "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres ltcg_test; then
    stop_postgres
    _ltcg_pg_unavailable "createdb failed"
    return 0
  fi
  export LTCG_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/ltcg_test"
  export LTCG_PG_OWNS_URL=1
  _ltcg_pg_log "test cluster ready on 127.0.0.1:$port ($dir)"
}

stop_postgres() {
  local dir="${LTCG_PG_DIR:-}" bin="${LTCG_PG_BIN:-}"
  if [ -z "$dir" ]; then
    return 0
  fi
  if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bin" ]; then
    _ltcg_pg_run "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 \
      || _ltcg_pg_log "warning: pg_ctl stop failed"
  fi
  rm -rf -- "$dir"
  if [ -n "${LTCG_PG_OWNS_URL:-}" ]; then
    unset LTCG_TEST_POSTGRES_URL
  fi
  unset LTCG_PG_DIR LTCG_PG_BIN LTCG_PG_PORT LTCG_PG_OWNS_URL
  return 0
}
