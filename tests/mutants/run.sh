#!/bin/sh
# Mutants: deliberately broken copies of our code, kept as patches, that the graded suites (and
# the explorer, once `labsim explore` exists) must catch. Usage, from the repository root:
#   tests/mutants/run.sh [SEEDS] [PATCH...]
# Without PATCH: every tests/mutants/*.patch with a Module: line.
#
# A patch starts with its header, before the first "---" line (patch(1) skips it):
#   Module:  the folder it patches (raft, kvraft, kvsrv, mr, shardkv); the graded parts swept and
#            the make variable that points the build at the copy follow from it (table below)
#   Bug:     the bug, one line
#   Source:  where the idea comes from (paper section, students' guide, a library's bug history)
#   Expect:  which check should catch it (informational: any failure of the parts counts)
#   Needs:   explorer (optional): a mutant argued to be beyond the graded suites, whose
#            schedule only the explorer's faults produce; while `labsim explore` is missing
#            it is reported as waiting for the explorer instead of as an escape
# Lines may continue on indented lines.
#
# For each patch: copy its module to a scratch directory, apply the patch there (never to the
# tree: nothing here is compiled into the product), build a labsim against the copy the way a
# student's code is built (RAFT_IMPL=..., KVRAFT_IMPL=...), reusing the objects of one shared
# base build, and sweep the module's graded parts with --stop-on-fail over SEEDS seeds, in
# growing rounds (seed 1, seeds 2-5, 6-20, 21-SEEDS) so that a mutant some late test catches
# on an early seed is not first run through every seed of every earlier test. Then, when
# `labsim explore` exists and the module is one it explores, the explorer over EXPLORE_SEEDS
# seeds, and `labsim shrink` on its failing schedule.
#
# Prints one table row per mutant: the first failing test and seed of the suite sweep, the
# explorer's first failing seed, and the shrunk schedule's fault count (before -> after). Issue
# 14 bounds a shrunk schedule at a fifth of the faults or 3: when the first failing seed's
# schedule does not shrink that far, the sweep goes on to its next failing seeds (at most
# EXPLORE_RETRIES more, within EXPLORE_SEEDS), each is shrunk, and the smallest shrunk schedule is
# kept; the row then names its seed ("34 -> 11; seed 1500: 25 -> 3").
# Exit 1 when a mutant escapes both (or does not apply or build; a Needs: explorer mutant only
# once the explorer exists), else 0. The last run's logs: $BUILD/mutants/NAME/.
#
# Environment: MUTANT_JOBS (worker processes per sweep, default 2), EXPLORE_SEEDS (default
# 3000), EXPLORE_RETRIES (default 2), BUILD (default build), MAKE (default make).
set -eu
seeds=${1:-50}
[ $# -gt 0 ] && shift
jobs=${MUTANT_JOBS:-2}
explore_seeds=${EXPLORE_SEEDS:-3000}
explore_retries=${EXPLORE_RETRIES:-2}
build=${BUILD:-build}
make_cmd=${MAKE:-make}
root=$(pwd)
# A calling make's flags and variables (BUILD=..., RAFT_IMPL=...) must not reach the builds here.
unset MAKEFLAGS MFLAGS MAKELEVEL
case $seeds in '' | *[!0-9]*) echo "run.sh: SEEDS must be a number, got '$seeds'" >&2; exit 2 ;; esac
[ -f tests/mutants/run.sh ] || { echo "run.sh: run from the repository root" >&2; exit 2; }

patches=${*:-$(grep -l '^Module:' tests/mutants/*.patch)}
scratch=$(mktemp -d /tmp/labsim-mutants-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM
logs="$build/mutants"
mkdir -p "$logs"

# Module -> graded parts swept, and the make variable naming the implementation's files.
module_parts() {
    case $1 in
    mr) echo 1 ;;
    kvsrv) echo 2 ;;
    raft) echo 3A 3B 3C 3D ;;
    kvraft) echo 4A 4B ;;
    shardctrler) echo 5A ;;
    shardkv) echo 5B ;;
    *) return 1 ;;
    esac
}
module_var() { echo "$1" | tr '[:lower:]' '[:upper:]' | sed 's/$/_IMPL/'; }
# Files of a module that the Makefile always links from the tree (not part of *_IMPL).
module_provided() {
    case $1 in
    raft) echo persister.c persister_ext.c trace_api.c wal.c wal_sim_disk.c wal_persister.c ;;
    kvsrv) echo kvsrv_heap.c ;;
    esac
}
# The header field $2 of patch $1: its first line and the indented lines that continue it.
header_field() {
    sed -n '/^---/q; p' "$1" |
        awk -v f="$2:" '$1 == f { on = 1; sub(/^[^:]*: */, ""); printf "%s", $0; next }
                        on && /^[ \t]/ { sub(/^[ \t]+/, " "); printf "%s", $0; next }
                        { on = 0 }'
}
# The explorer exists when `labsim explore` is a command (another branch adds it).
explorer_present() {
    ! "$1" explore --help 2>&1 | grep -q "unknown command"
}

# One shared base build: every mutant's build starts as a copy of it, so only the patched
# module's files are compiled per mutant. Seeded from $build's objects when they exist (make
# rebuilds whatever is out of date or was built with other flags).
base="$scratch/base"
mkdir -p "$base"
if [ -d "$build/obj" ] && [ -f "$build/build-flags" ]; then
    cp -a "$build/obj" "$build/build-flags" "$base/"
    # The dependency files name their objects under $build: point them at the copies, so a
    # header changed since $build was built still rebuilds what includes it.
    find "$base/obj" -name '*.d' -exec sed -i "s#^$build/obj/#$base/obj/#" {} +
fi
echo "mutants: building the base labsim"
"$make_cmd" -s -j2 BUILD="$base" OPT=-O2 "$base/labsim" >"$scratch/base.log" 2>&1 ||
    { cat "$scratch/base.log"; echo "mutants: the base build failed" >&2; exit 1; }
have_explorer=no
explorer_present "$base/labsim" && have_explorer=yes

# Builds mutant $1 (patch $2, module $3) into $scratch/$1/build; 1 when it does not apply or
# build (the log says why).
mutant_build() {
    dir="$scratch/$1"
    mkdir -p "$dir"
    cp -r "$3" "$dir/"
    case $2 in /*) patch_file=$2 ;; *) patch_file=$root/$2 ;; esac
    if ! (cd "$dir" && patch -s -p1 <"$patch_file") >"$logs/$1/build.log" 2>&1; then
        echo "the patch does not apply" >>"$logs/$1/build.log"
        return 1
    fi
    impl=""
    for f in "$dir/$3"/*.c; do
        case " $(module_provided "$3") " in *" $(basename "$f") "*) continue ;; esac
        impl="$impl $f"
    done
    cp -a "$base" "$dir/build"
    "$make_cmd" -s -j2 BUILD="$dir/build" OPT=-O2 "$(module_var "$3")=${impl# }" \
        "$dir/build/labsim" >>"$logs/$1/build.log" 2>&1
}

# Sweeps the parts of module $3 for mutant $1; prints "TEST SEED" of the first failure, or
# nothing when every run passed.
mutant_sweep() {
    bin="$scratch/$1/build/labsim"
    first=1
    for last in 1 5 20 "$seeds"; do
        [ "$last" -gt "$seeds" ] && last=$seeds
        [ "$first" -gt "$last" ] && continue
        for part in $(module_parts "$3"); do
            out="$logs/$1/suite-$part-$first-$last"
            rc=0
            "$bin" run "$part" --seed-range "$first..$last" --stop-on-fail --jobs "$jobs" \
                --failing-seeds "$out.failing" >"$out.log" 2>&1 || rc=$?
            if [ "$rc" -ne 0 ]; then
                hit=$(grep -v '^#' "$out.failing" 2>/dev/null | head -n1 | cut -d' ' -f1,2)
                echo "${hit:-exit-$rc -}"
                return 0
            fi
        done
        first=$((last + 1))
    done
}

# Sweeps TARGET $2 of mutant binary $1 from seed $3 to EXPLORE_SEEDS, stopping at the first
# failure, into log $4 and schedule $5; prints the failing seed, or nothing.
explore_from() {
    [ "$3" -le "$explore_seeds" ] || return 0
    rc=0
    # A sweep runs in worker processes: a run that aborts is a reported failure.
    "$1" explore "$2" --seed "$3" --seeds $((explore_seeds - $3 + 1)) --jobs "$jobs" \
        --stop-on-fail --schedule-out "$5" >"$4" 2>&1 || rc=$?
    [ "$rc" -eq 1 ] || return 0
    # The runs' own stderr is in the log too: the seed is the first verdict line's.
    grep -E '^(SAFETY|LIVENESS) ' "$4" | head -n1 | grep -oE ' seed [0-9]+' | grep -oE '[0-9]+'
}

# Shrinks schedule $2 with mutant binary $1 into $2.shrunk (log $2.shrink.log); prints
# "BEFORE AFTER" ("- -" when it did not shrink).
shrink_sizes() {
    "$1" shrink "$2" --out "$2.shrunk" >"$2.shrink.log" 2>&1 || true
    # "shrunk: BEFORE -> AFTER faults, ..."
    sizes=$(grep -E '^shrunk:' "$2.shrink.log" | grep -oE '[0-9]+ -> [0-9]+ faults' |
        grep -oE '[0-9]+' | tr '\n' ' ')
    echo "${sizes:-- -}"
}

# Whether BEFORE $1 shrank to AFTER $2 within issue 14's bound (a fifth, or at most 3).
within_bound() {
    case "$1$2" in *[!0-9]*) return 1 ;; esac
    [ "$2" -le 3 ] || [ $(($2 * 5)) -le "$1" ]
}

# Runs the explorer on mutant $1 (module $3); prints "SEED SHRUNK" (SHRUNK: "BEFORE -> AFTER",
# then "; seed S: BEFORE -> AFTER" when a later failing seed's schedule shrank further), "-"
# when it found nothing, "n/a" when it does not explore the module.
mutant_explore() {
    case $3 in raft | kvraft | mr) ;; *) echo "n/a" && return 0 ;; esac
    bin="$scratch/$1/build/labsim"
    out="$logs/$1/explore"
    target=$3
    seed=$(explore_from "$bin" "$target" 1 "$out.log" "$out.schedule")
    # A Raft mutant the raft target misses may still show under kvraft, whose servers snapshot
    # by size at indices of their own (the raft target's appliers all snapshot at the same ones).
    if [ -z "$seed" ] && [ "$3" = raft ]; then
        target=kvraft
        seed=$(explore_from "$bin" "$target" 1 "$out.log" "$out.schedule")
    fi
    if [ -z "$seed" ]; then
        echo "-"
        return 0
    fi
    set -- $(shrink_sizes "$bin" "$out.schedule")
    shrunk="$1 -> $2"
    kept_before=$1
    kept_after=$2
    next=$seed
    tries=0
    while ! within_bound "$kept_before" "$kept_after" && [ "$tries" -lt "$explore_retries" ]; do
        tries=$((tries + 1))
        next=$(explore_from "$bin" "$target" $((next + 1)) "$out.$tries.log" \
            "$out.$tries.schedule")
        [ -n "$next" ] || break
        set -- $(shrink_sizes "$bin" "$out.$tries.schedule")
        case "$1$2" in *[!0-9]*) continue ;; esac
        # The smallest shrunk schedule is kept, and named by its seed.
        if [ "$kept_after" = - ] || [ "$2" -lt "$kept_after" ]; then
            kept_before=$1
            kept_after=$2
            shrunk="${shrunk%%;*}; seed $next: $1 -> $2"
        fi
    done
    echo "$seed $shrunk"
}

row() { printf '%-34s %-7s %-44s %-22s %s\n' "$@"; }
echo "mutants: ${seeds} seeds per sweep, ${jobs} jobs; explorer: $have_explorer"
row mutant module "caught by suite (test, first seed)" "explorer (first seed)" \
    "shrunk faults"
escaped=0
waiting=""
count=0
for p in $patches; do
    name=$(basename "$p" .patch)
    module=$(header_field "$p" Module)
    needs=$(header_field "$p" Needs)
    count=$((count + 1))
    rm -rf "$logs/$name"
    mkdir -p "$logs/$name"
    if ! module_parts "$module" >/dev/null || [ ! -d "$module" ]; then
        row "$name" "$module" "ERROR: unknown module" - -
        escaped=$((escaped + 1))
        continue
    fi
    if ! mutant_build "$name" "$p" "$module"; then
        row "$name" "$module" "ERROR: see $logs/$name/build.log" - -
        escaped=$((escaped + 1))
        continue
    fi
    suite=$(mutant_sweep "$name" "$p" "$module")
    explorer="n/a (no explorer)"
    shrunk=-
    if [ "$have_explorer" = yes ]; then
        found=$(mutant_explore "$name" "$p" "$module")
        case $found in
        n/a) explorer="n/a (not explored)" ;;
        -) explorer="not caught" ;;
        *)
            explorer="seed ${found%% *}"
            shrunk=${found#* }
            ;;
        esac
    fi
    suite_cell="not caught in $seeds seeds"
    if [ -n "$suite" ]; then
        set -- $suite
        suite_cell="$1 seed $2"
    fi
    row "$name" "$module" "$suite_cell" "$explorer" "$shrunk"
    # The failure itself, as the suite reported it: the message after "--- FAIL" up to its
    # replay line, on one line, cut at 110 characters.
    if [ -n "$suite" ]; then
        cat "$logs/$name"/suite-*.log 2>/dev/null |
            awk '/^--- FAIL/ { on = 1; next } on && /^ *replay:/ { exit }
                 on { sub(/^ +/, ""); printf "%s%s", sep, $0; sep = " " }' |
            cut -c1-110 | sed 's/^/    /; $a\'
    fi
    case "$suite:$explorer:$needs" in
    :seed*) ;;
    ":n/a (no explorer):explorer") waiting="$waiting $name" ;;
    :*) escaped=$((escaped + 1)) ;;
    esac
    rm -rf "${scratch:?}/$name"
done
if [ "$escaped" -gt 0 ]; then
    echo "mutants: $escaped of $count escaped (logs: $logs/)"
    exit 1
fi
[ -n "$waiting" ] && echo "mutants: waiting for the explorer (Needs: explorer):$waiting"
echo "mutants: $count run, none escaped (logs: $logs/)"
