/* cmd_step: `labsim step TEST --seed S [--topics T,...]`, the interactive study mode.
 *
 * One run is held as a lab session (lab.h) and driven by commands read from standard input,
 * one per line, so it works typed at a terminal (with a prompt) and piped from a script (how
 * the tests drive it):
 *
 *   s [N]      run N kernel events (default 1)
 *   e          run to the next election won (a role change to leader); in a run with no
 *              role events at all (a Raft that never calls raft_trace_role) it stops after
 *              STEP_NO_ROLES_US of virtual time and says so, pointing at raft.h
 *   c          run to the next commit
 *   m          run to the next membership change (raft.config: a configuration took effect)
 *   f          run to the next fault (partition, crash, restart, network change)
 *   r          run to the next read confirmed or lease taken (read-index, lease-read:
 *              read.confirm, lease.start)
 *   t SECONDS  run to that virtual time (e.g. t 2.5)
 *   b TOPIC    run to the next event of a trace topic (net, role, vote, log, ...)
 *   p [NODE]   print a node's state (all nodes without NODE)
 *   g          groups: each Raft group's leader(s) and the configuration each server applied,
 *              and the shard assignment of the newest configuration (lab 5)
 *   h          help;  q  quit (also at the end of the input)
 *
 * Every traced event is printed as it happens ("  1.234567 n2  raft.role term=3
 * role=leader"; a node the harness named is shown by its name, "g101/2"), limited to --topics
 * when given; the break conditions see every topic.
 *
 * `g` is built from the trace alone, so it needs no help from the code under test beyond its
 * trace calls: a group is the nodes whose names share the part before '/' ("g101/0".."g101/2",
 * "ctl/0".."ctl/2"; unnamed nodes form one group), a leader is a node whose last raft.role said
 * leader, a server's configuration is the newest its skv.config (or, for a controller,
 * sc.config) reported, and the shard assignment is that of the newest sc.assign per shard. When
 * the run ends, the failure report (if any) and the run's digest are printed: a run stepped to
 * its end is the run `labsim replay` makes, digest for digest.
 *
 * Exit status: 0 when the run passed or was left before its end, 1 when it failed, 2 on bad
 * arguments.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cmds.h"
#include "lab.h"
#include "trace_file.h"

#define STEP_LINE_MAX 256u
#define STEP_RECORDS_MAX (1u << 20) /* trace records kept (the listener sees only kept ones) */
#define STEP_EVENTS_MAX 1000000000u /* s N */
#define STEP_NODES_MAX 64           /* p without a node; nodes g follows */
#define STEP_SHARDS 10              /* lab 5's NShards, for the assignment g prints */
#define STEP_GROUP_MAX 16           /* bytes of a group's name (the part of a node name before /) */
/* How long `e` looks for a first role event before saying the Raft traces none: the lab's
 * 5 s election budget (a tracing Raft reports its first role at make, time 0). */
#define STEP_NO_ROLES_US SIM_S(5)

enum step_until {
    STEP_UNTIL_NONE = 0,
    STEP_UNTIL_ELECTION,
    STEP_UNTIL_COMMIT,
    STEP_UNTIL_CONFIG,
    STEP_UNTIL_FAULT,
    STEP_UNTIL_TOPIC,
    STEP_UNTIL_READ,
};

/* What g knows of a node, from its trace events. */
struct step_node {
    bool role_seen;
    int64_t term;
    int64_t role;
    int64_t config; /* newest configuration it reported applying; -1 none */
};

struct step {
    struct lab_session *session;
    struct sim *sim;
    uint32_t print_mask; /* topics printed */
    enum step_until until;
    enum sim_topic until_topic;
    bool hit; /* the current break condition matched */
    char hit_what[128];
    bool truncated_told;
    uint64_t roles_seen;          /* role events so far (any node) */
    sim_time_us no_roles_stop_us; /* e: stop here while roles_seen is 0 (0: no such stop) */
    struct step_node nodes[STEP_NODES_MAX];
    bool assigns_seen;
    int64_t config_newest;          /* the newest configuration a controller applied */
    int64_t shard_num[STEP_SHARDS]; /* newest sc.assign per shard: its config and group */
    int64_t shard_gid[STEP_SHARDS];
};

/* Index of a kind's field called `name`, or -1. */
static int step_field(const struct sim_trace_kind *kind, const char *name)
{
    for (int i = 0; i < (int)SIM_TRACE_FIELDS_MAX && kind->fields[i] != NULL; i++) {
        if (strcmp(kind->fields[i], name) == 0) return i;
    }
    return -1;
}

/* A role change is any kind named "*.role" with a "role" field (raft.role today). */
static bool step_is_role(const struct sim_trace_kind *kind)
{
    size_t len = strlen(kind->name);
    return len >= 5 && strcmp(kind->name + len - 5, ".role") == 0 && step_field(kind, "role") >= 0;
}

/* A node as step prints it: its name, "test" for the harness, else "n3". */
static const char *step_node_label(const struct sim *sim, int node, char *buf, size_t size)
{
    const char *name = sim_node_name(sim, node);
    if (name != NULL)
        snprintf(buf, size, "%s", name);
    else if (node == SIM_NODE_NONE)
        snprintf(buf, size, "test");
    else
        snprintf(buf, size, "n%d", node);
    return buf;
}

static void step_print_rec(const struct sim *sim, const struct sim_trace_rec *rec)
{
    const struct sim_trace_kind *kind = rec->kind;
    char node[SIM_NODE_NAME_MAX + 8];
    step_node_label(sim, rec->node, node, sizeof(node));
    printf("%11.6f %-4s %s", (double)rec->at_us / (double)SIM_US_PER_S, node, kind->name);
    for (int i = 0; i < (int)SIM_TRACE_FIELDS_MAX && kind->fields[i] != NULL; i++) {
        const char *role = NULL;
        char set[64];
        if (step_is_role(kind) && strcmp(kind->fields[i], "role") == 0)
            role = trace_file_role_name(rec->v[i]);
        else {
            role = trace_file_value_name(kind->name, kind->fields[i], rec->v[i]);
            if (role == NULL)
                role =
                    trace_file_member_set(kind->name, kind->fields[i], rec->v[i], set, sizeof(set));
        }
        if (role != NULL)
            printf(" %s=%s", kind->fields[i], role);
        else
            printf(" %s=%" PRId64, kind->fields[i], rec->v[i]);
    }
    if (rec->text[0] != '\0') printf(" \"%s\"", rec->text);
    printf("\n");
}

/* Decides whether `rec` ends the current command, and says why. */
static void step_check_break(struct step *st, const struct sim_trace_rec *rec)
{
    const struct sim_trace_kind *kind = rec->kind;
    bool hit = false;
    switch (st->until) {
    case STEP_UNTIL_NONE:
        return;
    case STEP_UNTIL_ELECTION: {
        int role = step_field(kind, "role");
        hit = step_is_role(kind) && rec->v[role] == 2; /* RAFT_LEADER */
        break;
    }
    case STEP_UNTIL_COMMIT:
        hit = kind->topic == SIM_TOPIC_COMMIT;
        break;
    case STEP_UNTIL_CONFIG:
        hit = strcmp(kind->name, "raft.config") == 0;
        break;
    case STEP_UNTIL_FAULT:
        hit = kind->topic == SIM_TOPIC_FAULT;
        break;
    case STEP_UNTIL_TOPIC:
        hit = kind->topic == st->until_topic;
        break;
    case STEP_UNTIL_READ:
        hit = strcmp(kind->name, "read.confirm") == 0 || strcmp(kind->name, "lease.start") == 0;
        break;
    }
    if (!hit || st->hit) return;
    st->hit = true;
    int term = step_field(kind, "term");
    const char *name = sim_node_name(st->sim, rec->node);
    char named[SIM_NODE_NAME_MAX + 4] = "";
    if (name != NULL) snprintf(named, sizeof(named), " (%s)", name);
    if (st->until == STEP_UNTIL_ELECTION && term >= 0)
        snprintf(st->hit_what, sizeof(st->hit_what), "node %d%s became leader of term %" PRId64,
                 (int)rec->node, named, rec->v[term]);
    else if (rec->node == SIM_NODE_NONE)
        snprintf(st->hit_what, sizeof(st->hit_what), "%s on the harness", kind->name);
    else
        snprintf(st->hit_what, sizeof(st->hit_what), "%s on node %d%s", kind->name, (int)rec->node,
                 named);
}

/* Keeps what g prints: roles, the configurations servers applied, the shard assignment. */
static void step_follow(struct step *st, const struct sim_trace_rec *rec)
{
    const struct sim_trace_kind *kind = rec->kind;
    int num = step_field(kind, "num");
    if (strcmp(kind->name, "sc.assign") == 0) {
        int shard = step_field(kind, "shard");
        int gid = step_field(kind, "gid");
        int64_t s = shard >= 0 ? rec->v[shard] : -1;
        if (num < 0 || gid < 0 || s < 0 || s >= STEP_SHARDS) return;
        if (rec->v[num] <= st->shard_num[s]) return; /* configurations count from 1 */
        st->assigns_seen = true;
        st->shard_num[s] = rec->v[num];
        st->shard_gid[s] = rec->v[gid];
        return;
    }
    if (rec->node < 0 || rec->node >= STEP_NODES_MAX) return;
    struct step_node *n = &st->nodes[rec->node];
    if (step_is_role(kind)) {
        int term = step_field(kind, "term");
        n->role_seen = true;
        n->role = rec->v[step_field(kind, "role")];
        n->term = term >= 0 ? rec->v[term] : 0;
        return;
    }
    bool controller = strcmp(kind->name, "sc.config") == 0;
    if (num < 0 || (!controller && strcmp(kind->name, "skv.config") != 0)) return;
    if (rec->v[num] > n->config) n->config = rec->v[num];
    if (controller && rec->v[num] > st->config_newest) st->config_newest = rec->v[num];
}

static void step_listener(struct sim *sim, const struct sim_trace_rec *rec, void *arg)
{
    struct step *st = arg;
    if ((st->print_mask & SIM_TOPIC_BIT(rec->kind->topic)) != 0) step_print_rec(sim, rec);
    if (step_is_role(rec->kind)) st->roles_seen++;
    step_follow(st, rec);
    step_check_break(st, rec);
}

static bool step_hit_pred(struct sim *sim, void *arg)
{
    const struct step *st = arg;
    if (st->no_roles_stop_us != 0 && st->roles_seen == 0 && sim_now_us(sim) >= st->no_roles_stop_us)
        return true;
    return st->hit;
}

static void step_help(void)
{
    printf("commands:\n"
           "  s [N]      run N events (default 1)\n"
           "  e          run to the next election won (a node becomes leader)\n"
           "  c          run to the next commit\n"
           "  m          run to the next membership change (raft.config)\n"
           "  f          run to the next fault (partition, crash, restart, network change)\n"
           "  r          run to the next read confirmed or lease taken (read-index, lease-read)\n"
           "  t SECONDS  run to that virtual time\n"
           "  b TOPIC    run to the next event of TOPIC:");
    for (int t = 0; t < SIM_TOPIC_COUNT; t++)
        printf(" %s", sim_topic_name((enum sim_topic)t));
    printf("\n"
           "  p [NODE]   print a node's state (every node without NODE)\n"
           "  g          groups: leaders, configurations applied, shard owners (lab 5)\n"
           "  h          this help\n"
           "  q          quit\n");
}

/* Prints where the run stands after a command. */
static void step_status(struct step *st, const char *why)
{
    printf("-- at %.6f s virtual, %" PRIu64 " events", (double)sim_now_us(st->sim) / 1e6,
           sim_events_run(st->sim));
    if (why != NULL) printf(": %s", why);
    printf("\n");
    if (!st->truncated_told && sim_trace_truncated(st->sim)) {
        printf("-- note: the trace buffer is full (%u records): later events are not shown and "
               "e/c/f/b no longer stop\n",
               STEP_RECORDS_MAX);
        st->truncated_told = true;
    }
}

static void step_until(struct step *st, enum step_until until, enum sim_topic topic)
{
    st->until = until;
    st->until_topic = topic;
    st->hit = false;
    st->no_roles_stop_us = 0;
    if (until == STEP_UNTIL_ELECTION && st->roles_seen == 0)
        st->no_roles_stop_us = sim_now_us(st->sim) + STEP_NO_ROLES_US;
    lab_session_run(st->session, step_hit_pred, st);
    st->until = STEP_UNTIL_NONE;
    st->no_roles_stop_us = 0;
    step_status(st, st->hit ? st->hit_what : NULL);
    if (until == STEP_UNTIL_ELECTION && !st->hit && st->roles_seen == 0)
        printf("-- no role events in this run so far: this Raft does not trace its role changes,\n"
               "   so e cannot see an election. Call raft_trace_role (the trace section of\n"
               "   raft/raft.h) when it becomes follower, candidate or leader; meanwhile\n"
               "   t SECONDS, s N and b TOPIC still work.\n");
}

static void step_events(struct step *st, const char *arg)
{
    uint64_t n = 1;
    if (arg != NULL && (!args_parse_u64(arg, &n) || n < 1 || n > STEP_EVENTS_MAX)) {
        fprintf(stderr, "step: s needs a count between 1 and %u, got '%s'\n", STEP_EVENTS_MAX, arg);
        return;
    }
    for (uint64_t i = 0; i < n && lab_session_step(st->session); i++)
        ;
    step_status(st, NULL);
}

static void step_time(struct step *st, const char *arg)
{
    uint64_t at_us = 0;
    struct trace_file_error err;
    if (arg == NULL || trace_file_parse_seconds(arg, &at_us, &err) != TRACE_FILE_OK) {
        fprintf(stderr, "step: t needs a virtual time in seconds, e.g. t 2.5\n");
        return;
    }
    sim_time_us now_us = sim_now_us(lab_session_sim(st->session));
    if (at_us < now_us) {
        /* A run only goes forward; replaying to an earlier point is a new `step` session. */
        fprintf(stderr, "step: cannot go back to %.6f s: the run is at %.6f s virtual\n",
                (double)at_us / 1e6, (double)now_us / 1e6);
        return;
    }
    lab_session_run_to(st->session, at_us);
    step_status(st, NULL);
}

static void step_topic(struct step *st, const char *arg)
{
    int topic = arg != NULL ? sim_topic_parse(arg) : -1;
    if (topic < 0) {
        fprintf(stderr, "step: b needs a topic (h lists them), got '%s'\n", arg != NULL ? arg : "");
        return;
    }
    step_until(st, STEP_UNTIL_TOPIC, (enum sim_topic)topic);
}

static void step_print_node(struct step *st, const char *arg)
{
    uint64_t node = 0;
    if (arg != NULL) {
        if (!args_parse_u64(arg, &node) || node >= STEP_NODES_MAX ||
            lab_session_inspect(st->session, (int)node, stdout) != SIM_OK)
            fprintf(stderr, "step: no node '%s' to inspect (yet)\n", arg);
        return;
    }
    int shown = 0;
    while (shown < STEP_NODES_MAX && lab_session_inspect(st->session, shown, stdout) == SIM_OK)
        shown++;
    if (shown == 0) fprintf(stderr, "step: nothing to inspect yet (no servers built)\n");
}

/* The group of a node: its name up to '/', "nodes" for an unnamed one. */
static const char *step_group_of(const struct sim *sim, int node, char *buf, size_t size)
{
    const char *name = sim_node_name(sim, node);
    size_t len = name != NULL ? strcspn(name, "/") : 0;
    if (name == NULL || len == 0 || len >= size) return "nodes";
    memcpy(buf, name, len);
    buf[len] = '\0';
    return buf;
}

/* One line of g: the group's leaders (every node whose last role is leader; a stale leader of
 * an old term shows beside the new one) and each server's newest configuration. */
static void step_group_line(const struct step *st, const char *group)
{
    char label[SIM_NODE_NAME_MAX + 8];
    char other[STEP_GROUP_MAX];
    int leaders = 0;
    printf("  %-6s leader:", group);
    for (int node = 0; node < STEP_NODES_MAX; node++) {
        const struct step_node *n = &st->nodes[node];
        if (strcmp(step_group_of(st->sim, node, other, sizeof(other)), group) != 0) continue;
        if (!n->role_seen || n->role != 2) continue;
        printf("%s %s (term %" PRId64 ")", leaders++ > 0 ? "," : "",
               step_node_label(st->sim, node, label, sizeof(label)), n->term);
    }
    if (leaders == 0) printf(" none");
    bool configs = false;
    for (int node = 0; node < STEP_NODES_MAX; node++) {
        const struct step_node *n = &st->nodes[node];
        if (strcmp(step_group_of(st->sim, node, other, sizeof(other)), group) != 0) continue;
        if (n->config < 0) continue;
        printf("%s %s %" PRId64, configs ? "," : "; config applied:",
               step_node_label(st->sim, node, label, sizeof(label)), n->config);
        configs = true;
    }
    printf("\n");
}

/* g: every group that has traced a role or a configuration, in order of its first node. */
static void step_groups(const struct step *st)
{
    char group[STEP_GROUP_MAX];
    char earlier[STEP_GROUP_MAX];
    int shown = 0;
    printf("-- groups at %.6f s virtual:\n", (double)sim_now_us(st->sim) / 1e6);
    for (int node = 0; node < STEP_NODES_MAX; node++) {
        const struct step_node *n = &st->nodes[node];
        if (!n->role_seen && n->config < 0) continue;
        step_group_of(st->sim, node, group, sizeof(group));
        bool first = true;
        for (int k = 0; k < node && first; k++) {
            const struct step_node *m = &st->nodes[k];
            first = (!m->role_seen && m->config < 0) ||
                    strcmp(step_group_of(st->sim, k, earlier, sizeof(earlier)), group) != 0;
        }
        if (!first) continue;
        step_group_line(st, step_group_of(st->sim, node, group, sizeof(group)));
        shown++;
    }
    if (shown == 0) printf("  (no role or configuration events yet)\n");
    if (!st->assigns_seen) return;
    printf("  shards in config %" PRId64 ":", st->config_newest);
    for (int s = 0; s < STEP_SHARDS; s++)
        printf(" %d:%" PRId64, s, st->shard_gid[s]);
    printf("\n");
}

/* Runs one command line; returns true on quit. */
static bool step_command(struct step *st, char *line)
{
    char *save = NULL;
    char *cmd = strtok_r(line, " \t\r\n", &save);
    if (cmd == NULL) return false;
    char *arg = strtok_r(NULL, " \t\r\n", &save);
    if (strtok_r(NULL, " \t\r\n", &save) != NULL) {
        fprintf(stderr, "step: too many arguments to '%s' (h for help)\n", cmd);
        return false;
    }
    if (strcmp(cmd, "q") == 0) return true;
    if (strcmp(cmd, "s") == 0)
        step_events(st, arg);
    else if (strcmp(cmd, "e") == 0)
        step_until(st, STEP_UNTIL_ELECTION, SIM_TOPIC_ROLE);
    else if (strcmp(cmd, "c") == 0)
        step_until(st, STEP_UNTIL_COMMIT, SIM_TOPIC_COMMIT);
    else if (strcmp(cmd, "m") == 0)
        step_until(st, STEP_UNTIL_CONFIG, SIM_TOPIC_ROLE);
    else if (strcmp(cmd, "f") == 0)
        step_until(st, STEP_UNTIL_FAULT, SIM_TOPIC_FAULT);
    else if (strcmp(cmd, "r") == 0)
        step_until(st, STEP_UNTIL_READ, SIM_TOPIC_CLIENT);
    else if (strcmp(cmd, "t") == 0)
        step_time(st, arg);
    else if (strcmp(cmd, "b") == 0)
        step_topic(st, arg);
    else if (strcmp(cmd, "p") == 0)
        step_print_node(st, arg);
    else if (strcmp(cmd, "g") == 0)
        step_groups(st);
    else if (strcmp(cmd, "h") == 0 || strcmp(cmd, "help") == 0)
        step_help();
    else
        fprintf(stderr, "step: unknown command '%s' (h for help)\n", cmd);
    return false;
}

/* Reads and runs commands until q, the end of the input or the end of the run. */
static void step_loop(struct step *st)
{
    bool tty = isatty(STDIN_FILENO);
    char line[STEP_LINE_MAX];
    while (!lab_session_over(st->session)) {
        if (tty) {
            printf("(step) ");
            fflush(stdout);
        }
        if (fgets(line, sizeof(line), stdin) == NULL) break;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] != '\n' && !feof(stdin)) {
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n')
                ;
            fprintf(stderr, "step: command line longer than %u bytes ignored\n", STEP_LINE_MAX - 2);
            continue;
        }
        bool quit = step_command(st, line);
        fflush(stdout);
        if (quit) break;
    }
}

/* Ends the session and says how the run ended; returns the exit status. */
static int step_finish(struct step *st)
{
    bool over = lab_session_over(st->session);
    sim_trace_set_listener(st->sim, NULL, NULL);
    struct lab_result result;
    lab_session_finish(st->session, &result);
    if (!over) {
        printf("-- left at %.6f s virtual after %" PRIu64 " events (the run did not finish)\n",
               (double)result.virtual_us / 1e6, result.events);
        return 0;
    }
    printf("-- run over: %s at %.6f s virtual, %" PRIu64 " events, digest %016" PRIx64 "\n",
           result.outcome == LAB_FAIL ? "FAIL" : "PASS", (double)result.virtual_us / 1e6,
           result.events, result.digest);
    return result.outcome == LAB_FAIL ? 1 : 0;
}

static int step_parse(int argc, char **argv, const struct lab_test **test, uint64_t *seed,
                      uint32_t *print_mask, bool *help)
{
    const char *topics = NULL;
    const struct args_flag flags[] = {
        {"seed", ARGS_U64, seed, NULL},
        {"topics", ARGS_STR, &topics, NULL},
        {"help", ARGS_BOOL, help, NULL},
    };
    const char *positional[1];
    size_t positional_count = 0;
    char err[ARGS_ERR_MAX];
    if (args_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 1,
                   &positional_count, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim step: %s\n", err);
        return -1;
    }
    if (*help) return 0;
    if (positional_count != 1) {
        fprintf(stderr, "labsim step: missing TEST (a test name, e.g. TestInitialElection3A)\n");
        return -1;
    }
    *test = lab_test_find(positional[0]);
    if (*test == NULL) {
        fprintf(stderr, "labsim step: unknown test '%s' (see labsim list)\n", positional[0]);
        return -1;
    }
    struct trace_file_filter filter;
    struct trace_file_error ferr;
    trace_file_filter_init(&filter);
    if (topics != NULL && trace_file_filter_topics(&filter, topics, &ferr) != TRACE_FILE_OK) {
        fprintf(stderr, "labsim step: %s\n", ferr.msg);
        return -1;
    }
    *print_mask = filter.topic_mask;
    return 0;
}

int cmd_step(const struct labsim_cli *cli, int argc, char **argv)
{
    const struct lab_test *test = NULL;
    uint64_t seed = LAB_DEFAULT_SEED;
    struct step st = {0};
    bool help = false;
    if (step_parse(argc, argv, &test, &seed, &st.print_mask, &help) != 0) return 2;
    if (help) {
        printf("usage: labsim step TEST [--seed S] [--topics T,...]\n"
               "  reads commands from standard input; --topics limits the events printed\n\n");
        step_help();
        return 0;
    }
    struct lab_opts opts = {.out = stdout, .replay_cmd = cli->program};
    int rc = lab_session_start(test, seed, &opts, &st.session);
    if (rc != SIM_OK) {
        fprintf(stderr, "labsim step: %s\n", sim_strerror(rc));
        return 1;
    }
    st.sim = lab_session_sim(st.session);
    for (int node = 0; node < STEP_NODES_MAX; node++)
        st.nodes[node].config = -1;
    sim_trace_record(st.sim, SIM_TOPICS_ALL, STEP_RECORDS_MAX);
    sim_trace_set_listener(st.sim, step_listener, &st);
    printf("step: %s seed %" PRIu64 " (h for help)\n", test->name, seed);
    step_loop(&st);
    return step_finish(&st);
}
