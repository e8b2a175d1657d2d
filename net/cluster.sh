#!/bin/sh
# A 3-node raftkv cluster on loopback, for the README's quick start and `make bench`.
#   sh net/cluster.sh start [DIR]   start it (data and logs in DIR, default /tmp/raftkv-cluster)
#   sh net/cluster.sh stop [DIR]    SIGTERM every node and wait for each to exit
# Raft listens on 127.0.0.1:RAFT_PORT0+0..2 (default 7001-7003), HTTP on HTTP_PORT0+0..2
# (default 8001-8003). RAFTKV and RAFTKV_CLIENT name the binaries (default build/...).
set -u
cmd=${1:-}
dir=${2:-/tmp/raftkv-cluster}
bin=${RAFTKV:-build/raftkv}
client=${RAFTKV_CLIENT:-build/raftkv-client}
raft0=${RAFT_PORT0:-7001}
http0=${HTTP_PORT0:-8001}
peers="127.0.0.1:$raft0,127.0.0.1:$((raft0 + 1)),127.0.0.1:$((raft0 + 2))"
nodes="127.0.0.1:$http0,127.0.0.1:$((http0 + 1)),127.0.0.1:$((http0 + 2))"

case "$cmd" in
start)
    [ -x "$bin" ] || { echo "cluster.sh: no $bin (run make first)" >&2; exit 1; }
    for i in 0 1 2; do
        if [ -f "$dir/node$i.pid" ] && kill -0 "$(cat "$dir/node$i.pid")" 2>/dev/null; then
            echo "cluster.sh: node $i already runs (pid $(cat "$dir/node$i.pid"))" >&2; exit 1
        fi
    done
    for i in 0 1 2; do
        mkdir -p "$dir/node$i"
        "$bin" --id $i --peers "$peers" --http "127.0.0.1:$((http0 + i))" \
            --data-dir "$dir/node$i" </dev/null >>"$dir/node$i.log" 2>&1 &
        echo $! > "$dir/node$i.pid"
    done
    # Bounded: 50 tries, 0.2 s apart.
    n=0
    while [ $n -lt 50 ]; do
        if "$client" --nodes "$nodes" --timeout-ms 1000 health >/dev/null 2>&1; then
            echo "cluster up: HTTP on $nodes (logs in $dir)"
            exit 0
        fi
        sleep 0.2
        n=$((n + 1))
    done
    echo "cluster.sh: no leader after 10 s; see $dir/node*.log" >&2
    exit 1
    ;;
stop)
    for i in 0 1 2; do
        [ -f "$dir/node$i.pid" ] && kill -TERM "$(cat "$dir/node$i.pid")" 2>/dev/null
    done
    for i in 0 1 2; do
        [ -f "$dir/node$i.pid" ] || continue
        pid=$(cat "$dir/node$i.pid")
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        rm -f "$dir/node$i.pid"
    done
    echo "cluster stopped (data kept in $dir)"
    ;;
*)
    echo "usage: sh net/cluster.sh start|stop [DIR]" >&2
    exit 2
    ;;
esac
