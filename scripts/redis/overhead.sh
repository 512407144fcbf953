#!/bin/sh
# overhead.sh: the tracing overhead on Redis with Sentinel. Times the
# workload (rediswl write: look up the primary, write KEYS keys, wait for the
# Sentinels to settle; measured inside the client with -elapsed) with the
# whole system running
#   native      untraced (scripts/redis/native.sh),
#   pain-trace  every node traced by bin/pain-trace,
#   strace      every node traced by strace -f --seccomp-bpf with the same
#               kind of filter (network, read, write, close), output discarded,
# interleaved in one run, REPS times each, and prints the medians and the
# ratios to native.
#
# Environment (defaults): REPS=5 KEYS="100 1000" BIN=bin OUT=out/redis-overhead
# and what gen.sh takes (PORT, SPORT, ...).
set -eu
REPS=${REPS:-5}
KEYS_LIST=${KEYS:-100 1000}
BIN=${BIN:-bin}
OUT=${OUT:-out/redis-overhead}
here=$(cd "$(dirname "$0")" && pwd)
FILTER=trace=network,read,write,close

command -v redis-server >/dev/null 2>&1 || { echo "overhead.sh: redis-server missing (make redis installs it)" >&2; exit 2; }
command -v strace >/dev/null 2>&1 || { echo "overhead.sh: strace missing (make deps)" >&2; exit 2; }
[ -x "$BIN/pain-trace" ] || { echo "overhead.sh: $BIN/pain-trace missing (make build)" >&2; exit 2; }
BIN=$(cd "$BIN" && pwd)
(cd "$here" && go build -o "$BIN/rediswl" ./rediswl)
export RWL="$BIN/rediswl"
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# one MODE KEYS DIR: runs the system once, leaves the workload's time in DIR.ns.
one() {
	export KEYS="$2"
	case $1 in
	native)
		WL_EXTRA="-elapsed $3.ns" "$here/native.sh" "$3" >"$3.log" 2>&1
		;;
	strace)
		WL_EXTRA="-elapsed $3.ns" strace -f --seccomp-bpf -e "$FILTER" -o /dev/null \
			"$here/native.sh" "$3" >"$3.log" 2>&1
		;;
	pain-trace)
		"$here/gen.sh" "$3"
		(
			. "$3/system.sh"
			"$BIN/pain-trace" -o "$3.arrows" -f "$PROCFILE" -ready "$READY" -w "$WORKLOAD -elapsed $3.ns" \
				-check "$CHECK" >"$3.log" 2>&1
		)
		;;
	esac
}

for keys in $KEYS_LIST; do
	for r in $(seq "$REPS"); do
		for mode in native pain-trace strace; do
			dir="$OUT/$mode-$keys-$r"
			if ! one "$mode" "$keys" "$dir" || [ ! -s "$dir.ns" ]; then
				echo "overhead.sh: $mode run $r with $keys keys failed; see $dir.log" >&2
				exit 1
			fi
			echo "overhead: $keys keys, $mode, run $r: $(awk '{printf "%.1f ms", $1 / 1e6}' "$dir.ns")" >&2
		done
	done
done

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "workload time (median of $REPS, ms): one rediswl write against 1 primary, 2 replicas, 3 Sentinels"
printf '%-6s %10s %12s %10s %12s %10s\n' keys native pain-trace ratio strace ratio
for keys in $KEYS_LIST; do
	n=$(cat "$OUT"/native-"$keys"-*.ns | median)
	p=$(cat "$OUT"/pain-trace-"$keys"-*.ns | median)
	s=$(cat "$OUT"/strace-"$keys"-*.ns | median)
	echo "$keys $n $p $s" | awk '{printf "%-6s %10.1f %12.1f %9.2fx %12.1f %9.2fx\n", $1, $2 / 1e6, $3 / 1e6, $3 / $2, $4 / 1e6, $4 / $2}'
done
