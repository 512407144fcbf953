#!/bin/sh
# Runs every fuzz target of the module (each func Fuzz* in a _test.go file)
# for FUZZTIME, one after the other: go test fuzzes one target at a time.
# FUZZMIN bounds the minimizing of each new interesting input, so the
# budget goes to new inputs. A crasher lands in the package's
# testdata/fuzz/<target>/ (add it to the seed corpus with the fix) and
# stops the script with go test's status.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZMIN=${FUZZMIN:-1s}
found=0
for file in $(git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go'); do
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		found=$((found + 1))
		pkg=./$(dirname "$file")
		echo "fuzz: $pkg $target for $FUZZTIME" >&2
		$GO test -run='^$' -fuzz="^$target\$" -fuzztime="$FUZZTIME" -fuzzminimizetime="$FUZZMIN" "$pkg"
	done
done
echo "fuzz: $found targets, $FUZZTIME each, no crasher" >&2
