# Shared by deploy/local/up, down and status (sourced, not run).
# shellcheck shell=bash disable=SC2034

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
DEV_STATE=.local/dev
DEV_PG_PORT=55432
DEV_NATS_PORT=54222
DEV_NATS_MONITOR_PORT=58222
SDS_DEV_ADDR=127.0.0.1:50051
SDS_DEV_HTTP_ADDR=127.0.0.1:8080
# The demo's clock file (present only while sds demo seed lays the history down) and the
# demo's ids (written once by it).
DEMO_CLOCK=$DEV_STATE/demo-clock
DEMO_ENV=$DEV_STATE/demo.env
SDS_DEV_JWT_SECRET=local-development-secret-change-me
SDS_PID_FILE=$DEV_STATE/pids/sds.pid
SDS_LOG=$DEV_STATE/sds.log

# SDS_PROFILE=release builds and runs the release binary; anything else means debug.
if [[ ${SDS_PROFILE:-debug} == release ]]; then
    PROFILE_DIR=release
    CARGO_PROFILE_ARGS=(--release)
else
    PROFILE_DIR=debug
    CARGO_PROFILE_ARGS=()
fi
TARGET_DIR=${CARGO_TARGET_DIR:-target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
SDS_BIN_DIR=$TARGET_DIR/$PROFILE_DIR
SDS_BIN=$SDS_BIN_DIR/sds

# shellcheck source=deploy/local/pids.sh
source "$ROOT/deploy/local/pids.sh"

# The PID of a running `sds` recorded in the PID file, or nothing.
sds_pid() {
    local pid
    [[ -s $SDS_PID_FILE ]] || return 1
    pid=$(read_pid "$SDS_PID_FILE")
    pid_is "$pid" sds || return 1
    printf '%s\n' "$pid"
}

sds_healthy() {
    [[ -x $SDS_BIN ]] && SDS_ADDR=$SDS_DEV_ADDR "$SDS_BIN" health >/dev/null 2>&1
}
