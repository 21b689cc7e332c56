#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server, then stops the server and deletes it.
#
#     tools/with-postgres.sh COMMAND [ARG...]
#
# The server is Debian's (tools/install-deps.sh installs postgresql-15) with the settings a district's
# server is given (deploy/postgresql/rollcall-hub.conf), listening only on a Unix socket in a new folder
# under /var/tmp; as root it runs as the postgres user.
# The command finds it in $ROLLCALL_PG_URL (postgres://rollcall@localhost/rollcall?host=FOLDER), e.g.
#     tools/with-postgres.sh sh -c '.build/release/rollcall-hub bench load --db "$ROLLCALL_PG_URL"'
# Exits with the command's status.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "with-postgres: no PostgreSQL server; tools/install-deps.sh installs Debian's postgresql-15" >&2
    exit 2
fi
settings="$(cd "$(dirname "$0")/.." && pwd)/deploy/postgresql/rollcall-hub.conf"
folder=$(mktemp -d /var/tmp/rollcall-pg.XXXXXX)
as=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$folder"
    as=(runuser -u postgres --)
fi
cleanup() {
    "${as[@]}" "$bin/pg_ctl" -D "$folder/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$folder"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"${as[@]}" "$bin/initdb" -D "$folder/data" -U rollcall -A trust -E UTF8 >/dev/null
cp "$settings" "$folder/data/rollcall-hub.conf"
echo "include 'rollcall-hub.conf'" >> "$folder/data/postgresql.conf"
if ! "${as[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$folder'" start >/dev/null; then
    echo "with-postgres: the server did not start:" >&2
    tail -n 20 "$folder/server.log" >&2
    exit 2
fi
"${as[@]}" "$bin/createdb" -h "$folder" -U rollcall rollcall
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $folder" >&2
export ROLLCALL_PG_URL="postgres://rollcall@localhost/rollcall?host=$folder"
status=0
"$@" || status=$?
exit "$status"
