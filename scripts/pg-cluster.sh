#!/usr/bin/env bash
# A throwaway PostgreSQL cluster in a directory, for the tests (scripts/test.sh) and the bench
# (scripts/bench-store.sh). Never touches any other cluster.
#
#   pg-cluster.sh start DIR     initdb in DIR/data (once), start it on a free loopback port, print its URL
#   pg-cluster.sh crash DIR     stop it the hard way (pg_ctl stop -m immediate: no checkpoint, like a power cut)
#   pg-cluster.sh restart DIR   start it again on the same port (after crash), waiting for crash recovery
#   pg-cluster.sh destroy DIR   stop it (if running) and delete DIR
#
# Binaries: initdb/pg_ctl from PATH, else /usr/lib/postgresql/*/bin. When there are none and this runs as
# root, Debian's `postgresql` package is installed first. initdb refuses to run as root, so as root the
# cluster runs as the `postgres` user (created by the package), or a system user `voucher-pg` created here.
# The superuser is `voucher` with a random password (SCRAM over TCP), written to DIR/url.
# TLS: the server has `ssl = on` with a certificate for localhost and 127.0.0.1 signed by a throwaway root
# (openssl, installed like postgresql when missing): DIR/root.crt is that root (for sslrootcert=), and
# DIR/other-root.crt a root that signed nothing here (for the tests that must be refused). The URL printed has
# no sslmode (the client's default, prefer, encrypts without checking the certificate).
set -euo pipefail

command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|crash|restart|destroy DIR" >&2
    exit 2
fi

find_bin() {
    local name=$1 candidate
    if candidate=$(command -v "$name" 2>/dev/null); then
        echo "$candidate"
        return 0
    fi
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$candidate/$name" ]; then
            echo "$candidate/$name"
            return 0
        fi
    done
    return 1
}

install_postgres() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "pg-cluster: no initdb/pg_ctl found, and cannot install them (not root or no apt-get)" >&2
        return 1
    fi
    echo "pg-cluster: installing Debian's postgresql package" >&2
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
}

binaries() {
    if initdb=$(find_bin initdb) && pg_ctl=$(find_bin pg_ctl); then
        return 0
    fi
    install_postgres || return 1
    initdb=$(find_bin initdb) && pg_ctl=$(find_bin pg_ctl) || {
        echo "pg-cluster: initdb/pg_ctl still missing after installing postgresql" >&2
        return 1
    }
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$(cat "$dir/owner")" -- "$@"
    else
        "$@"
    fi
}

choose_owner() {
    if [ "$(id -u)" != 0 ]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        id voucher-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin voucher-pg
        echo voucher-pg
    fi
}

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The throwaway root and server certificate (once per cluster directory).
make_certs() {
    if [ -f "$dir/data/server.crt" ] && [ -f "$dir/root.crt" ]; then
        return 0
    fi
    if ! command -v openssl >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y openssl >&2
        else
            echo "pg-cluster: no openssl: the cluster runs without TLS" >&2
            return 1
        fi
    fi
    local tls="$dir/tls" curve=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    mkdir -p "$tls"
    openssl req -x509 "${curve[@]}" -days 30 -subj "/CN=voucher-ledger throwaway root" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        -keyout "$tls/root.key" -out "$dir/root.crt" 2>/dev/null
    openssl req "${curve[@]}" -subj "/CN=localhost" -keyout "$dir/data/server.key" -out "$tls/server.csr" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth" \
        "keyUsage=critical,digitalSignature" "basicConstraints=critical,CA:FALSE" >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$dir/root.crt" -CAkey "$tls/root.key" -CAcreateserial \
        -days 30 -extfile "$tls/server.ext" -out "$dir/data/server.crt" 2>/dev/null
    openssl req -x509 "${curve[@]}" -days 30 -subj "/CN=another throwaway root" \
        -keyout "$tls/other-root.key" -out "$dir/other-root.crt" 2>/dev/null
    chmod 600 "$dir/data/server.key" "$tls/root.key" "$tls/other-root.key"
    chmod 644 "$dir/root.crt" "$dir/other-root.crt" "$dir/data/server.crt"
    if [ "$(id -u)" = 0 ]; then chown "$(cat "$dir/owner")" "$dir/data/server.key" "$dir/data/server.crt"; fi
}

start_cluster() {
    as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start >&2
}

case "$command" in
start)
    binaries
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        choose_owner >"$dir/owner"
        owner=$(cat "$dir/owner")
        od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$dir/password"
        mkdir -p "$dir/data"
        if [ "$(id -u)" = 0 ]; then chown "$owner" "$dir" "$dir/data" "$dir/password"; fi
        chmod 700 "$dir/data"
        chmod 600 "$dir/password"
        as_owner "$initdb" -D "$dir/data" -U voucher --pwfile="$dir/password" \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            exit 1
        }
    fi
    tls_settings=""
    if make_certs; then
        tls_settings="ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'"
    fi
    started=""
    for _ in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 30000))
        port_free "$port" || continue
        {
            echo "listen_addresses = '127.0.0.1'"
            echo "port = $port"
            echo "unix_socket_directories = '$dir/data'"
            echo "max_connections = 300"
            if [ -n "$tls_settings" ]; then echo "$tls_settings"; fi
        } >"$dir/data/postgresql.auto.conf"
        if start_cluster; then
            started=$port
            break
        fi
        tail -n 5 "$dir/server.log" >&2 || true
    done
    if [ -z "$started" ]; then
        echo "pg-cluster: could not start PostgreSQL (see $dir/server.log)" >&2
        exit 1
    fi
    echo "$started" >"$dir/port"
    url="postgres://voucher:$(cat "$dir/password")@127.0.0.1:$started/postgres"
    echo "$url" >"$dir/url"
    chmod 600 "$dir/url"
    echo "$url"
    ;;
crash)
    binaries
    as_owner "$pg_ctl" -D "$dir/data" -m immediate -w stop >&2
    ;;
restart)
    binaries
    start_cluster
    ;;
destroy)
    if [ -f "$dir/data/postmaster.pid" ] && binaries; then
        as_owner "$pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|crash|restart|destroy DIR" >&2
    exit 2
    ;;
esac
