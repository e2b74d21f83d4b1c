#!/usr/bin/env bash
# Real PostgreSQL 15 and NATS (JetStream) for local development and tests, kept in a
# project-local state folder, listening on loopback only.
#
#   infra.sh start  STATE_DIR PG_PORT NATS_PORT NATS_MONITOR_PORT
#   infra.sh stop   STATE_DIR
#   infra.sh status STATE_DIR
#
# `start` prints exactly two lines on stdout (everything else goes to stderr):
#   SDS_DATABASE_URL=postgres://postgres@127.0.0.1:PG_PORT/postgres
#   SDS_NATS_URL=nats://127.0.0.1:NATS_PORT
# Every subcommand is idempotent and serialised by flock on STATE_DIR/.lock, so parallel
# callers (test processes) can all call `start` safely.
set -euo pipefail

PG_BIN=${SDS_PG_BIN:-/usr/lib/postgresql/15/bin}
START_DEADLINE_SECONDS=${SDS_INFRA_DEADLINE:-60}
LOCK_DEADLINE_SECONDS=${SDS_INFRA_LOCK_DEADLINE:-180}

say() { printf 'infra: %s\n' "$*" >&2; }
die() { printf 'infra: error: %s\n' "$*" >&2; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: infra.sh start  STATE_DIR PG_PORT NATS_PORT NATS_MONITOR_PORT
       infra.sh stop   STATE_DIR
       infra.sh status STATE_DIR
EOF
    exit 2
}

is_port() { [[ $1 =~ ^[0-9]+$ ]] && (( $1 > 0 && $1 < 65536 )); }

# --- state layout -------------------------------------------------------------------

set_paths() {
    mkdir -p "$1"
    STATE_DIR=$(cd "$1" && pwd -P)
    PG_DATA=$STATE_DIR/pg
    NATS_STORE=$STATE_DIR/nats
    PID_DIR=$STATE_DIR/pids
    LOG_DIR=$STATE_DIR/logs
    PORTS_FILE=$STATE_DIR/ports.env
    PG_PID_FILE=$PID_DIR/postgres.pid
    NATS_PID_FILE=$PID_DIR/nats.pid
    # Unix socket paths are limited to ~107 bytes; fall back to /tmp for deep checkouts.
    PG_SOCK_DIR=$STATE_DIR/pgsock
    if (( ${#PG_SOCK_DIR} > 80 )); then
        PG_SOCK_DIR=/tmp/sds-pgsock-$(printf '%s' "$STATE_DIR" | cksum | cut -d' ' -f1)
    fi
    PG_LOG=$LOG_DIR/postgres.log
    choose_pg_location
}

# As root, PostgreSQL runs as $PG_USER, who must be able to reach its data folder. A
# checkout under a private folder (a home directory of mode 700, say) is out of its reach
# whatever we open up inside the project, and we do not loosen folders outside it: then the
# cluster lives in $PG_USER's own home instead, under a name derived from the state folder.
choose_pg_location() {
    [[ $(id -u) -eq 0 ]] || return 0
    chmod o+x "$STATE_DIR"
    # Only the project-local .local/ folder may be opened up as well.
    if [[ $(basename "$(dirname "$STATE_DIR")") == .local ]]; then chmod o+x "$(dirname "$STATE_DIR")"; fi
    if su "$PG_USER" -s /bin/bash -c "test -x $(q "$STATE_DIR")" 9>&-; then
        return 0
    fi
    local home key
    home=$(getent passwd "$PG_USER" | cut -d: -f6)
    key=$(printf '%s' "$STATE_DIR" | cksum | cut -d' ' -f1)
    [[ -n $home ]] || die "$PG_USER cannot reach $STATE_DIR and has no home folder to keep the cluster in"
    PG_DATA=$home/sds-clusters/$key/pg
    PG_LOG=$home/sds-clusters/$key/postgres.log
    PG_SOCK_DIR=/tmp/sds-pgsock-$key
    mkdir -p "$(dirname "$PG_DATA")"
    chown "$PG_USER:" "$home/sds-clusters" "$(dirname "$PG_DATA")"
    if [[ ! -f $STATE_DIR/pg-location ]]; then
        say "$PG_USER cannot reach $STATE_DIR (a parent folder is private): keeping the PostgreSQL cluster in $PG_DATA"
        printf '%s\n' "$PG_DATA" >"$STATE_DIR/pg-location"
    fi
}

take_lock() {
    exec 9>"$STATE_DIR/.lock"
    if ! flock -w "$LOCK_DEADLINE_SECONDS" 9; then
        die "could not lock $STATE_DIR/.lock within ${LOCK_DEADLINE_SECONDS}s (another infra.sh is stuck?)"
    fi
}

# --- running things as the PostgreSQL user -----------------------------------------

if [[ $(id -u) -eq 0 ]]; then
    PG_USER=postgres
    id "$PG_USER" >/dev/null 2>&1 || die "running as root but there is no '$PG_USER' user to run PostgreSQL"
else
    PG_USER=$(id -un)
fi

# Runs a shell command as the PostgreSQL user; fd 9 (the lock) is closed so that a
# long-lived server never inherits it.
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        su "$PG_USER" -s /bin/bash -c "cd / && $1" 9>&-
    else
        bash -c "$1" 9>&-
    fi
}

q() { printf '%q' "$1"; }

# shellcheck source=deploy/local/pids.sh
source "$(dirname "${BASH_SOURCE[0]}")/pids.sh"

# --- PostgreSQL ---------------------------------------------------------------------

pg_running() { # our cluster's postmaster is up (regardless of port)
    [[ -f $PG_DATA/PG_VERSION ]] && as_pg "$(q "$PG_BIN/pg_ctl") -D $(q "$PG_DATA") status" >/dev/null 2>&1
}

pg_running_port() { # the port in postmaster.pid (line 4)
    sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true
}

pg_answers() { "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$1" -t 2 -q >/dev/null 2>&1; }

ensure_pg_reachable() {
    # choose_pg_location has put the cluster where $PG_USER can reach it; check, to fail clearly.
    if [[ $(id -u) -eq 0 ]] && ! su "$PG_USER" -s /bin/bash -c "test -x $(q "$(dirname "$PG_DATA")")" 9>&-; then
        die "$PG_USER cannot reach $(dirname "$PG_DATA")"
    fi
}

pg_init() {
    [[ -x $PG_BIN/initdb ]] || die "PostgreSQL 15 binaries not found in $PG_BIN (apt-get install -y postgresql-15, or set SDS_PG_BIN)"
    ensure_pg_reachable
    mkdir -p "$PG_SOCK_DIR"
    touch "$PG_LOG"
    if [[ $(id -u) -eq 0 ]]; then
        chown "$PG_USER:" "$PG_SOCK_DIR" "$PG_LOG"
    fi
    if [[ -f $PG_DATA/PG_VERSION ]]; then
        return
    fi
    say "initialising PostgreSQL cluster in $PG_DATA"
    rm -rf "$PG_DATA"
    mkdir -p "$PG_DATA"
    chmod 700 "$PG_DATA"
    if [[ $(id -u) -eq 0 ]]; then chown "$PG_USER:" "$PG_DATA"; fi
    if ! as_pg "$(q "$PG_BIN/initdb") -D $(q "$PG_DATA") -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8" \
        >"$LOG_DIR/initdb.log" 2>&1; then
        cat "$LOG_DIR/initdb.log" >&2
        rm -rf "$PG_DATA"
        die "initdb failed (log above)"
    fi
}

pg_start() {
    local port=$1 running_port
    pg_init
    if pg_running; then
        running_port=$(pg_running_port)
        if [[ $running_port != "$port" ]]; then
            die "the cluster in $PG_DATA is already running on port $running_port, not $port; run: $0 stop $STATE_DIR"
        fi
        say "PostgreSQL already running on 127.0.0.1:$port"
    else
        if pg_answers "$port"; then
            die "something else already answers as PostgreSQL on 127.0.0.1:$port (not the cluster in $PG_DATA)"
        fi
        say "starting PostgreSQL on 127.0.0.1:$port"
        local opts="-p $port -c listen_addresses=127.0.0.1 -k $PG_SOCK_DIR"
        if ! as_pg "$(q "$PG_BIN/pg_ctl") -D $(q "$PG_DATA") -l $(q "$PG_LOG") -o $(q "$opts") -w -t $START_DEADLINE_SECONDS start" >&2; then
            tail -n 20 "$PG_LOG" >&2 || true
            die "PostgreSQL did not start (log tail above, full log $PG_LOG)"
        fi
    fi
    read_pid "$PG_DATA/postmaster.pid" >"$PG_PID_FILE"
}

pg_stop() {
    if pg_running; then
        say "stopping PostgreSQL (pid $(read_pid "$PG_DATA/postmaster.pid"))"
        as_pg "$(q "$PG_BIN/pg_ctl") -D $(q "$PG_DATA") -m fast -w -t 60 stop" >&2
    else
        local pid
        pid=$(read_pid "$PG_PID_FILE")
        if pid_is "$pid" postgres; then
            say "stopping PostgreSQL by recorded pid $pid"
            stop_pid "$pid"
        else
            say "PostgreSQL not running"
        fi
    fi
    rm -f "$PG_PID_FILE"
}

# --- NATS ---------------------------------------------------------------------------

ensure_nats_installed() {
    if command -v nats-server >/dev/null 2>&1; then return; fi
    # Debian installs it in /usr/sbin, which a non-root PATH may lack.
    if [[ -x /usr/sbin/nats-server ]]; then PATH=$PATH:/usr/sbin; return; fi
    say "nats-server not found; installing it with apt-get"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "nats-server is missing and we are not root: apt-get install -y nats-server"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq >&2 9>&-
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq nats-server >&2 9>&-
    # The Debian package also enables a system service on the default port; we do not use it.
    if [[ -x /usr/sbin/nats-server ]] && ! command -v nats-server >/dev/null 2>&1; then PATH=$PATH:/usr/sbin; fi
    command -v nats-server >/dev/null 2>&1 || die "nats-server still not found after apt-get install"
}

http_ok() { # http_ok PORT PATH: 200 from 127.0.0.1:PORT
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1$2" 2>/dev/null
    else
        local status
        status=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' '$2' >&3 && head -n1 <&3" 2>/dev/null) || return 1
        [[ $status == *" 200"* ]]
    fi
}

nats_answers() { http_ok "$1" /healthz; }

nats_start() {
    local port=$1 monitor_port=$2 pid
    ensure_nats_installed
    pid=$(read_pid "$NATS_PID_FILE")
    if pid_is "$pid" nats-server; then
        say "NATS already running (pid $pid)"
        return
    fi
    if nats_answers "$monitor_port"; then
        die "something else answers on the NATS monitor port 127.0.0.1:$monitor_port (not a nats-server started from $STATE_DIR)"
    fi
    mkdir -p "$NATS_STORE"
    rm -f "$NATS_PID_FILE"
    say "starting NATS (JetStream) on 127.0.0.1:$port, monitor 127.0.0.1:$monitor_port"
    # nats-server writes its own PID file (-P); all of its fds point away from our stdout
    # so that `$(infra.sh start ...)` returns, and the lock fd is closed.
    nohup nats-server -js -sd "$NATS_STORE" -a 127.0.0.1 -p "$port" -m "$monitor_port" \
        -P "$NATS_PID_FILE" >>"$LOG_DIR/nats.log" 2>&1 </dev/null 9>&- &
    local launched=$!
    # Until nats-server has written its own file, record the launched PID (nohup execs).
    local deadline=$((SECONDS + 5))
    while [[ ! -s $NATS_PID_FILE ]] && (( SECONDS < deadline )) && pid_alive "$launched"; do sleep 0.1; done
    [[ -s $NATS_PID_FILE ]] || echo "$launched" >"$NATS_PID_FILE"
    disown "$launched" 2>/dev/null || true
}

stop_pid() { # SIGTERM, wait up to 10 s, then SIGKILL
    local pid=$1 deadline=$((SECONDS + 10))
    kill -TERM "$pid" 2>/dev/null || return 0
    while pid_alive "$pid" && (( SECONDS < deadline )); do sleep 0.1; done
    if pid_alive "$pid"; then
        say "pid $pid did not stop within 10s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

nats_stop() {
    local pid
    pid=$(read_pid "$NATS_PID_FILE")
    if pid_is "$pid" nats-server; then
        say "stopping NATS (pid $pid)"
        stop_pid "$pid"
    else
        say "NATS not running"
    fi
    rm -f "$NATS_PID_FILE"
}

# --- subcommands --------------------------------------------------------------------

cmd_start() {
    [[ $# -eq 4 ]] || usage
    local pg_port=$2 nats_port=$3 monitor_port=$4
    for p in "$pg_port" "$nats_port" "$monitor_port"; do is_port "$p" || die "not a port number: $p"; done
    set_paths "$1"
    mkdir -p "$PID_DIR" "$LOG_DIR"
    take_lock
    printf 'PG_PORT=%s\nNATS_PORT=%s\nNATS_MONITOR_PORT=%s\n' "$pg_port" "$nats_port" "$monitor_port" >"$PORTS_FILE"

    pg_start "$pg_port"
    nats_start "$nats_port" "$monitor_port"

    local deadline=$((SECONDS + START_DEADLINE_SECONDS)) pg_ok=0 nats_ok=0
    while :; do
        (( pg_ok )) || { pg_answers "$pg_port" && pg_ok=1; } || true
        (( nats_ok )) || { nats_answers "$monitor_port" && nats_ok=1; } || true
        (( pg_ok && nats_ok )) && break
        if (( SECONDS >= deadline )); then
            (( pg_ok )) || { tail -n 20 "$PG_LOG" >&2 || true; say "PostgreSQL is not answering on 127.0.0.1:$pg_port"; }
            (( nats_ok )) || { tail -n 20 "$LOG_DIR/nats.log" >&2 || true; say "NATS is not healthy on 127.0.0.1:$monitor_port/healthz"; }
            die "infrastructure did not become ready within ${START_DEADLINE_SECONDS}s (logs in $LOG_DIR)"
        fi
        if (( ! nats_ok )) && ! pid_is "$(read_pid "$NATS_PID_FILE")" nats-server; then
            tail -n 20 "$LOG_DIR/nats.log" >&2 || true
            die "nats-server exited during start (log tail above)"
        fi
        sleep 0.2
    done
    say "ready: PostgreSQL 127.0.0.1:$pg_port, NATS 127.0.0.1:$nats_port (state in $STATE_DIR)"
    printf 'SDS_DATABASE_URL=postgres://postgres@127.0.0.1:%s/postgres\n' "$pg_port"
    printf 'SDS_NATS_URL=nats://127.0.0.1:%s\n' "$nats_port"
}

cmd_stop() {
    [[ $# -eq 1 ]] || usage
    if [[ ! -d $1 ]]; then say "nothing to stop: $1 does not exist"; return 0; fi
    set_paths "$1"
    mkdir -p "$PID_DIR"
    take_lock
    nats_stop
    pg_stop
    say "stopped (state kept in $STATE_DIR)"
}

cmd_status() {
    [[ $# -eq 1 ]] || usage
    if [[ ! -d $1 ]]; then
        echo "postgres: stopped (no state in $1)"
        echo "nats: stopped (no state in $1)"
        return 3
    fi
    set_paths "$1"
    local rc=0 pid nats_port="?" monitor_port="" pg_port
    if [[ -f $PORTS_FILE ]]; then
        nats_port=$(sed -n 's/^NATS_PORT=//p' "$PORTS_FILE")
        monitor_port=$(sed -n 's/^NATS_MONITOR_PORT=//p' "$PORTS_FILE")
    fi
    if pg_running; then
        pg_port=$(pg_running_port)
        if pg_answers "$pg_port"; then
            echo "postgres: running (pid $(read_pid "$PG_DATA/postmaster.pid"), postgres://postgres@127.0.0.1:$pg_port/postgres)"
        else
            echo "postgres: running but not accepting connections (pid $(read_pid "$PG_DATA/postmaster.pid"), port $pg_port)"
            rc=3
        fi
    else
        echo "postgres: stopped"
        rc=3
    fi
    pid=$(read_pid "$NATS_PID_FILE")
    if pid_is "$pid" nats-server; then
        if [[ -n $monitor_port ]] && nats_answers "$monitor_port"; then
            echo "nats: running (pid $pid, nats://127.0.0.1:$nats_port, monitor http://127.0.0.1:$monitor_port)"
        else
            echo "nats: running but not healthy (pid $pid)"
            rc=3
        fi
    else
        echo "nats: stopped"
        rc=3
    fi
    return "$rc"
}

main() {
    [[ $# -ge 1 ]] || usage
    local sub=$1
    shift
    case $sub in
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        -h | --help | help) usage ;;
        *) say "unknown subcommand: $sub"; usage ;;
    esac
}

main "$@"
