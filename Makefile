# labsim build. `make test` is the test command; `make grade` is the main job.
# Everything builds into $(BUILD); nothing is installed. See README.md.

CC        ?= cc
BUILD     ?= build
OPT       ?= -O2
PKG_CONFIG ?= pkg-config
SAN       ?=

# The implementations under test: a student may point these at their own files (README, "Your
# own implementation: a guide for students"). RAFT_IMPL is the Raft; KVRAFT_IMPL the kvraft
# server and clerk, graded on whichever Raft RAFT_IMPL names. The persister and the Raft trace API are provided,
# always linked, like the handout's persister.go; so is the write-ahead-log persister (raft/wal*.c,
# the --raft-opts wal option).
RAFT_PROVIDED = raft/persister.c raft/persister_ext.c raft/trace_api.c raft/wal.c \
                raft/wal_sim_disk.c raft/wal_persister.c
RAFT_IMPL ?= $(filter-out $(RAFT_PROVIDED),$(wildcard raft/*.c))
KVRAFT_IMPL ?= $(wildcard kvraft/*.c)
# Lab 2's server and clerk (kvsrv/kvsrv_heap.c, the provided allocator, is always linked).
KVSRV_PROVIDED = kvsrv/kvsrv_heap.c
KVSRV_IMPL ?= $(filter-out $(KVSRV_PROVIDED),$(wildcard kvsrv/*.c))

# Every *_IMPL variable set from outside (command line or environment) names a student's code.
# With one set, only labsim is built: the Check unit suites test our own implementations
# through their internals (raft_int.h, kv_int.h), so `make test` and check_main refuse.
IMPL_GIVEN = $(strip $(foreach v,$(filter %_IMPL,$(.VARIABLES)), \
               $(if $(filter command environment%,$(firstword $(origin $(v)))),$(v))))

# The MapReduce coordinator and worker under test (lab 1): a student may point this at theirs.
MR_IMPL ?= $(wildcard mr/*.c)
# Lab 5's services, replaceable the same way (a list of files; see README.md, "Lab 5").
SHARDCTRLER_IMPL ?= $(wildcard shardctrler/*.c)
SHARDKV_IMPL ?= $(wildcard shardkv/*.c)

# tests/ has one folder per lab's graded suite (raft/, kvraft/, ...), the shared graded harness
# (harness/), the Check unit suites (unit/), data/ and fuzz/. Every folder with sources is on the
# include path, so a new lab's suite needs no edit here.
TEST_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard tests/*/*.c tests/*/*.h))))
SUITE_DIRS := $(filter-out tests/unit tests/fuzz tests/data,$(TEST_DIRS))
CPPFLAGS  += -D_POSIX_C_SOURCE=200809L -Isrc -Ilabgob -Ilabrpc -Iraft -Ikvraft -Ikvsrv -Imr -Ishardctrler -Ishardkv \
             $(addprefix -I,$(filter-out tests/fuzz,$(TEST_DIRS))) -Itests
CFLAGS    ?= -std=c11 -Wall -Wextra -Wpedantic -Werror -g $(OPT) $(SAN)
DEPFLAGS   = -MMD -MP
DEP_PKGS   = check libxxhash
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEP_PKGS) 2>/dev/null || echo -pthread)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(DEP_PKGS) 2>/dev/null || \
                echo -lcheck -lsubunit -lm -lrt -lpthread -lxxhash)
LDLIBS     = $(DEP_LIBS)

LIB_SRCS    = $(wildcard src/*.c labgob/*.c labrpc/*.c) $(RAFT_PROVIDED) $(RAFT_IMPL) \
              $(KVRAFT_IMPL) $(KVSRV_PROVIDED) $(KVSRV_IMPL) $(MR_IMPL) \
              $(SHARDCTRLER_IMPL) $(SHARDKV_IMPL)
# The graded harness and every lab's suite; the Check unit suites.
HARNESS_SRCS = $(foreach d,$(SUITE_DIRS),$(wildcard $(d)/*.c))
CHECK_SRCS  = $(wildcard tests/unit/*.c)
TOOL_SRCS   = $(wildcard tools/*.c)
# `labsim init` writes the skeletons of tools/skel/ (one per lab), built into the binary by a
# small generator. Each skeleton is also compiled as it stands, so one that no longer builds
# against its lab's header fails the build instead of a student's first make.
SKEL_SRCS = $(wildcard tools/skel/*.c)
SKEL_OBJS = $(patsubst tools/skel/%.c,$(BUILD)/gen/skel_%.o,$(SKEL_SRCS))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJS     = $(call obj,$(LIB_SRCS))
HARNESS_OBJS = $(call obj,$(HARNESS_SRCS))
CHECK_OBJS   = $(call obj,$(CHECK_SRCS))
TOOL_OBJS    = $(call obj,$(TOOL_SRCS))

LABSIM = $(BUILD)/labsim
CHECK_MAIN = $(BUILD)/check_main

# The real-network mode (net/; README, "Real-network mode"): the server links the very kernel,
# labgob, raft/ and kvraft/ objects labsim links, with net/'s TCP labrpc and persister (raft/wal.c's
# log on real files) in place of labrpc/ and raft/persister.c. Built only with our own Raft and
# kvraft (it uses kvraft's wire codec), so not when an *_IMPL is given.
NET_PKGS      = libuv jansson
NET_LIBS     := $(shell $(PKG_CONFIG) --libs $(NET_PKGS) 2>/dev/null || echo -luv -ljansson) \
                -lhttp_parser $(shell $(PKG_CONFIG) --libs libxxhash 2>/dev/null || echo -lxxhash)
NET_SRCS      = $(filter-out net/main_%.c,$(wildcard net/*.c))
NET_CLIENT_SRCS = net/net_client.c net/net_addr.c
RAFTKV_SRCS   = $(filter-out src/lin_%.c,$(wildcard src/*.c)) $(wildcard labgob/*.c) \
                raft/persister_ext.c raft/trace_api.c raft/wal.c $(RAFT_IMPL) $(KVRAFT_IMPL) $(NET_SRCS) \
                net/main_raftkv.c
RAFTKV        = $(BUILD)/raftkv
RAFTKV_CLIENT = $(BUILD)/raftkv-client
NET_BINS      = $(if $(IMPL_GIVEN),,$(RAFTKV) $(RAFTKV_CLIENT))

.PHONY: all deps test grade bench cluster cluster-stop sanitize sanitize-own sanitize-impl fuzz lint format \
        format-check clean mutants
all: $(LABSIM) $(if $(IMPL_GIVEN),,$(CHECK_MAIN)) $(NET_BINS)

ifneq ($(IMPL_GIVEN),)
ifneq ($(filter test $(CHECK_MAIN),$(MAKECMDGOALS)),)
$(error $(IMPL_GIVEN) given: the unit suites test only this project's own code (use make grade))
endif
endif

deps:
	@sh tools/ensure-deps

# What $(BUILD) was built with. Objects depend on the compiler and its flags (build-flags), so
# `make sanitize` into a BUILD that `make grade` filled rebuilds them instead of silently mixing
# the two; the library depends on the sources under test (build-srcs), so another RAFT_IMPL
# relinks it without the old implementation's objects, while every object that did not change
# is reused (the suites that build planted or outside Rafts rely on that for their speed).
# Each file is rewritten only when it differs.
BUILD_FLAGS = $(BUILD)/build-flags
BUILD_SRCS = $(BUILD)/build-srcs
$(BUILD_FLAGS): FORCE_CONFIG
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(CC) $(CPPFLAGS) $(CFLAGS) $(DEP_CFLAGS)' > $@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
$(BUILD_SRCS): FORCE_CONFIG
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(LIB_SRCS)' > $@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
.PHONY: FORCE_CONFIG
FORCE_CONFIG:

$(BUILD)/obj/%.o: %.c $(BUILD_FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEP_CFLAGS) $(DEPFLAGS) -c $< -o $@

# Lab 1's inputs are embedded in the binary (.incbin), so the object depends on them.
$(call obj,tests/mr/mr_data.c): $(wildcard tests/data/mr/pg-*.txt)

$(BUILD)/liblabsim.a: $(LIB_OBJS) $(HARNESS_OBJS) $(BUILD_SRCS)
	@rm -f $@
	ar rcs $@ $(LIB_OBJS) $(HARNESS_OBJS)

$(LABSIM): $(TOOL_OBJS) $(SKEL_OBJS) $(BUILD)/liblabsim.a
	$(CC) $(CFLAGS) -o $@ $(TOOL_OBJS) $(SKEL_OBJS) $(BUILD)/liblabsim.a $(LDLIBS)

# The rules that build the skeletons `labsim init` writes (SKEL_OBJS, above).
$(BUILD)/embed: tools/embed/embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $<
$(BUILD)/gen/skel_%.c: tools/skel/%.c $(BUILD)/embed $(BUILD)/obj/tools/skel/%.o
	@mkdir -p $(dir $@)
	$(BUILD)/embed skel_$* $< $@
$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
.PRECIOUS: $(BUILD)/gen/skel_%.c $(BUILD)/obj/tools/skel/%.o

$(CHECK_MAIN): $(CHECK_OBJS) $(call obj,$(NET_CLIENT_SRCS)) $(BUILD)/liblabsim.a
	$(CC) $(CFLAGS) -o $@ $(CHECK_OBJS) $(call obj,$(NET_CLIENT_SRCS)) $(BUILD)/liblabsim.a \
	  $(LDLIBS) $(NET_LIBS)

$(RAFTKV): $(call obj,$(RAFTKV_SRCS))
	$(CC) $(CFLAGS) -o $@ $^ $(NET_LIBS) $(DEP_CFLAGS)
$(RAFTKV_CLIENT): $(call obj,$(NET_CLIENT_SRCS) net/main_client.c)
	$(CC) $(CFLAGS) -o $@ $^ $(NET_LIBS) -pthread

# The determinism test compares digests of this -O2 build with an -O0 build of the same code.
O0_LABSIM = $(BUILD)-O0/labsim
$(O0_LABSIM): FORCE_O0
	@$(MAKE) --no-print-directory BUILD=$(BUILD)-O0 OPT=-O0 $(BUILD)-O0/labsim
.PHONY: FORCE_O0
FORCE_O0:

# Check's summary line is the last line printed (see tests/unit/check_main.c).
test: deps lint
	@$(MAKE) --no-print-directory $(LABSIM) $(CHECK_MAIN) $(O0_LABSIM) $(NET_BINS)
	@LABSIM_BIN=$(abspath $(LABSIM)) LABSIM_O0_BIN=$(abspath $(O0_LABSIM)) \
	  LABSIM_ROOT=$(CURDIR) $(CHECK_MAIN)

# Two worker processes: the same output as one, faster, and a Raft that crashes (a segfault or
# an assertion) fails only the run it crashed in instead of ending the whole grade.
GRADE_JOBS ?= 2
grade: deps
	@$(MAKE) --no-print-directory $(LABSIM)
	@$(LABSIM) run all --jobs $(GRADE_JOBS)

bench: deps
	@$(MAKE) --no-print-directory $(LABSIM) $(NET_BINS)
	@$(LABSIM) bench
	@$(if $(NET_BINS),sh net/bench.sh $(BUILD))

# A 3-node raftkv cluster on loopback (README, "Real-network mode"): HTTP on 127.0.0.1:8001-8003.
cluster: deps
	@$(MAKE) --no-print-directory $(RAFTKV) $(RAFTKV_CLIENT)
	@RAFTKV=$(RAFTKV) RAFTKV_CLIENT=$(RAFTKV_CLIENT) sh net/cluster.sh start
cluster-stop:
	@RAFTKV=$(RAFTKV) RAFTKV_CLIENT=$(RAFTKV_CLIENT) sh net/cluster.sh stop

# The mutant catalogue (README, "Mutants"): each patch of tests/mutants/ with a Module: header,
# applied to a scratch copy and built, must fail its module's graded parts within MUTANT_SEEDS
# seeds or the explorer's EXPLORE_SEEDS; prints one table row per mutant (see
# tests/mutants/run.sh). About 17 minutes (5 of CPU) on 2 shared cores without the explorer; with
# it, well over half an hour (README "Mutants", "Duration"); not part of `make test`.
MUTANT_SEEDS ?= 50
MUTANT_JOBS ?= 2
mutants: deps
	@MUTANT_JOBS=$(MUTANT_JOBS) BUILD=$(BUILD) sh tests/mutants/run.sh $(MUTANT_SEEDS)

SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Two routes. Our own code (no *_IMPL, no BUILD given): everything into build-san/, the unit
# suites, then the graded suites. A student's code (any *_IMPL or BUILD given): their code and
# ours around it into $(BUILD) (default build-san-mine/), then the graded suites alone, in one
# process so that the leak check at exit sees every run.
BUILD_GIVEN = $(filter command environment%,$(firstword $(origin BUILD)))
SAN_ROUTE = $(if $(IMPL_GIVEN)$(BUILD_GIVEN),sanitize-impl,sanitize-own)
SAN_IMPL_BUILD = $(if $(BUILD_GIVEN),$(BUILD),build-san-mine)
sanitize: $(SAN_ROUTE)
sanitize-impl: deps
	@$(MAKE) --no-print-directory BUILD=$(SAN_IMPL_BUILD) OPT=-O1 SAN="$(SAN_FLAGS)" \
	  $(SAN_IMPL_BUILD)/labsim
	@ASAN_OPTIONS=detect_leaks=1 $(SAN_IMPL_BUILD)/labsim run all
sanitize-own: deps
	@$(MAKE) --no-print-directory BUILD=build-san OPT=-O1 SAN="$(SAN_FLAGS)" \
	  build-san/labsim build-san/check_main build-san/raftkv build-san/raftkv-client
	@ASAN_OPTIONS=detect_leaks=1 LABSIM_BIN=$(abspath build-san/labsim) \
	  LABSIM_ROOT=$(CURDIR) LABSIM_SKIP_O0=1 build-san/check_main
	@ASAN_OPTIONS=detect_leaks=1 build-san/labsim run all
	@ASAN_OPTIONS=detect_leaks=1 build-san/labsim explore raft --seeds 100
	@ASAN_OPTIONS=detect_leaks=1 build-san/labsim explore kvraft --seeds 50
	@ASAN_OPTIONS=detect_leaks=1 build-san/labsim explore mr --seeds 50

# Simulated code must take time and randomness only from struct sim. Comments are stripped
# before matching so prose about "time (virtual ...)" is not flagged.
LINT_RE = \b(time|clock_gettime|gettimeofday|rand|random|srand|srandom|getpid|pthread_create)[[:space:]]*\(
# Users clone the project with nothing beside it, so no tracked file outside README.md and
# tests/data/ may point into the shared/ directory next to the clone (the pattern below is
# escaped so that this Makefile does not match itself).
SHARED_RE = \.\./shared
lint:
	@hits=$$(grep -rnE '$(LINT_RE)' src labrpc labgob raft kvraft kvsrv mr shardctrler shardkv \
	  | sed -E 's#/\*([^*]|\*+[^*/])*\*+/##g; s#//.*$$##' \
	  | grep -vE '^[^:]+:[0-9]+:[[:space:]]*/?\*' | grep -E '$(LINT_RE)'); \
	if [ -n "$$hits" ]; then echo "$$hits"; \
	  echo "lint: simulated code must not read the wall clock or OS randomness"; exit 1; fi
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  hits=$$(git grep -n -e '$(SHARED_RE)' -- . ':!README.md' ':!tests/data/'); \
	else \
	  hits=$$(grep -rn --exclude-dir=.git --exclude-dir='build*' -e '$(SHARED_RE)' . \
	    | grep -vE '^\./(README\.md|tests/data/)'); \
	fi; \
	if [ -n "$$hits" ]; then echo "$$hits"; \
	  echo "lint: the build, tests and tools must need nothing outside the clone" \
	    "(copy what they need into the repository, e.g. under tests/data/)"; exit 1; fi

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-O0 build-san build-san-mine build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# libFuzzer target for the labgob decoder, built with clang from the labgob sources alone (see
# tests/fuzz/fuzz_gob.c). New inputs go to a scratch corpus in build-fuzz/ (the first
# directory); the committed seeds (the second) are only read, so the repository stays small.
# One job: `make fuzz-gob FUZZ_RUNS=1000` for a smoke run.
FUZZ_CC    ?= clang
FUZZ_RUNS  ?= 10000000
FUZZ_FLAGS  = -std=c11 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L -g -O1 \
              -fno-omit-frame-pointer -fno-sanitize-recover=all -Ilabgob -Itests/fuzz
FUZZ_GOB_SRCS = $(wildcard labgob/*.c) tests/fuzz/fuzz_gob.c
FUZZ_GOB_DEPS = $(FUZZ_GOB_SRCS) $(wildcard labgob/*.h) tests/fuzz/gob_fuzz_oracle.h

build-fuzz/fuzz_gob: $(FUZZ_GOB_DEPS)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_GOB_SRCS)

fuzz-gob: build-fuzz/fuzz_gob
	@mkdir -p build-fuzz/corpus-gob
	build-fuzz/fuzz_gob -runs=$(FUZZ_RUNS) -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=build-fuzz/ build-fuzz/corpus-gob tests/fuzz/corpus/gob

# Rewrites the committed seeds (deterministic: a rerun changes nothing).
build-fuzz/gen_gob_seeds: tests/fuzz/gen_gob_seeds.c $(wildcard labgob/*.c labgob/*.h)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/gen_gob_seeds.c $(wildcard labgob/*.c)
fuzz-gob-seeds: build-fuzz/gen_gob_seeds
	@mkdir -p tests/fuzz/corpus/gob
	build-fuzz/gen_gob_seeds tests/fuzz/corpus/gob

.PHONY: fuzz-gob fuzz-gob-seeds

# libFuzzer target for the linearizability checker's two history parsers and the checker
# itself (tests/fuzz/fuzz_lin_parse.c), built with clang from src/lin_*.c alone. New inputs go
# to a scratch corpus in build-fuzz/ (the first directory); the committed seeds (the second)
# are only read. `make fuzz-lin FUZZ_RUNS=1000` for a smoke run.
FUZZ_CC   ?= clang
FUZZ_RUNS ?= 10000000
FUZZ_LIN_FLAGS = -std=c11 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L -g -O1 \
                 -fno-omit-frame-pointer -fno-sanitize-recover=all -Isrc
FUZZ_LIN_SRCS = $(wildcard src/lin_*.c) tests/fuzz/fuzz_lin_parse.c
FUZZ_LIN_LIBS := $(shell $(PKG_CONFIG) --libs libxxhash 2>/dev/null || echo -lxxhash)

build-fuzz/fuzz_lin_parse: $(FUZZ_LIN_SRCS) src/lin.h src/lin_int.h
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_LIN_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_LIN_SRCS) \
	  $(FUZZ_LIN_LIBS)

fuzz-lin: build-fuzz/fuzz_lin_parse
	@mkdir -p build-fuzz/corpus-lin
	build-fuzz/fuzz_lin_parse -runs=$(FUZZ_RUNS) -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=build-fuzz/ -dict=tests/fuzz/lin.dict build-fuzz/corpus-lin \
	  tests/fuzz/corpus/lin

.PHONY: fuzz-lin

# libFuzzer target for the write-ahead log's recovery (tests/fuzz/fuzz_wal.c): arbitrary bytes
# as a log file, built with clang from raft/wal.c alone. Same corpus layout as above.
# `make fuzz-wal FUZZ_RUNS=1000` for a smoke run.
FUZZ_WAL_SRCS = raft/wal.c tests/fuzz/fuzz_wal.c

build-fuzz/fuzz_wal: $(FUZZ_WAL_SRCS) raft/wal.h
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_LIN_FLAGS) -Iraft -fsanitize=fuzzer,address,undefined -o $@ \
	  $(FUZZ_WAL_SRCS) $(FUZZ_LIN_LIBS)

fuzz-wal: build-fuzz/fuzz_wal
	@mkdir -p build-fuzz/corpus-wal
	build-fuzz/fuzz_wal -runs=$(FUZZ_RUNS) -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=build-fuzz/ build-fuzz/corpus-wal tests/fuzz/corpus/wal

.PHONY: fuzz-wal

# libFuzzer target for the explorer's schedule-file parser (tests/fuzz/fuzz_explore_sched.c),
# built with clang from tests/explore/explore_sched.c alone. `make fuzz-sched FUZZ_RUNS=1000`
# for a smoke run.
FUZZ_SCHED_SRCS = tests/explore/explore_sched.c tests/fuzz/fuzz_explore_sched.c

build-fuzz/fuzz_explore_sched: $(FUZZ_SCHED_SRCS) tests/explore/explore.h
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_LIN_FLAGS) -Itests/harness -Itests/explore \
	  -fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_SCHED_SRCS)

fuzz-sched: build-fuzz/fuzz_explore_sched
	@mkdir -p build-fuzz/corpus-sched
	build-fuzz/fuzz_explore_sched -runs=$(FUZZ_RUNS) -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=build-fuzz/ build-fuzz/corpus-sched tests/fuzz/corpus/sched

.PHONY: fuzz-sched

# libFuzzer target for the trace-file reader of `labsim log`, `step` and `export`
# (tests/fuzz/fuzz_trace.c), built with clang from tools/trace_file.c and the kernel files it
# needs. Traces are longer than the other formats, hence the larger -max_len.
# `make fuzz-trace FUZZ_RUNS=1000` for a smoke run.
FUZZ_TRACE_SRCS = tools/trace_file.c $(filter-out src/lin_%.c,$(wildcard src/*.c)) \
                  tests/fuzz/fuzz_trace.c

build-fuzz/fuzz_trace: $(FUZZ_TRACE_SRCS) tools/trace_file.h $(wildcard src/sim*.h)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_LIN_FLAGS) -Itools -fsanitize=fuzzer,address,undefined -o $@ \
	  $(FUZZ_TRACE_SRCS) $(FUZZ_LIN_LIBS)

fuzz-trace: build-fuzz/fuzz_trace
	@mkdir -p build-fuzz/corpus-trace
	build-fuzz/fuzz_trace -runs=$(FUZZ_RUNS) -max_len=16384 -print_final_stats=1 \
	  -artifact_prefix=build-fuzz/ -dict=tests/fuzz/trace.dict build-fuzz/corpus-trace \
	  tests/fuzz/corpus/trace

# The same target without ASan (UBSan only), for volume: a struct trace_file is 620 KB, which
# ASan maps, poisons and unmaps on every open, making each run about four times dearer. It
# grows the same scratch corpus; `make fuzz-trace FUZZ_RUNS=0` then runs every input of it once
# under ASan.
build-fuzz/fuzz_trace_fast: $(FUZZ_TRACE_SRCS) tools/trace_file.h $(wildcard src/sim*.h)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_LIN_FLAGS) -Itools -fsanitize=fuzzer,undefined -o $@ \
	  $(FUZZ_TRACE_SRCS) $(FUZZ_LIN_LIBS)

fuzz-trace-fast: build-fuzz/fuzz_trace_fast
	@mkdir -p build-fuzz/corpus-trace
	build-fuzz/fuzz_trace_fast -runs=$(FUZZ_RUNS) -max_len=16384 -print_final_stats=1 \
	  -artifact_prefix=build-fuzz/ -dict=tests/fuzz/trace.dict build-fuzz/corpus-trace \
	  tests/fuzz/corpus/trace

.PHONY: fuzz-trace fuzz-trace-fast
