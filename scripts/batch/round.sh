#!/bin/bash
# A whole round of the pipeline through a batch engine: trace RUNS runs,
# track them, plan, inject at most PLANS plans, gather the results.
#
#	ENGINE=parallel JOBS=2 OUT=out/round BIN=$PWD/bin SYSTEM=scripts/batch/kvstore.args \
#		scripts/batch/round.sh
#
# ENGINE is serial (one job after another, tracking all runs at once: the
# reference), parallel (GNU parallel; SSHLOGIN spreads the jobs over
# machines, see README.md) or slurm (one job array per phase on the cluster
# that SLURM_CONF or the default configuration names). JOBS bounds the jobs
# running at once; the batch engines track SHARDS shards (default JOBS) and
# merge them. Every job writes its own files (job.sh); stdout gets the
# schedules, the plans and the verdicts, stderr the progress and timings.
set -euo pipefail

ENGINE=${ENGINE:-parallel}
JOBS=${JOBS:-2}
RUNS=${RUNS:-20}
PLANS=${PLANS:-20}
SHARDS=${SHARDS:-$JOBS}
OUT=${OUT:-out/round}
BIN=${BIN:-$PWD/bin}
SYSTEM=${SYSTEM:-scripts/batch/kvstore.args}
JOB=$(cd "$(dirname "$0")" && pwd)/job.sh

say() { printf 'round: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 2
}
case $ENGINE in serial | parallel | slurm) ;; *) die "ENGINE must be serial, parallel or slurm, not $ENGINE" ;; esac
[ -r "$SYSTEM" ] || die "$SYSTEM: no such system file"
[ -x "$BIN/pain-trace" ] || die "$BIN/pain-trace: not built (make build)"
BIN=$(cd "$BIN" && pwd)
export OUT BIN SYSTEM JOB

rm -rf "$OUT"
mkdir -p "$OUT/runs" "$OUT/shards" "$OUT/inject" "$OUT/lists" "$OUT/slurm" "$OUT/done"

# batch PHASE LIST EXTRA...: job.sh PHASE ITEM EXTRA for every line ITEM of
# LIST, through the engine, then checks that every job said it was done.
batch() {
	local phase=$1 list=$2
	shift 2
	case $ENGINE in
	serial)
		while read -r item; do "$JOB" "$phase" "$item" "$@" || true; done <"$list"
		;;
	parallel)
		local remote=()
		if [ -n "${SSHLOGIN:-}" ]; then
			remote=(--sshlogin "$SSHLOGIN" --workdir "$PWD" --env OUT --env BIN --env SYSTEM --env JOB)
		fi
		parallel --will-cite -j "$JOBS" "${remote[@]}" "$JOB" "$phase" {} "$@" :::: "$list" || true
		;;
	slurm)
		local n id
		n=$(grep -c . "$list")
		id=$(sbatch --parsable --array="1-$n%$JOBS" --chdir="$PWD" -o "$OUT/slurm/$phase-%a.out" \
			"$(dirname "$JOB")/slurm.sbatch" "$phase" "$list" "$@")
		id=${id%%;*}
		# Wait until the array has left the queue (sbatch --wait polls slowly).
		while [ -n "$(squeue -h -j "$id" -o %i 2>/dev/null)" ]; do sleep 0.2; done
		;;
	esac
	local failed=0
	while read -r item; do
		if [ ! -e "$OUT/done/$phase-$item" ]; then
			say "job $phase $item failed: see its .log under $OUT"
			failed=$((failed + 1))
		fi
	done <"$list"
	[ "$failed" = 0 ] || die "$failed $phase jobs failed"
}

now() { echo "$EPOCHREALTIME"; }
# rate N T0 T1: "N in S s (R per minute)"
rate() { awk -v n="$1" -v t0="$2" -v t1="$3" 'BEGIN { t = t1 - t0; printf "%d in %.1f s (%.1f per minute)", n, t, 60 * n / t }'; }
secs() { awk -v t0="$1" -v t1="$2" 'BEGIN { printf "%.1f", t1 - t0 }'; }

say "engine $ENGINE, $JOBS jobs at once; system $SYSTEM; tracing $RUNS runs into $OUT/runs/"
seq 1 "$RUNS" >"$OUT/lists/trace"
t0=$(now)
batch trace "$OUT/lists/trace"
t1=$(now)
say "traced $(rate "$RUNS" "$t0" "$t1")"
failed=$(grep -l 'check failed' "$OUT"/runs/run-*.log | wc -l || true)
[ "$failed" = 0 ] || say "note: the check failed in $failed fault-free runs"

if [ "$ENGINE" = serial ]; then
	"$BIN/pain-track" -o "$OUT/schedules.arrows" "$OUT"/runs/run-*.arrows >"$OUT/schedules.txt"
else
	seq 0 $((SHARDS - 1)) >"$OUT/lists/track"
	batch track "$OUT/lists/track" "$SHARDS"
	"$BIN/pain-track" -o "$OUT/schedules.arrows" "$OUT"/shards/shard-*.arrows >"$OUT/schedules.txt"
fi
t2=$(now)
say "tracked in $(secs "$t1" "$t2") s"
cat "$OUT/schedules.txt"

"$BIN/pain-plan" -o "$OUT/plans.jsonl" -text -max "$PLANS" "$OUT/schedules.arrows" >"$OUT/plans.txt"
jq -r .id "$OUT/plans.jsonl" >"$OUT/lists/inject"
nplans=$(grep -c . "$OUT/lists/inject" || true)
say "$nplans plans in $OUT/plans.jsonl"
t3=$(now)
if [ "$nplans" -gt 0 ]; then
	batch inject "$OUT/lists/inject"
fi
t4=$(now)
say "injected $(rate "$nplans" "$t3" "$t4")"

# The results in plan order, written whole.
while read -r id; do cat "$OUT/inject/$id.json"; done <"$OUT/lists/inject" >"$OUT/results.jsonl.tmp"
mv "$OUT/results.jsonl.tmp" "$OUT/results.jsonl"
echo
jq -r '"\(.plan) \(.verdict)"' "$OUT/results.jsonl"
say "whole round: $(rate $((RUNS + nplans)) "$t0" "$t4") runs; results in $OUT/results.jsonl"
# The round's page (pain-report): schedules, every plan, the bugs drawn.
"$BIN/pain-report" -o "$OUT/report.html" -title "make round: $SYSTEM" -plans "$OUT/plans.jsonl" \
	-results "$OUT/results.jsonl" "$OUT/schedules.arrows" "$OUT"/runs/run-*.arrows 2>"$OUT/report.log" ||
	{ say "pain-report failed; see $OUT/report.log"; exit 2; }
echo "report: $OUT/report.html"
