#!/bin/sh
# Mutants: deliberately broken copies of our code, kept as patches, that the graded suites must
# catch. For each tests/mutants/*.patch: copy the module it patches to a scratch directory,
# apply the patch there (never to the tree: nothing here is compiled into the product), build a
# labsim against the copy the way a student's code is built (SHARDKV_IMPL=..., RAFT_IMPL=...,
# KVRAFT_IMPL=...), and sweep the tests its "Caught-by:" line names over SEEDS seeds. A
# mutant passes when at least one of those tests fails on some seed; the target fails when any
# mutant survives. Usage: tests/mutants/run.sh [SEEDS] [PATCH...] (from the repository root).
set -eu
seeds=${1:-50}
[ $# -gt 0 ] && shift
# Without names: the patches that say what they patch (a Module: line); lab 1's and lab 2's are
# applied by their unit suites instead (tests/unit/check_mr.c, check_kvsrv.c).
patches=${*:-$(grep -l '^Module:' tests/mutants/*.patch)}
scratch=$(mktemp -d /tmp/labsim-mutants-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
survivors=0
for p in $patches; do
    name=$(basename "$p" .patch)
    module=$(sed -n 's/^Module: *//p' "$p")
    var=$(sed -n 's/^Variable: *//p' "$p")
    tests=$(sed -n 's/^Caught-by: *//p' "$p")
    dir="$scratch/$name"
    mkdir -p "$dir"
    cp -r "$module" "$dir/"
    (cd "$dir" && patch -s -p1 < "$OLDPWD/$p")
    impl=$(ls "$dir/$module"/*.c | tr '\n' ' ')
    make -s -j2 BUILD="$dir/build" OPT=-O2 "$var=$impl" "$dir/build/labsim" >/dev/null
    caught=""
    for t in $tests; do
        if ! "$dir/build/labsim" run "$t" --seeds "$seeds" --jobs 2 > "$dir/$t.log" 2>&1; then
            caught="$t"
            break
        fi
    done
    if [ -n "$caught" ]; then
        echo "mutant $name: caught by $caught ($(grep -c -- '--- FAIL' "$dir/$caught.log") of $seeds seeds failed)"
        grep -m1 -A1 -- '--- FAIL' "$dir/$caught.log" | sed 's/^/    /'
    else
        echo "mutant $name: SURVIVED $tests over $seeds seeds"
        survivors=$((survivors + 1))
    fi
done
[ "$survivors" -eq 0 ]
