#!/bin/sh
# native.sh DIR [PAUSE_AT PAUSE_FOR]: runs the Redis system of gen.sh without
# the tracer, timing each step: start until ready, workload, check, stop.
#
# With PAUSE_AT and PAUSE_FOR (e.g. 50 4), the workload writes slowly
# (GAP between keys, default 20ms) and, once PAUSE_AT keys are acknowledged,
# the primary is stopped (SIGSTOP) for PAUSE_FOR seconds and continued: the
# Sentinels promote a replica meanwhile, the resumed old primary acknowledges
# the writes still coming to it, and the check must find them lost (exit 1).
# With FAULT=kill the primary is killed instead (SIGKILL, PAUSE_FOR unused):
# the replicas already have every acknowledged write, so the check passes.
#
# Exit status: the check's. The environment is passed to gen.sh (PORT, SPORT,
# RWL, ...); WL_EXTRA is appended to the workload's command. Every process started here is stopped by PID on exit.
set -u
[ $# -eq 1 ] || [ $# -eq 3 ] || { echo "usage: native.sh DIR [PAUSE_AT PAUSE_FOR]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
"$here/gen.sh" "$1" || exit 2
. "$1/system.sh"
WORKLOAD="$WORKLOAD ${WL_EXTRA:-}"

pids=""
primary_pid=""
cleanup() {
	[ -z "$primary_pid" ] || kill -CONT "$primary_pid" 2>/dev/null
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		alive=""
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	pids=""
}
trap cleanup EXIT
trap 'exit 2' INT TERM

for port in $PORTS; do
	if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
		echo "native.sh: port $port is in use" >&2
		exit 2
	fi
done

now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.2fs", $1 - $2}'; }

t0=$(now)
while IFS= read -r line; do
	name=${line%%:*}
	cmd=${line#*: }
	sh -c "$cmd" &
	pids="$pids $!"
	[ "$name" = primary ] && primary_pid=$!
done <"$PROCFILE"
sh -c "$READY" || { echo "native.sh: not ready" >&2; exit 2; }
echo "native: start+ready $(since "$t0")" >&2

t1=$(now)
if [ $# -eq 3 ]; then
	sh -c "$WORKLOAD -gap ${GAP:-20ms}" &
	wl=$!
	until [ "$( (wc -l <"$1/acked.txt") 2>/dev/null || echo 0)" -ge "$2" ]; do sleep 0.01; done
	if [ "${FAULT:-stop}" = kill ]; then
		kill -KILL "$primary_pid"
		echo "native: primary (pid $primary_pid) killed after $2 acknowledged writes" >&2
	else
		kill -STOP "$primary_pid"
		echo "native: primary (pid $primary_pid) stopped after $2 acknowledged writes, for $3s" >&2
		sleep "$3"
		kill -CONT "$primary_pid"
		echo "native: primary continued" >&2
	fi
	wait "$wl"
else
	sh -c "$WORKLOAD"
fi
echo "native: workload $(since "$t1")" >&2

t2=$(now)
sh -c "$CHECK"
status=$?
echo "native: check $(since "$t2") (exit $status)" >&2

t3=$(now)
cleanup
echo "native: stop $(since "$t3"); total $(since "$t0")" >&2
exit $status
