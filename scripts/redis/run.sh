#!/bin/sh
# run.sh: the body of `make redis`. Traces RUNS fault-free runs of Redis
# replication with Sentinel (scripts/redis/gen.sh), tracks them, plans, injects
# the top PLANS plans and prints a summary table: plan in plain words, fired,
# verdict. Writes everything under OUT:
#
#   run-NNNN/            one folder per traced run: configs, data, logs, acked.txt
#   run-NNNN.arrows      its trace
#   schedules.arrows, track.txt   pain-track's output and summary (message
#                        granularity: the plans come from these graphs)
#   classes.arrows, track-class.txt   the schedules at class granularity (the
#                        data path, with Sentinel's timer traffic counted apart)
#   plans.jsonl, plans.txt   pain-plan's top PLANS plans, and in words
#   plans.jsonl          the plans injected
#   inject-NNNN/, inject-NNNN.arrows   one folder and trace per injected plan
#   results.jsonl        one pain-inject result per line
#   diagrams/PLAN/       for each plan whose check failed: story.mmd, a Mermaid
#                        space-time diagram of the workload's part of the run
#                        (story/doc.go), and pain-track's graph of the whole run
#
# Environment (defaults): RUNS=20 PLANS=20 OUT=out/redis BIN=bin
#   TIMEOUT=60s GRACE=2s        pain-trace / pain-inject -timeout and -grace (per
#                               phase; a workload needs at most ~40s, see rediswl)
#   DELAY=6s                    delay faults (pain-plan -delay, if it has it):
#                               longer than a failover (down-after 1s + election)
#   PAYLOAD=256                 bytes of each transfer kept in injected traces
#                               (the diagrams name Redis commands from them)
#   PLAN_FLAGS=                 more pain-plan flags
#   PORT=7379 SPORT=27379 KEYS=100 DOWN_AFTER=1000 ...   passed to gen.sh
# Runs are sequential: they share the ports.
set -eu
RUNS=${RUNS:-20}
PLANS=${PLANS:-20}
OUT=${OUT:-out/redis}
BIN=${BIN:-bin}
TIMEOUT=${TIMEOUT:-60s}
GRACE=${GRACE:-2s}
DELAY=${DELAY:-6s}
PLAN_FLAGS=${PLAN_FLAGS:-}
PAYLOAD=${PAYLOAD:-256}
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "redis: $*" >&2; }
die() { say "$*"; exit 2; }

# Packages, when missing.
need=""
command -v redis-server >/dev/null 2>&1 || need="$need redis-server"
command -v redis-sentinel >/dev/null 2>&1 || need="$need redis-sentinel"
command -v jq >/dev/null 2>&1 || need="$need jq"
if [ -n "$need" ]; then
	say "installing$need"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq >&2
	$sudo apt-get install -y -qq --no-install-recommends $need >&2
fi
say "$(redis-server --version | cut -d' ' -f1-3)"

mkdir -p "$BIN"
BIN=$(cd "$BIN" && pwd)
(cd "$here" && go build -o "$BIN/rediswl" ./rediswl) || die "cannot build rediswl"
(cd "$here" && go build -o "$BIN/redis-story" ./story) || die "cannot build story"
for t in pain-trace pain-track pain-plan pain-inject; do
	[ -x "$BIN/$t" ] || die "$BIN/$t missing: run make build"
done
export RWL="$BIN/rediswl"

rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Every process of a run is gone when pain-trace returns; a port still
# listening means one survived (or someone else uses it), so wait briefly and
# then refuse to go on rather than trace the wrong system.
ports_free() {
	. "$1/system.sh"
	for _ in $(seq 50); do
		busy=""
		for p in $PORTS; do
			ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && busy="$busy $p"
		done
		[ -z "$busy" ] && return 0
		sleep 0.1
	done
	die "ports$busy still listening; is another Redis running?"
}

now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.1fs", $1 - $2}'; }

# 1. Fault-free runs.
t0=$(now)
traced=0
i=1
while [ "$i" -le "$RUNS" ]; do
	n=$(printf '%04d' "$i")
	dir="$OUT/run-$n"
	"$here/gen.sh" "$dir"
	ports_free "$dir"
	. "$dir/system.sh"
	t=$(now)
	status=0
	"$BIN/pain-trace" -o "$OUT/run-$n.arrows" -f "$PROCFILE" -ready "$READY" -w "$WORKLOAD" -check "$CHECK" \
		-timeout "$TIMEOUT" -grace "$GRACE" >"$dir/trace.out" 2>"$dir/trace.err" || status=$?
	case $status in
	0) what="check passed" ;;
	1) what="CHECK FAILED in a fault-free run" ;;
	*) what="pain-trace error $status: $(tail -n1 "$dir/trace.err")" ;;
	esac
	if [ "$status" -le 1 ] && [ -s "$OUT/run-$n.arrows" ]; then
		traced=$((traced + 1))
	else
		rm -f "$OUT/run-$n.arrows"
	fi
	say "run $i/$RUNS: $what ($(since "$t"), $( (wc -l <"$dir/acked.txt") 2>/dev/null || echo 0) writes acknowledged)"
	i=$((i + 1))
done
[ "$traced" -gt 0 ] || die "no run was traced"
say "$traced traced runs in $(since "$t0")"

# 2. Track and plan.
t=$(now)
"$BIN/pain-track" -o "$OUT/schedules.arrows" "$OUT"/run-*.arrows >"$OUT/track.txt" || die "pain-track failed"
head -n 20 "$OUT/track.txt" >&2
# Every message-granularity schedule is new (Sentinel's timers); how many
# data paths the runs took is counted at class granularity.
"$BIN/pain-track" -granularity class -o "$OUT/classes.arrows" "$OUT"/run-*.arrows >"$OUT/track-class.txt" ||
	die "pain-track -granularity class failed"
head -n 6 "$OUT/track-class.txt" >&2
say "tracked in $(since "$t")"
if [ -n "$DELAY" ] && "$BIN/pain-plan" -h 2>&1 | grep -q -- '-delay'; then
	PLAN_FLAGS="-delay $DELAY $PLAN_FLAGS"
fi
t=$(now)
# shellcheck disable=SC2086 # PLAN_FLAGS is a list of flags
"$BIN/pain-plan" -o "$OUT/plans.jsonl" -text -max "$PLANS" $PLAN_FLAGS "$OUT/schedules.arrows" >"$OUT/plans.txt" ||
	die "pain-plan failed"
nplans=$(grep -c . "$OUT/plans.jsonl" || true)
say "$nplans plans in $(since "$t")"

# 3. Inject each plan into a fresh system.
: >"$OUT/results.jsonl"
t0=$(now)
k=0
for id in $(jq -r '.id' "$OUT/plans.jsonl"); do
	k=$((k + 1))
	n=$(printf '%04d' "$k")
	dir="$OUT/inject-$n"
	"$here/gen.sh" "$dir"
	ports_free "$dir"
	. "$dir/system.sh"
	t=$(now)
	status=0
	"$BIN/pain-inject" -plan "$OUT/plans.jsonl" -id "$id" -o "$OUT/inject-$n.arrows" \
		-f "$PROCFILE" -ready "$READY" -w "$WORKLOAD" -check "$CHECK" -timeout "$TIMEOUT" -grace "$GRACE" \
		-payload "$PAYLOAD" >"$dir/result.json" 2>"$dir/inject.err" || status=$?
	if ! jq -e . "$dir/result.json" >/dev/null 2>&1 || [ ! -s "$dir/result.json" ]; then
		# No result line: record the tool error so that every plan has a row.
		jq -cn --arg id "$id" --arg note "pain-inject exit $status: $(tail -n1 "$dir/inject.err")" \
			'{v:1, plan:$id, fired:false, check:null, verdict:"error", note:$note}' >"$dir/result.json"
	fi
	tail -n1 "$dir/result.json" >>"$OUT/results.jsonl"
	say "plan $k/$nplans $id: $(tail -n1 "$dir/result.json" | jq -r '.verdict') ($(since "$t"))"
done
say "injected $k plans in $(since "$t0")"

# 4. Summary: plan in plain words, fired, verdict.
echo
printf '%-4s %-6s %-10s %s\n' "#" fired verdict plan
jq -rn --slurpfile plans "$OUT/plans.jsonl" '
	($plans | map({key: .id, value: .}) | from_entries) as $byid
	| inputs
	| . as $r
	| ($byid[$r.plan]) as $p
	| (if ($r.faults // [] | length) > 0 then ($r.faults | join("; and "))
	   elif $p then ($p.faults | map("\(.kind) \(.target.node)\(if .target.thread then "/" + .target.thread else "" end) \(.target.syscall // "call")\(if .target.conn then " on " + .target.conn elif .target.peer then " to " + .target.peer else "" end)\(if .duration then " for " + .duration else "" end)\(if .errno then " with " + .errno else "" end)") | join("; and "))
	   else $r.plan end) as $words
	| [($p.rank // "-" | tostring), (if $r.fired then "yes" else "no" end), $r.verdict, $words] | @tsv' \
	"$OUT/results.jsonl" | awk -F'\t' '{printf "%-4s %-6s %-10s %s\n", $1, $2, $3, $4}'
echo
jq -rs 'group_by(.verdict) | map("\(length) \(.[0].verdict)") | join(", ")' "$OUT/results.jsonl" | sed 's/^/verdicts: /'
bugs=$(jq -r 'select(.verdict == "bug") | .plan' "$OUT/results.jsonl")
if [ -n "$bugs" ]; then
	echo "plans whose check failed: trace, what the check said, space-time diagram:"
	for id in $bugs; do
		trace=$(jq -r --arg id "$id" 'select(.plan == $id) | .trace // empty' "$OUT/results.jsonl" | head -n1)
		dir=$(dirname "$(grep -l "\"plan\":\"$id\"" "$OUT"/inject-*/result.json | head -n1)")
		echo "  $id: $trace"
		grep -h 'acknowledged writes' "$dir/inject.err" 2>/dev/null | sed 's/^/    /' | cut -c1-160 || true
		if [ -n "$trace" ] && [ -f "$trace" ]; then
			mkdir -p "$OUT/diagrams/$id"
			# The messages of the workload's part of the run, as a Mermaid
			# sequence diagram, and the whole run's graph from pain-track.
			if "$BIN/redis-story" "$trace" >"$OUT/diagrams/$id/story.mmd"; then
				echo "    space-time diagram (Mermaid): $OUT/diagrams/$id/story.mmd"
			fi
			if "$BIN/pain-track" -dot "$OUT/diagrams/$id" -top 1 "$trace" >/dev/null 2>&1; then
				for d in "$OUT/diagrams/$id"/*.dot; do
					[ -f "$d" ] || continue
					# A whole Redis run is a big graph: dot takes minutes
					# beyond ~100 kB, so render only small ones.
					if command -v dot >/dev/null 2>&1 && [ "$(wc -c <"$d")" -lt 100000 ]; then
						timeout 60 dot -Tsvg -o "${d%.dot}.svg" "$d" 2>/dev/null || rm -f "${d%.dot}.svg"
					fi
					echo "    whole run (Graphviz, Perfetto): $d ${d%.dot}.trace.json"
				done
			fi
		fi
	done
fi
echo "results: $OUT/results.jsonl"
# The round's page (pain-report): schedules, every plan, the bugs drawn.
if "$BIN/pain-report" -o "$OUT/report.html" -title "make redis: Redis 7 replication with Sentinel" -plans "$OUT/plans.jsonl" \
	-results "$OUT/results.jsonl" "$OUT/schedules.arrows" "$OUT"/run-*.arrows 2>"$OUT/report.log"; then
	echo "report: $OUT/report.html"
else
	say "pain-report failed; see $OUT/report.log"
fi
