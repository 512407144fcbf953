#!/bin/sh
# The workload as etcdctl gives it: N puts (default 10) through the first
# member, one etcdctl process each (gRPC over HTTP/2); every acknowledged
# one is appended to $PAIN_RUN_DIR/acked.txt. run.sh uses it with
# LOAD=./load-etcdctl.sh; README.md says why load.sh (curl) is the default.
n=${1:-10}
i=1
while [ "$i" -le "$n" ]; do
	if etcdctl --endpoints=http://127.0.0.1:12379 --command-timeout=5s put "k$i" "v$i" >/dev/null; then
		echo "k$i v$i" >>"$PAIN_RUN_DIR/acked.txt"
	fi
	i=$((i + 1))
done
exit 0
