/* The subcommands of the labsim program, one line each (X-macro): name, function, one-line
 * help. Each lives in tools/cmd_<name>.c as `int cmd_<name>(int argc, char **argv)`, gets the
 * arguments after the subcommand name (argv[0] is the subcommand) and returns the exit code. */
#ifndef TOOLS_CMDS_H
#define TOOLS_CMDS_H

#define LABSIM_CMDS(X)                                                                        \
    X("check", cmd_check, "check a history file for linearizability")

#define LABSIM_CMD_DECL(name, fn, help) int fn(int argc, char **argv);
LABSIM_CMDS(LABSIM_CMD_DECL)
#undef LABSIM_CMD_DECL

#endif /* TOOLS_CMDS_H */
