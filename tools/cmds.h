/* The subcommands of the labsim program, one line each (X-macro): name, function, one-line
 * help. Each lives in tools/cmd_<name>.c as `int cmd_<name>(int argc, char **argv)`, gets the
 * arguments after the subcommand name (argv[0] is the subcommand) and returns the exit code. */
#ifndef TOOLS_CMDS_H
#define TOOLS_CMDS_H

#define LABSIM_CMDS(X)                                                                             \
    X("bench", cmd_bench, "benchmarks with this machine's numbers (make bench)")                   \
    X("check", cmd_check, "check a history file for linearizability")                              \
    X("list", cmd_list, "list the graded tests with their part and description")                   \
    X("run", cmd_run, "run graded tests over seeds, in parallel, sharded: labsim run PATTERN")     \
    X("replay", cmd_replay, "replay one test on one seed, optionally writing its trace")           \
    X("check-determinism", cmd_check_determinism, "run each test twice per seed, compare digests") \
    X("step", cmd_step, "study one run event by event: labsim step TEST --seed S")                 \
    X("log", cmd_log, "print a trace file as one column per node: labsim log FILE")                \
    X("export", cmd_export, "trace file to Perfetto JSON or an HTML timeline")                     \
    X("init", cmd_init, "write a lab's starting files (a skeleton): labsim init LAB DIR")          \
    X("explore", cmd_explore, "random fault schedules with safety/liveness checks: explore raft")  \
    X("shrink", cmd_shrink, "reduce a failing explorer schedule: labsim shrink FILE")

/* What every command gets besides its arguments. */
struct labsim_cli {
    /* labsim's own path as it was invoked (argv[0]): the program that "replay:" lines name,
     * and whose directory holds the default failing-seeds file, so a build in build-mine/
     * prints build-mine/labsim and writes build-mine/failing-seeds.txt. */
    const char *program;
};

/* `labsim replay --schedule FILE` (tools/cmd_explore.c): cmd_replay hands such a command line
 * over whole. */
int explore_cmd_replay_schedule(const struct labsim_cli *cli, int argc, char **argv);

#define LABSIM_CMD_DECL(name, fn, help) int fn(const struct labsim_cli *cli, int argc, char **argv);
LABSIM_CMDS(LABSIM_CMD_DECL)
#undef LABSIM_CMD_DECL

#endif /* TOOLS_CMDS_H */
