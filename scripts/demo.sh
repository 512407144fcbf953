#!/bin/bash
# The whole pipeline on the embedded example store (examples/kvstore):
# trace RUNS fault-free runs, track them, plan, inject the top PLANS plans one
# by one, and say which plan broke the check. Called by `make demo`; progress
# goes to stderr, the findings to stdout, every file under OUT.
set -euo pipefail

OUT=${OUT:-out/demo}
BIN=${BIN:-bin}
RUNS=${RUNS:-20}
PLANS=${PLANS:-20}
FIXED=${FIXED:-}
# The store's three ports (primary, backup1, backup2): tests that run the
# demo pick free ones, so that two runs at once do not share a store.
read -r p0 p1 p2 <<END
${PORTS:-7101 7102 7103}
END

say() { printf 'demo: %s\n' "$*" >&2; }
start=$(date +%s)

variant="the default kvnode (acknowledges writes without a backup that failed)"
fixed=""
if [ -n "$FIXED" ]; then
	variant="kvnode -fixed (acknowledges only what every live backup confirmed)"
	fixed=" -fixed"
fi

rm -rf "$OUT"
mkdir -p "$OUT/runs" "$OUT/inject" "$OUT/dot" "$OUT/work"
# The Procfile of examples/kvstore, with this build's binaries.
procfile="$OUT/Procfile"
cat >"$procfile" <<END
primary: $BIN/kvnode -role primary -listen 127.0.0.1:$p0 -backups 127.0.0.1:$p1,127.0.0.1:$p2$fixed
backup1: $BIN/kvnode -role backup -listen 127.0.0.1:$p1
backup2: $BIN/kvnode -role backup -listen 127.0.0.1:$p2
END
acked="$OUT/work/acked.txt"
system=(-f "$procfile"
	-w "$BIN/kvload -primary 127.0.0.1:$p0 -n 5 -acked $acked"
	-check "$BIN/kvcheck -backups 127.0.0.1:$p1,127.0.0.1:$p2 -acked $acked"
	-timeout 30s -grace 2s)
# As root, each run gets a network namespace of its own: the store's fixed
# ports do not collide with another run of it on the machine (a test, a
# second demo).
if [ "$(id -u)" = 0 ]; then
	system+=(-netns)
fi

say "system: $procfile, $variant"
say "tracing $RUNS fault-free runs into $OUT/runs/"
failed=0
for i in $(seq 1 "$RUNS"); do
	run=$(printf 'run-%04d' "$i")
	status=0
	rm -f "$acked"
	"$BIN/pain-trace" -run "$run" -o "$OUT/runs/$run.arrows" "${system[@]}" 2>>"$OUT/runs/trace.log" || status=$?
	case $status in
	0) ;;
	1) failed=$((failed + 1)) ;;
	*) say "pain-trace failed on $run (exit $status); see $OUT/runs/trace.log"; exit 2 ;;
	esac
	printf '\rdemo: traced %d/%d' "$i" "$RUNS" >&2
done
printf '\n' >&2
[ "$failed" = 0 ] || say "note: the check failed in $failed fault-free runs"

say "tracking the runs"
"$BIN/pain-track" -o "$OUT/schedules.arrows" -dot "$OUT/dot" "$OUT"/runs/run-*.arrows >"$OUT/schedules.txt"
cat "$OUT/schedules.txt"

say "planning at most $PLANS fault plans"
# The store's failure detector is kvnode's 2 s timeout: pauses and partitions
# of 3 s outlast it (the default, 6 s, is for systems like Redis Sentinel).
"$BIN/pain-plan" -o "$OUT/plans.jsonl" -text -max "$PLANS" -pause 3s "$OUT/schedules.arrows" >"$OUT/plans.txt"
nplans=$(grep -c . "$OUT/plans.jsonl" || true)
say "$nplans plans in $OUT/plans.jsonl"

: >"$OUT/results.jsonl"
bug=""
n=0
for id in $(jq -r .id "$OUT/plans.jsonl"); do
	n=$((n + 1))
	status=0
	rm -f "$acked"
	"$BIN/pain-inject" -plan "$OUT/plans.jsonl" -id "$id" -o "$OUT/inject/$id.arrows" "${system[@]}" \
		>>"$OUT/results.jsonl" 2>>"$OUT/inject/inject.log" || status=$?
	verdict=$(tail -n 1 "$OUT/results.jsonl" | jq -r .verdict 2>/dev/null || echo error)
	case $status in
	0 | 1 | 3) ;;
	*) verdict="error (exit $status, see $OUT/inject/inject.log)" ;;
	esac
	say "plan $n/$nplans $id: $verdict"
	if [ "$status" = 1 ] && [ -z "$bug" ]; then
		bug=$id
	fi
done

# Everything as Parquet for SQL (the README's queries): a table per trace
# under parquet/runs/, and the schedules, plans and results, joined by run
# and plan.
say "exporting the traces, schedules, plans and results to $OUT/parquet/"
mkdir -p "$OUT/parquet/runs"
for f in "$OUT"/runs/*.arrows "$OUT"/inject/*.arrows; do
	[ -e "$f" ] || continue
	"$BIN/pain-trace" -r "$f" -as parquet -o "$OUT/parquet/runs/$(basename "$f" .arrows).parquet"
done
for f in schedules.arrows plans.jsonl results.jsonl; do
	[ -s "$OUT/$f" ] || continue
	"$BIN/pain-trace" -r "$OUT/$f" -as parquet -o "$OUT/parquet/${f%.*}.parquet"
done

# The round's page: schedules, plans, verdicts and the bugs drawn (pain-report).
report="$OUT/report.html"
"$BIN/pain-report" -o "$report" -title "make demo: $variant" -plans "$OUT/plans.jsonl" \
	-results "$OUT/results.jsonl" "$OUT/schedules.arrows" "$OUT"/runs/run-*.arrows 2>"$OUT/report.log" ||
	{ say "pain-report failed; see $OUT/report.log"; exit 2; }

secs=$(($(date +%s) - start))
echo
if [ -z "$bug" ]; then
	echo "No plan broke the check: $n plans tried on $variant, none lost an acknowledged write."
	echo "Results: $OUT/results.jsonl   ($secs s)"
	echo "Report: $report"
	exit 0
fi
echo "Found a bug in $variant:"
"$BIN/pain-plan" -r "$OUT/plans.jsonl" -id "$bug"
tail -n +1 "$OUT/results.jsonl" | jq -r --arg id "$bug" 'select(.plan == $id) | "fired at \(.where[0].node)/\(.where[0].thread)#\(.where[0].seq) (\(.where[0].syscall)); the check exited \(.check)"'
mkdir -p "$OUT/bug"
"$BIN/pain-track" -dot "$OUT/bug" "$OUT/inject/$bug.arrows" >/dev/null
diagram=$(ls "$OUT"/bug/*.dot | head -n 1)
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$diagram" -o "${diagram%.dot}.svg"
	diagram=${diagram%.dot}.svg
fi
echo "Space-time diagram of the failing run: $diagram"
echo "Trace of the failing run: $OUT/inject/$bug.arrows (pain-trace -r prints it)"
echo "Results: $OUT/results.jsonl   ($secs s)"
echo "Report: $report"
