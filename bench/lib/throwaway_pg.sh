# Sourced by bench scripts: a throwaway PostgreSQL server on a unix socket in a temp folder, no
# TCP, fsync and synchronous_commit on as in production (the test suite's way: initdb + pg_ctl
# as `postgres` when root). pg_start DIR starts it in DIR (which must exist and be empty but for
# what the caller keeps there); pg_createdb NAME prints the database's URL; pg_stop stops it.
PG_DIR=""
PGBIN=$(pg_config --bindir)
as_postgres=()

pg_start() {  # pg_start DIR
  PG_DIR=$1
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$PG_DIR"
    as_postgres=(runuser -u postgres --)
  fi
  "${as_postgres[@]}" "$PGBIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale \
    >"$PG_DIR/initdb.log"
  "${as_postgres[@]}" "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-k $PG_DIR -c listen_addresses= -c max_connections=50" start >/dev/null
}

pg_createdb() {  # pg_createdb NAME: creates it, prints its URL
  "${as_postgres[@]}" "$PGBIN/createdb" -h "$PG_DIR" -U postgres "$1"
  echo "postgresql://postgres@/$1?host=$PG_DIR"
}

pg_stop() {
  if [[ -n "$PG_DIR" && -f "$PG_DIR/data/postmaster.pid" ]]; then
    "${as_postgres[@]}" "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null || true
  fi
}
