#!/bin/bash
# PostgreSQL the way the official image starts it, for the smoke run: a cluster made on
# first start with POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, listening on
# 127.0.0.1:$PGPORT (host networking).
set -euo pipefail
PGDATA=${PGDATA:-/var/lib/postgresql/data}
PGPORT=${PGPORT:-5432}
bin=$(echo /usr/lib/postgresql/*/bin)
install -d -o postgres -g postgres -m 700 "$PGDATA"
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pgpass
  chown postgres /tmp/pgpass
  su postgres -c "$bin/initdb -D '$PGDATA' -U '$POSTGRES_USER' --pwfile=/tmp/pgpass -E UTF8 \
    --locale=C.UTF-8 --auth-host=scram-sha-256 --auth-local=trust" >/dev/null
  rm -f /tmp/pgpass
  su postgres -c "$bin/pg_ctl -D '$PGDATA' -o '-c listen_addresses= -p $PGPORT' -w start" >/dev/null
  su postgres -c "psql -p $PGPORT -U '$POSTGRES_USER' -d postgres \
    -c 'CREATE DATABASE \"$POSTGRES_DB\"'" >/dev/null
  su postgres -c "$bin/pg_ctl -D '$PGDATA' -w stop" >/dev/null
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups \
  "$bin/postgres" -D "$PGDATA" -c listen_addresses=127.0.0.1 -p "$PGPORT"
