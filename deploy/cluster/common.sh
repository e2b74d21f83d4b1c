# Shared by deploy/cluster/up, down, status and node (sourced, not run): the ports and
# paths of the cluster shape, and how to start, stop, kill and check each of its processes
# (one PostgreSQL, three clustered nats-server, two `sds serve --only SERVICE` per service).
# Everything lives in .local/cluster; nothing here builds.
# shellcheck shell=bash disable=SC2034

# ROOT, SDS_BIN (SDS_PROFILE=release: target/release/sds, else target/debug/sds),
# CARGO_PROFILE_ARGS, SDS_DEV_JWT_SECRET and the pid helpers (pid_alive, pid_is, read_pid).
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/common.sh"

# SDS_CLUSTER_STATE and SDS_CLUSTER_PORT_OFFSET give a second cluster of its own (the chaos
# run's: deploy/cluster/chaos) a folder and ports apart from this one's.
CLUSTER_STATE=${SDS_CLUSTER_STATE:-.local/cluster}
PORT_OFFSET=${SDS_CLUSTER_PORT_OFFSET:-0}
[[ $PORT_OFFSET =~ ^[0-9]{1,3}$ ]] || { printf 'cluster: SDS_CLUSTER_PORT_OFFSET=%s is not a whole number below 1000\n' "$PORT_OFFSET" >&2; exit 2; }
STATE_DIR=$ROOT/$CLUSTER_STATE
PID_DIR=$STATE_DIR/pids
LOG_DIR=$STATE_DIR/logs
EXPORTS_DIR=$STATE_DIR/exports
DEADLINE_SECONDS=${SDS_CLUSTER_DEADLINE:-60}
LOCK_DEADLINE_SECONDS=${SDS_CLUSTER_LOCK_DEADLINE:-300}

# Ports: apart from deploy/local's (55432, 54222, 58222, 50051, 8080) and the tests'
# (55433, 54223, 58223), so every shape can run side by side, and below Linux's ephemeral
# range (32768-60999): a port there may be taken at any moment as the local end of one of
# the many connections twelve processes open, and a replica restarted on it then fails.
PG_PORT=$((25442 + PORT_OFFSET))
DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
# PostgreSQL's max_connections: twelve processes hold up to 10 connections each
# (SDS_DB_MAX_CONNECTIONS unset: 10 per service, one service per process).
PG_MAX_CONNECTIONS=200
PG_BIN=${SDS_PG_BIN:-/usr/lib/postgresql/15/bin}

NATS_NODES=(1 2 3)
nats_client_port() { echo $((24231 + PORT_OFFSET + $1)); }  # 24232-24234
nats_route_port() { echo $((26231 + PORT_OFFSET + $1)); }   # 26232-26234
nats_monitor_port() { echo $((28231 + PORT_OFFSET + $1)); } # 28232-28234
NATS_URL=nats://127.0.0.1:$(nats_client_port 1),nats://127.0.0.1:$(nats_client_port 2),nats://127.0.0.1:$(nats_client_port 3)
NATS_ROUTES=nats://127.0.0.1:$(nats_route_port 1),nats://127.0.0.1:$(nats_route_port 2),nats://127.0.0.1:$(nats_route_port 3)

# In the order they are started (a service's dependencies first); two replicas each.
SERVICES=(directory assessment ledger contracts payments portal)
REPLICAS=(1 2)

service_index() {
    local i
    for i in "${!SERVICES[@]}"; do
        if [[ ${SERVICES[$i]} == "$1" ]]; then echo "$i"; return 0; fi
    done
    return 1
}
is_service() { service_index "$1" >/dev/null; }
# gRPC 20061-20072 and HTTP 8061-8072: directory 1 and 2 first, then assessment, ...
grpc_port() { echo $((20061 + PORT_OFFSET + 2 * $(service_index "$1") + $2 - 1)); }
http_port() { echo $((8061 + PORT_OFFSET + 2 * $(service_index "$1") + $2 - 1)); }
grpc_addr() { echo "127.0.0.1:$(grpc_port "$1" "$2")"; }
http_addr() { echo "127.0.0.1:$(http_port "$1" "$2")"; }

rel() { printf '%s\n' "${1#"$ROOT"/}"; } # a path as seen from the repository's root

take_lock() { # serialises up, down and node; long-lived children never inherit fd 9
    mkdir -p "$STATE_DIR"
    exec 9>"$STATE_DIR/.lock"
    flock -w "$LOCK_DEADLINE_SECONDS" 9 ||
        die "could not lock $STATE_DIR/.lock within ${LOCK_DEADLINE_SECONDS}s (another deploy/cluster command is running?)"
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

http_get() { # http_get PORT PATH: the body, or nothing
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -m 2 "http://127.0.0.1:$1$2" 2>/dev/null || true
    else
        timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' '$2' >&3 && sed '1,/^\r\?$/d' <&3" 2>/dev/null || true
    fi
}

# stop_pids PID...: SIGTERM to all, up to 10 s for all to go, then SIGKILL to what is left.
stop_pids() {
    local pid deadline=$((SECONDS + 10)) left
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    while :; do
        left=()
        for pid in "$@"; do pid_alive "$pid" && left+=("$pid"); done
        (( ${#left[@]} )) || return 0
        (( SECONDS < deadline )) || break
        sleep 0.2
    done
    say "pid ${left[*]} did not stop within 10s; sending SIGKILL"
    for pid in "${left[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait_gone "${left[@]}"
}

log_tail() { # log_tail FILE: the last 40 lines the latest start wrote (after its === line)
    awk '/^=== .* started by deploy\/cluster at / { n = 0 } { line[++n] = $0 } END { for (i = (n > 40 ? n - 39 : 1); i <= n; i++) print line[i] }' "$1" >&2 2>/dev/null || true
}

wait_gone() { # wait_gone PID...: up to 5 s for the processes to disappear
    local pid deadline=$((SECONDS + 5))
    for pid in "$@"; do
        while pid_alive "$pid" && (( SECONDS < deadline )); do sleep 0.05; done
    done
}

# --- PostgreSQL (only): infra.sh's approach without its NATS ----------------------------
# deploy/local/infra.sh starts PostgreSQL and one non-clustered NATS together and cannot be
# sourced, so its PostgreSQL steps are repeated here: initdb and pg_ctl run as the postgres
# user when we are root (PostgreSQL refuses to run as root), and the data folder moves to
# that user's home when it cannot reach the checkout.

pg_paths() {
    [[ -z ${PG_PATHS_SET:-} ]] || return 0
    PG_PATHS_SET=1
    if [[ $(id -u) -eq 0 ]]; then
        PG_USER=postgres
        id "$PG_USER" >/dev/null 2>&1 || die "running as root but there is no '$PG_USER' user to run PostgreSQL"
    else
        PG_USER=$(id -un)
    fi
    PG_DATA=$STATE_DIR/pg
    PG_LOG=$LOG_DIR/postgres.log
    PG_PID_FILE=$PID_DIR/postgres.pid
    # Unix socket paths are limited to ~107 bytes; fall back to /tmp for deep checkouts.
    PG_SOCK_DIR=$STATE_DIR/pgsock
    if (( ${#PG_SOCK_DIR} > 80 )); then
        PG_SOCK_DIR=/tmp/sds-pgsock-$(printf '%s' "$STATE_DIR" | cksum | cut -d' ' -f1)
    fi
    # Nothing to reach before up has made the state folder (status, down).
    [[ $(id -u) -eq 0 && -d $STATE_DIR ]] || return 0
    # As root: the postgres user must reach the data folder. Only the project-local
    # .local/ folders are opened up (o+x); a checkout under a private folder (a home of mode
    # 700) keeps the cluster in the postgres user's own home instead.
    chmod o+x "$STATE_DIR" "$ROOT/.local"
    if su "$PG_USER" -s /bin/bash -c "test -x $(q "$STATE_DIR")" 9>&-; then return 0; fi
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

q() { printf '%q' "$1"; }

as_pg() { # runs a shell command as the PostgreSQL user, without the lock's fd 9
    if [[ $(id -u) -eq 0 ]]; then
        su "$PG_USER" -s /bin/bash -c "cd / && $1" 9>&-
    else
        bash -c "$1" 9>&-
    fi
}

pg_running() { # our cluster's postmaster is up (whatever its port)
    pg_paths
    [[ -f $PG_DATA/PG_VERSION ]] && as_pg "$(q "$PG_BIN/pg_ctl") -D $(q "$PG_DATA") status" >/dev/null 2>&1
}

pg_answers() { "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -t 2 -q >/dev/null 2>&1; }

pg_pid() { pg_running && read_pid "$PG_DATA/postmaster.pid"; }

pg_start() {
    mkdir -p "$STATE_DIR" "$LOG_DIR" "$PID_DIR"
    pg_paths
    [[ -x $PG_BIN/initdb ]] || die "PostgreSQL 15 binaries not found in $PG_BIN (apt-get install -y postgresql-15, or set SDS_PG_BIN)"
    mkdir -p "$PG_SOCK_DIR"
    touch "$PG_LOG"
    if [[ $(id -u) -eq 0 ]]; then chown "$PG_USER:" "$PG_SOCK_DIR" "$PG_LOG"; fi
    if [[ ! -f $PG_DATA/PG_VERSION ]]; then
        say "initialising a PostgreSQL cluster in $(rel "$PG_DATA")"
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
    fi
    if pg_running; then
        local running_port
        running_port=$(sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true)
        [[ $running_port == "$PG_PORT" ]] ||
            die "the cluster in $PG_DATA is already running on port $running_port, not $PG_PORT; run deploy/cluster/down"
        say "PostgreSQL already running on 127.0.0.1:$PG_PORT (pid $(pg_pid))"
    else
        pg_answers && die "something else already answers as PostgreSQL on 127.0.0.1:$PG_PORT (not the cluster in $PG_DATA)"
        say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
        local opts="-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_SOCK_DIR -c max_connections=$PG_MAX_CONNECTIONS"
        # setsid: a Ctrl-C in the terminal that ran up does not reach the server.
        if ! as_pg "setsid $(q "$PG_BIN/pg_ctl") -D $(q "$PG_DATA") -l $(q "$PG_LOG") -o $(q "$opts") -w -t $DEADLINE_SECONDS start" >/dev/null 2>&1; then
            tail -n 20 "$PG_LOG" >&2 || true
            die "PostgreSQL did not start (log tail above, full log $PG_LOG)"
        fi
    fi
    local deadline=$((SECONDS + DEADLINE_SECONDS))
    until pg_answers; do
        if (( SECONDS >= deadline )); then
            tail -n 20 "$PG_LOG" >&2 || true
            die "PostgreSQL is not answering on 127.0.0.1:$PG_PORT after ${DEADLINE_SECONDS}s (log tail above)"
        fi
        sleep 0.2
    done
    read_pid "$PG_DATA/postmaster.pid" >"$PG_PID_FILE"
}

pg_stop() {
    pg_paths
    if pg_running; then
        say "stopping PostgreSQL (pid $(pg_pid))"
        as_pg "$(q "$PG_BIN/pg_ctl") -D $(q "$PG_DATA") -m fast -w -t 60 stop" >/dev/null
    else
        local pid
        pid=$(read_pid "$PG_PID_FILE")
        if pid_is "$pid" postgres; then
            say "stopping PostgreSQL by its recorded pid $pid"
            stop_pids "$pid"
        else
            say "PostgreSQL not running"
        fi
    fi
    rm -f "$PG_PID_FILE"
}

pg_status() { # one line; 0 when running and answering
    if pg_running; then
        if pg_answers; then
            echo "postgres: running (pid $(pg_pid), $DATABASE_URL)"
        else
            echo "postgres: running but not accepting connections (pid $(pg_pid), 127.0.0.1:$PG_PORT)"
            return 3
        fi
    else
        echo "postgres: stopped ($DATABASE_URL)"
        return 3
    fi
}

# --- NATS: three clustered nats-server ------------------------------------------------

ensure_nats_installed() { # as deploy/local/infra.sh does
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

check_node() { [[ $1 =~ ^[123]$ ]] || die "no NATS node $1 (there are 1, 2 and 3)"; }
nats_pid_file() { echo "$PID_DIR/nats-$1.pid"; }
nats_log() { echo "$LOG_DIR/nats-$1.log"; }
nats_store() { echo "$STATE_DIR/nats/node-$1"; }

cmdline_has() { # cmdline_has PID WORD: the process's command line has the argument WORD
    [[ -r /proc/$1/cmdline ]] || return 0 # no /proc: trust the PID file
    tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$2"
}

nats_pid() { # the PID of node $1's running nats-server, or fails
    local pid
    pid=$(read_pid "$(nats_pid_file "$1")")
    pid_is "$pid" nats-server && cmdline_has "$pid" "sds-nats-$1" || return 1
    echo "$pid"
}

nats_healthy() { http_ok "$(nats_monitor_port "$1")" /healthz; }

nats_meta_leader() { # the JetStream meta leader node $1 knows of, or fails
    local leader
    leader=$(http_get "$(nats_monitor_port "$1")" /jsz |
        tr -d '\n' | grep -o '"meta_cluster": *{[^}]*}' | grep -o '"leader": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')
    [[ -n $leader ]] || return 1
    echo "$leader"
}

# Launches node $1 (same store and ports every time) without waiting for it.
nats_launch() {
    local n=$1 pid
    check_node "$n"
    ensure_nats_installed
    if pid=$(nats_pid "$n"); then
        say "nats-$n already running (pid $pid)"
        return 0
    fi
    local client monitor route pid_file log
    client=$(nats_client_port "$n")
    monitor=$(nats_monitor_port "$n")
    route=$(nats_route_port "$n")
    pid_file=$(nats_pid_file "$n")
    log=$(nats_log "$n")
    if http_ok "$monitor" /varz; then
        die "something else answers on 127.0.0.1:$monitor (nats-$n's monitor port), not a nats-server started from $CLUSTER_STATE"
    fi
    mkdir -p "$(nats_store "$n")" "$PID_DIR" "$LOG_DIR"
    rm -f "$pid_file"
    say "starting nats-$n: clients nats://127.0.0.1:$client, routes 127.0.0.1:$route, monitor http://127.0.0.1:$monitor"
    printf '\n=== nats-%s started by deploy/cluster at %s ===\n' "$n" "$(date -Is)" >>"$log"
    # nats-server writes its own PID file (-P). setsid: its own session, so that a Ctrl-C
    # in the terminal that started it does not reach it; fd 9 (the lock) is closed.
    setsid nats-server -js -sd "$(nats_store "$n")" -a 127.0.0.1 -p "$client" -m "$monitor" \
        -n "sds-nats-$n" --cluster_name sds --cluster "nats://127.0.0.1:$route" --routes "$NATS_ROUTES" \
        -P "$pid_file" >>"$log" 2>&1 </dev/null 9>&- &
    local launched=$!
    disown "$launched" 2>/dev/null || true
    local deadline=$((SECONDS + 5))
    while [[ ! -s $pid_file ]] && (( SECONDS < deadline )) && pid_alive "$launched"; do sleep 0.05; done
    [[ -s $pid_file ]] || echo "$launched" >"$pid_file"
}

# Waits until node $1 answers /healthz (which needs it to have joined the JetStream meta
# group) and knows the meta leader.
nats_wait() {
    local n=$1 deadline=$((SECONDS + DEADLINE_SECONDS)) log
    log=$(nats_log "$n")
    until nats_healthy "$n" && nats_meta_leader "$n" >/dev/null; do
        if ! nats_pid "$n" >/dev/null; then
            log_tail "$log"
            die "nats-$n exited during start (log tail above, full log $(rel "$log"))"
        fi
        if (( SECONDS >= deadline )); then
            log_tail "$log"
            die "nats-$n was not healthy with a JetStream meta leader within ${DEADLINE_SECONDS}s (log tail above, full log $(rel "$log"))"
        fi
        sleep 0.2
    done
}

nats_start() { nats_launch "$1" && nats_wait "$1" && say "nats-$1 is healthy (pid $(nats_pid "$1"), JetStream meta leader $(nats_meta_leader "$1"))"; }

nats_stop() {
    local n=$1 pid
    check_node "$n"
    if pid=$(nats_pid "$n"); then
        say "stopping nats-$n (pid $pid)"
        stop_pids "$pid"
    else
        say "nats-$n not running"
    fi
    rm -f "$(nats_pid_file "$n")"
}

nats_kill() {
    local n=$1 pid
    check_node "$n"
    if pid=$(nats_pid "$n"); then
        say "killing nats-$n (SIGKILL, pid $pid)"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid"
    else
        say "nats-$n not running"
    fi
    rm -f "$(nats_pid_file "$n")"
}

nats_status() {
    local n=$1 pid leader
    local where="nats://127.0.0.1:$(nats_client_port "$n"), monitor http://127.0.0.1:$(nats_monitor_port "$n"), route 127.0.0.1:$(nats_route_port "$n")"
    if pid=$(nats_pid "$n"); then
        if nats_healthy "$n" && leader=$(nats_meta_leader "$n"); then
            echo "nats-$n: running and healthy (pid $pid, $where, meta leader $leader)"
        else
            echo "nats-$n: running but not healthy (pid $pid, $where)"
            return 3
        fi
    else
        echo "nats-$n: stopped ($where)"
        return 3
    fi
}

# --- sds service replicas: `sds serve --only SERVICE` -----------------------------------

check_replica() {
    is_service "$1" || die "no service $1 (there are ${SERVICES[*]})"
    [[ $2 =~ ^[12]$ ]] || die "no replica $2 of $1 (there are 1 and 2)"
}
replica_pid_file() { echo "$PID_DIR/$1-$2.pid"; }
replica_log() { echo "$LOG_DIR/$1-$2.log"; }

replica_pid() {
    local pid
    pid=$(read_pid "$(replica_pid_file "$1" "$2")")
    pid_is "$pid" sds && cmdline_has "$pid" "$1" || return 1
    echo "$pid"
}

replica_healthy() { [[ -x $SDS_BIN ]] && "$SDS_BIN" health --addr "$(grpc_addr "$1" "$2")" >/dev/null 2>&1; }

# The environment of replica $2 of service $1. Each SDS_*_URL takes one URL, so replica i
# of every service calls replica i of the others (on Kubernetes a Service spreads the
# connections over all pods instead).
replica_env() {
    local service=$1 r=$2
    REPLICA_ENV=(
        "SDS_LISTEN_ADDR=$(grpc_addr "$service" "$r")"
        "SDS_HTTP_ADDR=$(http_addr "$service" "$r")"
        "SDS_DATABASE_URL=$DATABASE_URL"
        "SDS_NATS_URL=$NATS_URL"
        "SDS_EVENTS_REPLICAS=3"
        "SDS_JWT_SECRET=$SDS_DEV_JWT_SECRET"
        "SDS_EXPORTS_DIR=$EXPORTS_DIR"
        "SDS_DIRECTORY_URL=http://$(grpc_addr directory "$r")"
        "SDS_ASSESSMENT_URL=http://$(grpc_addr assessment "$r")"
        "SDS_LEDGER_URL=http://$(grpc_addr ledger "$r")"
        "SDS_CONTRACTS_URL=http://$(grpc_addr contracts "$r")"
        "SDS_PAYMENTS_URL=http://$(grpc_addr payments "$r")"
        # A graceful stop (draining requests, then relays and consumers) fits within the
        # 10 s down and `node ... stop` give before SIGKILL.
        "SDS_DRAIN_SECONDS=${SDS_DRAIN_SECONDS:-4}"
        "SDS_RELAY_STOP_SECONDS=${SDS_RELAY_STOP_SECONDS:-4}"
    )
}

# Launches replica $2 of service $1 without waiting for it.
replica_launch() {
    local service=$1 r=$2 pid
    check_replica "$service" "$r"
    [[ -x $SDS_BIN ]] || die "$SDS_BIN is missing: run deploy/cluster/up (it builds), or cargo build --bin sds"
    if pid=$(replica_pid "$service" "$r"); then
        say "$service-$r already running (pid $pid)"
        return 0
    fi
    local pid_file log addr
    pid_file=$(replica_pid_file "$service" "$r")
    log=$(replica_log "$service" "$r")
    addr=$(grpc_addr "$service" "$r")
    if replica_healthy "$service" "$r"; then
        die "something else already serves gRPC on $addr ($service-$r's address), not an sds started from $CLUSTER_STATE"
    fi
    mkdir -p "$PID_DIR" "$LOG_DIR" "$EXPORTS_DIR"
    rm -f "$pid_file"
    replica_env "$service" "$r"
    say "starting $service-$r: gRPC $addr, HTTP $(http_addr "$service" "$r") (log $(rel "$log"))"
    printf '\n=== %s-%s (sds serve --only %s) started by deploy/cluster at %s ===\n' \
        "$service" "$r" "$service" "$(date -Is)" >>"$log"
    # The process writes its own PID just before it becomes sds (exec keeps the PID), so
    # the file is right whether or not setsid had to fork. setsid: its own session, so a
    # Ctrl-C in the terminal does not reach it; fd 9 (the lock) is closed.
    (cd "$ROOT" && exec setsid env "${REPLICA_ENV[@]}" sh -c 'echo $$ >"$0"; exec "$@"' \
        "$pid_file" "$SDS_BIN" serve --only "$service") >>"$log" 2>&1 </dev/null 9>&- &
    disown $! 2>/dev/null || true
    local deadline=$((SECONDS + 5))
    while [[ ! -s $pid_file ]] && (( SECONDS < deadline )); do sleep 0.05; done
    [[ -s $pid_file ]] || die "$service-$r did not start (no PID in $(rel "$pid_file")); see $(rel "$log")"
}

# Waits until replica $2 of service $1 reports SERVING (sds health).
replica_wait() {
    local service=$1 r=$2 deadline=$((SECONDS + DEADLINE_SECONDS)) pid log
    pid=$(read_pid "$(replica_pid_file "$service" "$r")")
    log=$(replica_log "$service" "$r")
    until replica_healthy "$service" "$r"; do
        if ! pid_alive "$pid"; then
            log_tail "$log"
            rm -f "$(replica_pid_file "$service" "$r")"
            die "$service-$r exited (log tail above, full log $(rel "$log"))"
        fi
        if (( SECONDS >= deadline )); then
            log_tail "$log"
            die "$service-$r (pid $pid) did not report SERVING within ${DEADLINE_SECONDS}s (log tail above, full log $(rel "$log"))"
        fi
        sleep 0.3
    done
}

replica_start() { replica_launch "$1" "$2" && replica_wait "$1" "$2" && say "$1-$2 is SERVING (pid $(replica_pid "$1" "$2"))"; }

replica_stop() {
    local service=$1 r=$2 pid
    check_replica "$service" "$r"
    if pid=$(replica_pid "$service" "$r"); then
        say "stopping $service-$r (pid $pid)"
        stop_pids "$pid"
    else
        say "$service-$r not running"
    fi
    rm -f "$(replica_pid_file "$service" "$r")"
}

replica_kill() {
    local service=$1 r=$2 pid
    check_replica "$service" "$r"
    if pid=$(replica_pid "$service" "$r"); then
        say "killing $service-$r (SIGKILL, pid $pid)"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid"
    else
        say "$service-$r not running"
    fi
    rm -f "$(replica_pid_file "$service" "$r")"
}

replica_status() {
    local service=$1 r=$2 pid
    local where="gRPC $(grpc_addr "$service" "$r"), HTTP $(http_addr "$service" "$r")"
    if pid=$(replica_pid "$service" "$r"); then
        if replica_healthy "$service" "$r"; then
            echo "$service-$r: running and SERVING (pid $pid, $where)"
        elif [[ ! -x $SDS_BIN ]]; then
            echo "$service-$r: running (pid $pid, $where); health unknown: $SDS_BIN is missing"
            return 3
        else
            echo "$service-$r: running but not SERVING (pid $pid, $where; see $(rel "$(replica_log "$service" "$r")"))"
            return 3
        fi
    else
        echo "$service-$r: stopped ($where)"
        return 3
    fi
}

# --- the streams ---------------------------------------------------------------------

# One line on JetStream stream $1 (SDS_EVENTS, SDS_WORK) as its leader sees it (asking
# node $2 first, 1 by default): replicas, messages, leader, followers and whether they are
# current. Needs jq for the details.
stream_summary() {
    local stream=$1 node=${2:-1} body leader
    local query='/jsz?accounts=true&streams=true&config=true'
    body=$(http_get "$(nats_monitor_port "$node")" "$query")
    if ! command -v jq >/dev/null 2>&1; then
        local replicas
        replicas=$(printf '%s' "$body" | tr -d '\n ' | grep -o "\"name\":\"$stream\"[^]]*" | grep -o '"num_replicas":[0-9]*' | head -n1 | cut -d: -f2)
        if [[ -n $replicas ]]; then echo "$stream: $replicas replicas"; else echo "$stream: not found (or jq is missing to read it)"; fi
        return 0
    fi
    local pick="[.account_details[]?.stream_detail[]? | select(.name == \"$stream\")][0]"
    # Only the leader knows whether its followers are current: ask it when it is another node.
    leader=$(printf '%s' "$body" | jq -r "$pick | .cluster.leader // empty" 2>/dev/null || true)
    if [[ $leader =~ ^sds-nats-([123])$ && ${BASH_REMATCH[1]} != "$node" ]]; then
        local from_leader
        from_leader=$(http_get "$(nats_monitor_port "${BASH_REMATCH[1]}")" "$query")
        [[ -z $from_leader ]] || body=$from_leader
    fi
    printf '%s' "$body" | jq -r "$pick"' |
        if . == null then "'"$stream"': not created yet"
        else "'"$stream"': \(.config.num_replicas) replicas (\(.config.storage)), \(.state.messages) messages, leader \(.cluster.leader // "none"), followers \([.cluster.replicas[]? | "\(.name) (\(if .current then "current" else "behind" end))"] | join(", "))"
        end' 2>/dev/null || echo "$stream: unknown (nats-$node's monitor did not answer)"
}
