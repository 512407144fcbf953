#!/bin/sh
# gen.sh DIR: writes a fresh Redis system into DIR (wiping what was there):
# one primary, two replicas and three Sentinels on loopback, their configs and
# data folders, DIR/Procfile, and DIR/system.sh, which sets READY, WORKLOAD and
# CHECK (commands for pain-trace -ready, -w and -check) and PORTS.
#
# Every run gets its own DIR because Sentinels rewrite their config files and
# a primary that failed over must not come back with the old role.
#
# Environment (defaults):
#   PORT=7379         primary; replicas use PORT+1, PORT+2
#   SPORT=27379       Sentinels use SPORT, SPORT+1, SPORT+2
#   RWL=bin/rediswl   the client (scripts/redis/rediswl), absolute or relative to the cwd
#   KEYS=100          keys the workload writes
#   DOWN_AFTER=2000   sentinel down-after-milliseconds
#   FAILOVER_TIMEOUT=3000 sentinel failover-timeout (ms)
#   SETTLE=20s        how long workload and check wait for the Sentinels to settle
#   QUIET=DOWN_AFTER+1500ms   how long the check waits before it reads: a
#                     primary cut off while the workload wrote to it has been
#                     failed over by then
# The replicas start once the primary's log says it accepts connections, and
# the Sentinels once both replicas' logs say their first sync finished: so no
# replica's first connect is refused (a retry would shift the names of its
# sockets, replica1:main:s2 becoming s9, and plans pinned to them would not
# fire), and the order of sockets (and their stable names) is the same in
# every run. Waiting on log files, not on the ports, keeps the waits out of
# the traced traffic.
# Servers bind with SO_REUSEADDR, so ports left in TIME_WAIT by the previous run
# can be reused at once; a port still listening means a process survived.
set -eu
[ $# -eq 1 ] || { echo "usage: gen.sh DIR" >&2; exit 2; }
PORT=${PORT:-7379}
SPORT=${SPORT:-27379}
RWL=${RWL:-bin/rediswl}
KEYS=${KEYS:-100}
DOWN_AFTER=${DOWN_AFTER:-2000}
FAILOVER_TIMEOUT=${FAILOVER_TIMEOUT:-3000}
SETTLE=${SETTLE:-20s}
QUIET=${QUIET:-$((DOWN_AFTER + 1500))ms}

mkdir -p "$1"
dir=$(cd "$1" && pwd)
case "$RWL" in /*) ;; *) RWL=$(cd "$(dirname "$RWL")" && pwd)/$(basename "$RWL") ;; esac
case "$dir" in *[!A-Za-z0-9_./+-]*) echo "gen.sh: $dir: use a path without spaces or shell characters" >&2; exit 2 ;; esac

rm -rf "$dir/primary" "$dir/replica1" "$dir/replica2" "$dir/sentinel1" "$dir/sentinel2" "$dir/sentinel3" \
	"$dir"/*.conf "$dir"/*.log "$dir/acked.txt"

server() { # name port [primary-port]
	mkdir -p "$dir/$1"
	cat >"$dir/$1.conf" <<EOF
bind 127.0.0.1
port $2
daemonize no
protected-mode no
dir $dir/$1
logfile $dir/$1.log
save ""
appendonly no
repl-diskless-sync yes
repl-diskless-sync-delay 0
repl-diskless-load disabled
EOF
	[ $# -lt 3 ] || echo "replicaof 127.0.0.1 $3" >>"$dir/$1.conf"
}

# Sentinel ids are fixed and every Sentinel is told about the replicas and
# the other Sentinels up front: no waiting for hello messages (every 2s) or
# the primary's INFO (every 10s) before a failover is possible, and the
# same ids in every run.
sid() { printf '%040d' "$1"; }
sentinel() { # k
	p=$((SPORT + $1 - 1))
	mkdir -p "$dir/sentinel$1"
	{
		cat <<EOF
bind 127.0.0.1
port $p
daemonize no
protected-mode no
dir $dir/sentinel$1
logfile $dir/sentinel$1.log
sentinel myid $(sid "$1")
sentinel monitor mymaster 127.0.0.1 $PORT 2
sentinel down-after-milliseconds mymaster $DOWN_AFTER
sentinel failover-timeout mymaster $FAILOVER_TIMEOUT
sentinel parallel-syncs mymaster 2
sentinel known-replica mymaster 127.0.0.1 $((PORT + 1))
sentinel known-replica mymaster 127.0.0.1 $((PORT + 2))
EOF
		for k in 1 2 3; do
			[ "$k" = "$1" ] || echo "sentinel known-sentinel mymaster 127.0.0.1 $((SPORT + k - 1)) $(sid "$k")"
		done
	} >"$dir/sentinel$1.conf"
}

server primary "$PORT"
server replica1 $((PORT + 1)) "$PORT"
server replica2 $((PORT + 2)) "$PORT"
sentinel 1
sentinel 2
sentinel 3

up="until grep -qs 'Ready to accept connections' $dir/primary.log; do sleep 0.05; done"
synced="until grep -qs 'sync: Finished with success' $dir/replica1.log && grep -qs 'sync: Finished with success' $dir/replica2.log; do sleep 0.05; done"
cat >"$dir/Procfile" <<EOF
primary: exec redis-server $dir/primary.conf
replica1: $up; exec redis-server $dir/replica1.conf
replica2: $up; exec redis-server $dir/replica2.conf
sentinel1: $synced; exec redis-sentinel $dir/sentinel1.conf
sentinel2: $synced; exec redis-sentinel $dir/sentinel2.conf
sentinel3: $synced; exec redis-sentinel $dir/sentinel3.conf
EOF

s="127.0.0.1:$SPORT,127.0.0.1:$((SPORT + 1)),127.0.0.1:$((SPORT + 2))"
cat >"$dir/system.sh" <<EOF
# Written by scripts/redis/gen.sh; source it.
PROCFILE='$dir/Procfile'
READY='exec $RWL ready -sentinels $s'
WORKLOAD='exec $RWL write -sentinels $s -n $KEYS -settle $SETTLE -acked $dir/acked.txt'
CHECK='exec $RWL check -sentinels $s -quiet $QUIET -settle $SETTLE -acked $dir/acked.txt'
PORTS='$PORT $((PORT + 1)) $((PORT + 2)) $SPORT $((SPORT + 1)) $((SPORT + 2))'
EOF
