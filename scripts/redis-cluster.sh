#!/usr/bin/env bash
# A local Redis Cluster for tests and CI: 6 nodes (3 masters, 3 replicas) of the machine's
# redis-server on ports BASE..BASE+5, no persistence, in a temporary directory.
#
#   scripts/redis-cluster.sh start [BASE]   # default 7000; prints the seed list
#   scripts/redis-cluster.sh stop [BASE]
#
# Tests that need a cluster read TEST_REDIS_CLUSTER_NODES (the printed seed list), e.g.
#   export TEST_REDIS_CLUSTER_NODES=$(scripts/redis-cluster.sh start)
set -euo pipefail
cmd=${1:-start}
base=${2:-7000}
dir=${REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/wce-redis-cluster-$base}
ports=$(seq "$base" $((base + 5)))

stop() {
  for port in $ports; do
    if [ -f "$dir/$port/redis.pid" ]; then
      kill "$(cat "$dir/$port/redis.pid")" 2>/dev/null || true
    fi
  done
  for port in $ports; do
    for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 || break; sleep 0.1; done
  done
  rm -rf "$dir"
}

seeds() {
  local list=""
  for port in $ports; do list="$list${list:+,}127.0.0.1:$port"; done
  echo "$list"
}

case "$cmd" in
  start)
    if redis-cli -p "$base" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then seeds; exit 0; fi
    stop
    for port in $ports; do
      mkdir -p "$dir/$port"
      redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" \
        --cluster-node-timeout 2000 --save "" --appendonly no --dir "$dir/$port" --daemonize yes \
        --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" --maxmemory-policy noeviction >/dev/null
    done
    for port in $ports; do
      for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    done
    # shellcheck disable=SC2046
    redis-cli --cluster create $(for port in $ports; do printf '127.0.0.1:%s ' "$port"; done) --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1
    for _ in $(seq 1 100); do
      ok=1
      for port in $ports; do redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' || ok=0; done
      [ "$ok" = 1 ] && break
      sleep 0.2
    done
    [ "$ok" = 1 ] || { echo "the cluster did not become ready; see $dir" >&2; exit 1; }
    seeds
    ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [base-port]" >&2; exit 2 ;;
esac
