#!/bin/sh
# The workload: N puts (default 10) through the first member, one curl
# each to the gRPC gateway's JSON API (/v3/kv/put over HTTP/1.1: one
# request and one reply per put, where etcdctl's gRPC over HTTP/2 splits
# each put into preface, SETTINGS and WINDOW_UPDATE exchanges in an order
# that changes from run to run); every acknowledged one is appended to
# $PAIN_RUN_DIR/acked.txt.
n=${1:-10}
i=1
while [ "$i" -le "$n" ]; do
	body=$(printf '{"key":"%s","value":"%s"}' "$(printf 'k%s' "$i" | base64)" "$(printf 'v%s' "$i" | base64)")
	if curl -sf --max-time 5 -X POST -d "$body" http://127.0.0.1:12379/v3/kv/put | grep -q '"revision"'; then
		echo "k$i v$i" >>"$PAIN_RUN_DIR/acked.txt"
	fi
	i=$((i + 1))
done
exit 0
