/* cmd_init: `labsim init LAB DIR [--force]`, a student's starting files.
 *
 * Writes the skeleton of one lab into DIR, as the handout hands out raft.go or server.go and
 * client.go: files that build against the lab's header, fail the lab's tests the way an empty
 * implementation should, and have TODOs where the parts go. The skeletons are real sources in
 * tools/skel/ (every build compiles them, so they cannot rot), built into the binary by
 * tools/embed/embed.c. A lab is one entry in init_labs: its files and how to grade them.
 *
 * DIR is created when missing (not its parents). Nothing is written unless every file can be:
 * an existing file stays untouched without --force. Exit status: 0 written, 1 could not write,
 * 2 bad arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cmds.h"

#define INIT_FILES_MAX 4
#define INIT_PATH_MAX 4096

/* Defined in $(BUILD)/gen/skel_*.c, generated from tools/skel/ (Makefile). */
extern const char skel_raft[];
extern const size_t skel_raft_len;
extern const char skel_kvraft_server[];
extern const size_t skel_kvraft_server_len;
extern const char skel_kvraft_client[];
extern const size_t skel_kvraft_client_len;
extern const char skel_kvsrv_server[];
extern const size_t skel_kvsrv_server_len;
extern const char skel_kvsrv_client[];
extern const size_t skel_kvsrv_client_len;
extern const char skel_mr_coordinator[];
extern const size_t skel_mr_coordinator_len;
extern const char skel_mr_worker[];
extern const size_t skel_mr_worker_len;
extern const char skel_shardctrler_server[];
extern const size_t skel_shardctrler_server_len;
extern const char skel_shardctrler_client[];
extern const size_t skel_shardctrler_client_len;
extern const char skel_shardkv_server[];
extern const size_t skel_shardkv_server_len;
extern const char skel_shardkv_client[];
extern const size_t skel_shardkv_client_len;

struct init_file {
    const char *name; /* written as DIR/name */
    const char *text;
    const size_t *len;
};

struct init_lab {
    const char *name;                       /* labsim init NAME */
    const char *what;                       /* for the messages */
    const char *impl_var;                   /* the make variable that grades these files */
    const char *first_part;                 /* `labsim run PART`: the lab's first part */
    const char *first_run;                  /* the first test of the lab (the step example) */
    const char *trace_hint;                 /* how to trace the student's code; NULL: none */
    const char *grade_note;                 /* a line under the make line; NULL: none */
    struct init_file files[INIT_FILES_MAX]; /* name NULL: end */
};

/* In the order of the labs. */
static const struct init_lab init_labs[] = {
    {"mr",
     "lab 1, MapReduce",
     "MR_IMPL",
     "1",
     "TestWc1",
     NULL,
     NULL,
     {{"coordinator.c", skel_mr_coordinator, &skel_mr_coordinator_len},
      {"worker.c", skel_mr_worker, &skel_mr_worker_len}}},
    {"kvsrv",
     "lab 2, the key/value server",
     "KVSRV_IMPL",
     "2",
     "TestBasic2",
     NULL,
     NULL,
     {{"server.c", skel_kvsrv_server, &skel_kvsrv_server_len},
      {"client.c", skel_kvsrv_client, &skel_kvsrv_client_len}}},
    {"raft",
     "lab 3, Raft: 3A-3D",
     "RAFT_IMPL",
     "3A",
     "TestInitialElection3A",
     "trace your code with the raft_trace_* calls (raft/raft.h)",
     NULL,
     {{"raft.c", skel_raft, &skel_raft_len}}},
    {"kvraft",
     "lab 4, key/value on Raft: 4A-4B",
     "KVRAFT_IMPL",
     "4A",
     "TestBasic4A",
     "trace your server with raft_trace_note (raft/raft.h)",
     "on our Raft; add RAFT_IMPL=/path/to/raft.c to grade it on yours",
     {{"server.c", skel_kvraft_server, &skel_kvraft_server_len},
      {"client.c", skel_kvraft_client, &skel_kvraft_client_len}}},
    {"shardctrler",
     "lab 5A, the shard controller",
     "SHARDCTRLER_IMPL",
     "5A",
     "TestBasic",
     "trace your server with raft_trace_note (raft/raft.h)",
     "on our Raft; add RAFT_IMPL=/path/to/raft.c to grade it on yours",
     {{"server.c", skel_shardctrler_server, &skel_shardctrler_server_len},
      {"client.c", skel_shardctrler_client, &skel_shardctrler_client_len}}},
    {"shardkv",
     "lab 5B, sharded key/value: 5A-5C",
     "SHARDKV_IMPL",
     "5B",
     "TestStaticShards5A",
     "trace your server with raft_trace_note (raft/raft.h)",
     "on our controller and Raft; add SHARDCTRLER_IMPL=... and RAFT_IMPL=... for yours",
     {{"server.c", skel_shardkv_server, &skel_shardkv_server_len},
      {"client.c", skel_shardkv_client, &skel_shardkv_client_len}}},
};
#define INIT_LABS_COUNT (sizeof(init_labs) / sizeof(init_labs[0]))

static void init_usage(FILE *out)
{
    fprintf(out, "usage: labsim init LAB DIR [--force]\n"
                 "  writes LAB's starting files into DIR (created when missing); an existing\n"
                 "  file is kept unless --force. Each skeleton builds and fails its lab's tests\n"
                 "  cleanly; `make grade VAR=\"FILES\" BUILD=build-mine` grades it. Labs:\n");
    for (size_t i = 0; i < INIT_LABS_COUNT; i++) {
        const struct init_lab *lab = &init_labs[i];
        fprintf(out, "  %-11s %s; writes ", lab->name, lab->what);
        for (size_t f = 0; f < INIT_FILES_MAX && lab->files[f].name != NULL; f++)
            fprintf(out, "%s ", lab->files[f].name);
        fprintf(out, "(%s)\n", lab->impl_var);
    }
}

static const struct init_lab *init_lab_find(const char *name)
{
    for (size_t i = 0; i < INIT_LABS_COUNT; i++) {
        if (strcmp(init_labs[i].name, name) == 0) return &init_labs[i];
    }
    return NULL;
}

/* DIR exists as a directory, or is created (one level). 0, or 1/2 after a one-line message. */
static int init_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        fprintf(stderr, "labsim init: '%s' exists and is not a directory\n", dir);
        return 2;
    }
    if (mkdir(dir, 0777) != 0) {
        fprintf(stderr, "labsim init: cannot create directory '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    return 0;
}

static int init_path(char *buf, const char *dir, const char *name)
{
    int n = snprintf(buf, INIT_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= INIT_PATH_MAX) {
        fprintf(stderr, "labsim init: path too long: '%s/%s'\n", dir, name);
        return 2;
    }
    return 0;
}

/* Every file of `lab` may be written (absent, or --force). 0, or 1/2 after a message. */
static int init_check(const struct init_lab *lab, const char *dir, bool force)
{
    char path[INIT_PATH_MAX];
    for (size_t i = 0; i < INIT_FILES_MAX && lab->files[i].name != NULL; i++) {
        int rc = init_path(path, dir, lab->files[i].name);
        if (rc != 0) return rc;
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (!S_ISREG(st.st_mode)) {
            fprintf(stderr, "labsim init: '%s' exists and is not a file\n", path);
            return 1;
        }
        if (!force) {
            fprintf(stderr, "labsim init: '%s' exists; not overwritten (--force replaces it)\n",
                    path);
            return 1;
        }
    }
    return 0;
}

static int init_write(const char *path, const struct init_file *file)
{
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "labsim init: cannot write '%s': %s\n", path, strerror(errno));
        return 1;
    }
    size_t wrote = fwrite(file->text, 1, *file->len, out);
    if (fclose(out) != 0 || wrote != *file->len) {
        fprintf(stderr, "labsim init: cannot write '%s' (disk full?)\n", path);
        return 1;
    }
    return 0;
}

/* The commands that come next, with DIR made absolute so they work from the clone (the
 * directory as given, not resolved: it exists, so the path works). */
static void init_next_steps(const struct init_lab *lab, const struct labsim_cli *cli,
                            const char *dir)
{
    char cwd[INIT_PATH_MAX];
    char abs_dir[2 * INIT_PATH_MAX];
    if (dir[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
        snprintf(abs_dir, sizeof(abs_dir), "%s/%s", cwd, dir);
    else
        snprintf(abs_dir, sizeof(abs_dir), "%s", dir);
    (void)cli;
    printf("next steps, in the labsim clone:\n");
    printf("  make grade %s=\"", lab->impl_var);
    for (size_t i = 0; i < INIT_FILES_MAX && lab->files[i].name != NULL; i++)
        printf("%s%s/%s", i > 0 ? " " : "", abs_dir, lab->files[i].name);
    printf("\" BUILD=build-mine\n");
    if (lab->grade_note != NULL) printf("      %s\n", lab->grade_note);
    printf("      builds labsim against your files and runs every graded test (the skeleton\n"
           "      fails them, cleanly); then one part at a time: build-mine/labsim run %s\n"
           "  build-mine/labsim step %s --seed 1\n"
           "      watches one run%s%s\n",
           lab->first_part, lab->first_run, lab->trace_hint != NULL ? "; " : "",
           lab->trace_hint != NULL ? lab->trace_hint : "");
}

int cmd_init(const struct labsim_cli *cli, int argc, char **argv)
{
    bool force = false;
    bool help = false;
    const struct args_flag flags[] = {
        {"force", ARGS_BOOL, &force, NULL},
        {"help", ARGS_BOOL, &help, NULL},
    };
    const char *positional[2];
    size_t positional_count = 0;
    char err[ARGS_ERR_MAX];
    if (args_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 2,
                   &positional_count, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim init: %s\n", err);
        return 2;
    }
    if (help) {
        init_usage(stdout);
        return 0;
    }
    if (positional_count != 2) {
        fprintf(stderr, "labsim init: needs a lab and a directory (usage: labsim init LAB DIR)\n");
        return 2;
    }
    const struct init_lab *lab = init_lab_find(positional[0]);
    if (lab == NULL) {
        fprintf(stderr, "labsim init: unknown lab '%s' (labsim init --help lists them)\n",
                positional[0]);
        return 2;
    }
    const char *dir = positional[1];
    int rc = init_dir(dir);
    if (rc == 0) rc = init_check(lab, dir, force);
    char path[INIT_PATH_MAX];
    for (size_t i = 0; rc == 0 && i < INIT_FILES_MAX && lab->files[i].name != NULL; i++) {
        rc = init_path(path, dir, lab->files[i].name);
        if (rc == 0) rc = init_write(path, &lab->files[i]);
        if (rc == 0) printf("labsim init: wrote %s (%s)\n", path, lab->what);
    }
    if (rc == 0) init_next_steps(lab, cli, dir);
    return rc;
}
