#!/bin/sh
# make bench's real-network part: a fresh 3-node cluster on loopback (ports 17301-17303 and
# 17401-17403), this disk's fsyncs per second beside write and read throughput and latency for
# 1, 16 and 64 concurrent clients, and batched writes (/batch of 16 puts), which must beat one
# fsync per write. Wall-clock numbers of this machine; nothing here is a test.
set -u
build=${1:-build}
dir=$(mktemp -d /tmp/raftkv-bench-XXXXXX)
export RAFTKV="$build/raftkv" RAFTKV_CLIENT="$build/raftkv-client" RAFT_PORT0=17301 \
    HTTP_PORT0=17401
nodes="127.0.0.1:17401,127.0.0.1:17402,127.0.0.1:17403"
trap 'sh net/cluster.sh stop "$dir" >/dev/null; rm -rf "$dir"' EXIT
sh net/cluster.sh start "$dir" >/dev/null || exit 1
echo "== raftkv on loopback (3 nodes, data in $dir)"
"$RAFTKV_CLIENT" fsync-rate "$dir" 1
for c in 1 16 64; do
    n=$((c * 40 < 300 ? 300 : c * 40))
    echo "-- $c clients, writes (PUT)"
    "$RAFTKV_CLIENT" --nodes "$nodes" load --requests $n --clients $c --writes 100 | tail -2
    echo "-- $c clients, reads (GET)"
    "$RAFTKV_CLIENT" --nodes "$nodes" load --requests $n --clients $c --writes 0 | tail -2
done
echo "-- 16 clients, batched writes (POST /batch, 16 puts each)"
"$RAFTKV_CLIENT" --nodes "$nodes" load --requests 400 --clients 16 --writes 100 --batch 16 | tail -2
