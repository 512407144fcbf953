#!/bin/sh
# aof.sh: the body of `make redis-aof`. One Redis 7 server (Debian's
# redis-server) with its append-only file in the run's folder
# ($PAIN_RUN_DIR/redis), once per fsync policy: `appendfsync everysec`
# (replies go out before the AOF is synced; a background thread syncs about
# once a second) and `appendfsync always` (fdatasync before the reply). For
# each: RUNS traced runs of rediswl writing KEYS keys (-server, no
# Sentinels), pain-track, pain-plan -restart 1ms (a node that lost power is
# back before the check asks), the top PLANS plans injected once each; with
# `always`, also a power loss just after the workload's 10th
# acknowledgement, written by hand (the traces give no plan for it: no write
# is ever unsynced at a reply). Prints one line per plan: mode, plan in
# words, verdict, and what the check said. Everything lands under OUT.
#
# Environment (defaults): RUNS=3 PLANS=6 KEYS=20 OUT=out/redis-aof BIN=bin PORT=7479
set -eu
RUNS=${RUNS:-3}
PLANS=${PLANS:-6}
KEYS=${KEYS:-20}
OUT=${OUT:-out/redis-aof}
BIN=${BIN:-bin}
PORT=${PORT:-7479}
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "redis-aof: $*" >&2; }
die() { say "$*"; exit 2; }

command -v redis-server >/dev/null 2>&1 || die "redis-server missing: apt-get install redis-server (or make deps)"
command -v jq >/dev/null 2>&1 || die "jq missing"
mkdir -p "$BIN"
BIN=$(cd "$BIN" && pwd)
(cd "$here" && go build -o "$BIN/rediswl" ./rediswl) || die "cannot build rediswl"
for t in pain-trace pain-track pain-plan pain-inject; do
	[ -x "$BIN/$t" ] || die "$BIN/$t missing: run make build"
done
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# system MODE DIR: the Procfile and the flags of every run of that mode.
system() {
	cat >"$2/Procfile" <<EOF
redis: mkdir -p "\$PAIN_RUN_DIR/redis" && exec redis-server --port $PORT --bind 127.0.0.1 --dir "\$PAIN_RUN_DIR/redis" --appendonly yes --appendfsync $1 --save "" --daemonize no --logfile ""
EOF
}
flags() { # DIR: the flags every run of a mode shares
	echo "-f $1/Procfile -timeout 30s"
}

for mode in everysec always; do
	dir="$OUT/$mode"
	mkdir -p "$dir"
	system "$mode" "$dir"
	wl() { echo "$BIN/rediswl write -server 127.0.0.1:$PORT -n $KEYS -acked $1 -settle 2s"; }
	ck() { echo "$BIN/rediswl check -server 127.0.0.1:$PORT -acked $1 -settle 5s"; }
	for n in $(seq "$RUNS"); do
		"$BIN/pain-trace" -run "run-$n" -o "$dir/run-$n.arrows" $(flags "$dir") \
			-w "$(wl "$dir/acked-run-$n.txt")" -check "$(ck "$dir/acked-run-$n.txt")" 2>"$dir/run-$n.err" ||
			die "$mode run $n: pain-trace failed: $(tail -n1 "$dir/run-$n.err")"
	done
	"$BIN/pain-track" -o "$dir/schedules.arrows" "$dir"/run-*.arrows 2>"$dir/track.err" >/dev/null
	"$BIN/pain-plan" -o "$dir/plans.jsonl" -max "$PLANS" -restart 1ms "$dir/schedules.arrows"
	if [ "$mode" = always ]; then
		# The workload's 10th acknowledgement, by its read's seq in run 1.
		seq=$("$BIN/pain-trace" -r "$dir/run-1.arrows" 2>/dev/null |
			awk '$2=="workload" && $5=="read" && /redis:listen0/ && !/ret=0 / {n++; if (n==10) {sub("#","",$4); print $4; exit}}')
		[ -n "$seq" ] && jq -cn --argjson seq "$seq" '{v:3, id:"hand-powerloss", faults:[{kind:"powerloss",
			target:{node:"redis"}, after:{node:"workload", thread:"main", seq:$seq, syscall:"read"}, restart:true, duration:"1ms"}],
			why:"by hand: power loss of redis just after the workload'"'"'s 10th acknowledgement", evidence:{runs:0, of_runs:0, support:0}}' \
			>>"$dir/plans.jsonl"
	fi
	"$BIN/pain-plan" -r "$dir/plans.jsonl" >"$dir/plans.txt"
	for id in $(jq -r .id "$dir/plans.jsonl"); do
		status=0
		"$BIN/pain-inject" -plan "$dir/plans.jsonl" -id "$id" -o "$dir/inject-$id.arrows" $(flags "$dir") \
			-w "$(wl "$dir/acked-$id.txt")" -check "$(ck "$dir/acked-$id.txt")" \
			>>"$dir/results.jsonl" 2>"$dir/inject-$id.err" || status=$?
		[ "$status" -le 1 ] || say "$mode $id: pain-inject exit $status: $(tail -n1 "$dir/inject-$id.err")"
		words=$("$BIN/pain-plan" -r "$dir/plans.jsonl" -id "$id" | head -n1 | cut -d' ' -f2-)
		verdict=$(tail -n1 "$dir/results.jsonl" | jq -r .verdict)
		check=$(grep '^check:' "$dir/inject-$id.err" | tail -n1)
		printf '%s\t%s\t%s\t%s\n' "$mode" "$verdict" "$words" "$check"
	done
done
