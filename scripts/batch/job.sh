#!/bin/bash
# One job of a round, as every engine runs it (round.sh, GNU parallel, a
# Slurm array task). Each job writes only files of its own under OUT:
#
#	job.sh trace N      runs/run-NNNN.arrows and .log   (one traced run)
#	job.sh track K S    shards/shard-K.arrows and .log  (runs N with N % S == K)
#	job.sh inject ID    inject/ID.arrows, .json (its result line), .log
#
# Environment: OUT (the round's folder), BIN (the tools, absolute), SYSTEM
# (the system file: pain-trace's system flags, one argument per line).
# Exit 0 when the job did its work, whatever the system's check said (and
# then done/PHASE-ARG exists, so an engine that loses exit statuses still
# tells what failed); another status on a tool error (see the job's .log).
set -euo pipefail
: "${OUT:?OUT is not set}" "${BIN:?BIN is not set}" "${SYSTEM:?SYSTEM is not set}"
export BIN
system=()
while IFS= read -r line || [ -n "$line" ]; do
	case $line in '' | '#'*) continue ;; esac
	system+=("$line")
done <"$SYSTEM"

# ok runs a tool; its exit statuses 0 (passed), 1 (the check failed: a
# finding) and 3 (a plan that never fired) are results, not job failures.
ok() {
	local status=0
	"$@" || status=$?
	case $status in 0 | 1 | 3) return 0 ;; esac
	return "$status"
}

case ${1:-} in
trace)
	run=$(printf 'run-%04d' "$2")
	ok "$BIN/pain-trace" -run "$run" -o "$OUT/runs/$run.arrows" "${system[@]}" 2>"$OUT/runs/$run.log"
	;;
track)
	files=()
	for f in "$OUT"/runs/run-*.arrows; do
		n=${f##*/run-}
		n=$((10#${n%.arrows}))
		[ $((n % $3)) = "$2" ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || exit 0
	"$BIN/pain-track" -o "$OUT/shards/shard-$2.arrows" "${files[@]}" >/dev/null 2>"$OUT/shards/shard-$2.log"
	;;
inject)
	# The result line is written whole or not at all.
	ok "$BIN/pain-inject" -plan "$OUT/plans.jsonl" -id "$2" -o "$OUT/inject/$2.arrows" "${system[@]}" \
		>"$OUT/inject/$2.json.tmp" 2>"$OUT/inject/$2.log"
	mv "$OUT/inject/$2.json.tmp" "$OUT/inject/$2.json"
	;;
*)
	echo "usage: job.sh trace N | track K S | inject ID" >&2
	exit 2
	;;
esac
mkdir -p "$OUT/done"
: >"$OUT/done/$1-$2"
