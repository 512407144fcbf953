#!/bin/sh
# The workload: N puts (default 10) through the first member, one etcdctl
# each; every acknowledged one is appended to $PAIN_RUN_DIR/acked.txt.
n=${1:-10}
i=1
while [ "$i" -le "$n" ]; do
	if etcdctl --endpoints=http://127.0.0.1:12379 --command-timeout=5s put "k$i" "v$i" >/dev/null; then
		echo "k$i v$i" >>"$PAIN_RUN_DIR/acked.txt"
	fi
	i=$((i + 1))
done
exit 0
