/* labsim: the command-line front end. Dispatches to the subcommands listed in cmds.h. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

struct labsim_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct labsim_cmd labsim_cmds[] = {
#define LABSIM_CMD_ENTRY(name, fn, help) {name, fn, help},
    LABSIM_CMDS(LABSIM_CMD_ENTRY)
#undef LABSIM_CMD_ENTRY
};

static void usage(FILE *out)
{
    fprintf(out, "usage: labsim <command> [arguments]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(labsim_cmds) / sizeof(labsim_cmds[0]); i++)
        fprintf(out, "  %-18s %s\n", labsim_cmds[i].name, labsim_cmds[i].help);
    fprintf(out, "\n'labsim <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(labsim_cmds) / sizeof(labsim_cmds[0]); i++) {
        if (strcmp(argv[1], labsim_cmds[i].name) == 0) return labsim_cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "labsim: unknown command '%s' (try 'labsim help')\n", argv[1]);
    return 2;
}
