#!/bin/sh
# The check: every acknowledged write is on every member, read locally
# (serializable) from each; a member may apply a committed write a moment
# after the leader acknowledged it, so each gets up to 5 s to catch up.
# A member that does not answer (a fault killed it) is skipped, and said.
# Exit 1 when a member that answers lacks an acknowledged write.
acked="$PAIN_RUN_DIR/acked.txt"
[ -f "$acked" ] || { echo "check: nothing was acknowledged"; exit 0; }
for port in 12379 22379 32379; do
	tries=0
	while :; do
		if ! out=$(etcdctl --endpoints=http://127.0.0.1:$port --command-timeout=3s get --prefix k --consistency=s 2>/dev/null); then
			echo "check: the member at port $port does not answer; skipped"
			break
		fi
		got=$(printf '%s\n' "$out" | paste -d' ' - -)
		missing=$(printf '%s\n' "$got" | grep -vxFf - "$acked" | head -1)
		[ -z "$missing" ] && break
		tries=$((tries + 1))
		if [ "$tries" -ge 50 ]; then
			echo "check: acknowledged write '$missing' is not on the member at port $port"
			exit 1
		fi
		sleep 0.1
	done
done
echo "check: every acknowledged write is on every member"
