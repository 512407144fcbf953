#!/bin/sh
# Installs the Debian packages the tests, the demo and the benchmarks use,
# when they are missing (redis-server and redis-sentinel for the Redis
# target and its trace test; python3 and a JDK for the tracer's interpreter
# tests; GNU parallel, munge and Slurm for the batch rounds of
# scripts/batch and their tests; iproute2 and util-linux for the
# network namespaces of the hosts test; chromium for the report's browser
# test). Needs root (or sudo) only when
# something is missing.
set -e
PATH=$PATH:/usr/sbin:/sbin # the daemons of munge and Slurm live there
need=""
for p in strace:strace dot:graphviz jq:jq gcc:gcc redis-server:redis-server redis-sentinel:redis-sentinel \
	python3:python3 javac:default-jdk-headless ip:iproute2 unshare:util-linux \
	parallel:parallel munged:munge chromium:chromium slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client; do
	cmd=${p%%:*} pkg=${p#*:}
	command -v "$cmd" >/dev/null 2>&1 || need="$need $pkg"
done
[ -z "$need" ] && exit 0
echo "deps: installing$need" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends $need >&2
