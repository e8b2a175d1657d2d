/* labsim: the command-line front end. Dispatches to the subcommands listed in cmds.h;
 * `labsim help`, `--help` and `-h` list them, `labsim help COMMAND` is `COMMAND --help`. An
 * unknown command is one line on stderr and exit status 2. */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

#include "cmds.h"

struct labsim_cmd {
    const char *name;
    int (*fn)(const struct labsim_cli *cli, int argc, char **argv);
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

static const struct labsim_cmd *cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof(labsim_cmds) / sizeof(labsim_cmds[0]); i++) {
        if (strcmp(name, labsim_cmds[i].name) == 0) return &labsim_cmds[i];
    }
    return NULL;
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "labsim: unknown command '%s' (try 'labsim help')\n", name);
    return 2;
}

/* `labsim help [COMMAND]`: the command list, or COMMAND's own --help. */
static int help(const struct labsim_cli *cli, int argc, char **argv)
{
    if (argc < 3) {
        usage(stdout);
        return 0;
    }
    if (argc > 3) {
        fprintf(stderr, "labsim: help takes at most one command (usage: labsim help [COMMAND])\n");
        return 2;
    }
    const struct labsim_cmd *cmd = cmd_find(argv[2]);
    if (cmd == NULL) return unknown_command(argv[2]);
    char help_flag[] = "--help";
    char *cmd_argv[] = {argv[2], help_flag, NULL};
    return cmd->fn(cli, 2, cmd_argv);
}

/* A run allocates and frees buffers of megabytes (the memory tests' 10 MB values, the
 * checker's tables) many times over. glibc serves those with fresh mmaps and gives the memory
 * back at once, so every run pays page faults for memory it just released; keeping it in the
 * heap makes a sweep cheaper. Only speed: no run depends on where its memory comes from. */
static void labsim_malloc_tune(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

int main(int argc, char **argv)
{
    labsim_malloc_tune();
    const struct labsim_cli cli = {.program = argv[0] != NULL ? argv[0] : "labsim"};
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) return help(&cli, argc, argv);
    const struct labsim_cmd *cmd = cmd_find(argv[1]);
    if (cmd == NULL) return unknown_command(argv[1]);
    return cmd->fn(&cli, argc - 1, argv + 1);
}
