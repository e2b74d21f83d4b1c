# Process helpers shared by infra.sh and common.sh (sourced, not run).
# shellcheck shell=bash

pid_alive() { # alive and not a zombie waiting to be reaped
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
    if [[ -r /proc/$1/stat ]]; then
        local state
        state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || true
        [[ $state != Z ]]
    fi
}

pid_is() { # pid_is PID NAME: is PID alive and running program NAME?
    pid_alive "$1" && [[ -r /proc/$1/comm ]] && [[ $(cat "/proc/$1/comm") == "$2"* ]]
}

read_pid() { # the PID recorded in file $1, or nothing
    if [[ -s $1 ]]; then head -n1 "$1" | tr -dc '0-9'; fi
}
