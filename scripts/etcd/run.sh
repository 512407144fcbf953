#!/bin/sh
# Runs the pipeline on Debian's etcd (three members on loopback): RUNS
# traced runs, tracked at message granularity (the disk plans need it), the top PLANS plans injected
# once each. Needs etcd-server and etcd-client (apt-get install); BIN holds
# the pain tools (make build). Everything goes under OUT. LOAD is the
# workload script: load.sh (curl, the default) or load-etcdctl.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../../bin}
OUT=${OUT:-out/etcd}
RUNS=${RUNS:-10}
PLANS=${PLANS:-12}
N=${N:-10}
LOAD=${LOAD:-./load.sh}
rm -rf "$OUT" && mkdir -p "$OUT/runs" "$OUT/inject"
OUT=$(cd "$OUT" && pwd)
cd "$here"
ready='etcdctl --endpoints=http://127.0.0.1:12379,http://127.0.0.1:22379,http://127.0.0.1:32379 endpoint health'
for i in $(seq -f %04g "$RUNS"); do
	"$BIN/pain-trace" -run "run-$i" -o "$OUT/runs/run-$i.arrows" -f Procfile -ready "$ready" \
		-w "$LOAD $N" -check ./check.sh -timeout 60s 2>>"$OUT/trace.log" || true
done
"$BIN/pain-track" -o "$OUT/schedules.arrows" "$OUT"/runs/*.arrows >"$OUT/summary.txt"
# Schedules are counted at class granularity (the data path); plans come
# from the message graphs.
"$BIN/pain-track" -granularity class -o "$OUT/classes.arrows" "$OUT"/runs/*.arrows >"$OUT/summary-class.txt"
head -6 "$OUT/summary-class.txt"
"$BIN/pain-plan" -max "$PLANS" -pause 3s -restart 1s -o "$OUT/plans.jsonl" "$OUT/schedules.arrows" 2>>"$OUT/plan.log"
for id in $(jq -r .id "$OUT/plans.jsonl"); do
	"$BIN/pain-inject" -plan "$OUT/plans.jsonl" -id "$id" -o "$OUT/inject/$id.arrows" -f Procfile -ready "$ready" \
		-w "$LOAD $N" -check ./check.sh -timeout 60s 2>>"$OUT/inject.log" | tee -a "$OUT/results.jsonl" |
		jq -r '"\(.plan) fired=\(.fired) \(.verdict)"' || true
done
echo "$(jq -s 'map(select(.fired)) | length' "$OUT/results.jsonl") of $(wc -l <"$OUT/plans.jsonl") plans fired," \
	"$(jq -s 'map(select(.verdict == "bug")) | length' "$OUT/results.jsonl") bug verdicts"
