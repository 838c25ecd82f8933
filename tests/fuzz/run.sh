#!/bin/sh
# run.sh SECONDS TARGET... - run each libFuzzer target (build-fuzz/) for
# SECONDS on a working copy of its seed corpus (build-fuzz/corpus/TARGET;
# the seeds in tests/fuzz/corpus/TARGET stay as they are).  Crashes land
# in build-fuzz/crashes/TARGET/.  FUZZ_JOBS=2 runs two at a time.
set -u
cd "$(dirname "$0")/../.." || exit 3
secs=$1; shift
jobs=${FUZZ_JOBS:-1}
status=0
run_one() {
	t=$1
	mkdir -p build-fuzz/corpus/$t build-fuzz/crashes/$t
	cp -n tests/fuzz/corpus/$t/* build-fuzz/corpus/$t/ 2>/dev/null
	echo "fuzz: $t for $secs s"
	./build-fuzz/$t -max_total_time="$secs" -timeout=20 -rss_limit_mb=1024 \
		-max_len=16384 -print_final_stats=1 \
		-artifact_prefix=build-fuzz/crashes/$t/ \
		build-fuzz/corpus/$t > build-fuzz/$t.log 2>&1
	rc=$?
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' build-fuzz/$t.log |
		sed "s/^/fuzz: $t: /"
	[ $rc -eq 0 ] || { echo "fuzz: $t FAILED (build-fuzz/$t.log)"; tail -30 build-fuzz/$t.log; }
	return $rc
}
set -- "$@"
while [ $# -gt 0 ]; do
	pids=""
	i=0
	while [ $i -lt "$jobs" ] && [ $# -gt 0 ]; do
		run_one "$1" & pids="$pids $!"
		shift; i=$((i + 1))
	done
	for p in $pids; do wait "$p" || status=1; done
done
exit $status
