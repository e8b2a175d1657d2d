/* raftkv: one node of a Raft key/value cluster over TCP, running the same raft/ and kvraft/
 * code the simulator grades (see net.h and the README's "Real-network mode").
 *
 *   raftkv --id N --peers host:port,host:port,... --http host:port --data-dir DIR
 *          [--maxraftstate BYTES] [--request-timeout-ms MS] [--op-timeout-ms MS]
 *
 * --peers lists every node's Raft address, this one's included, in the same order on every
 * node; --id is this node's index in it. A node restarted on the same --data-dir recovers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

static const char usage[] =
    "usage: raftkv --id N --peers host:port,host:port,... --http host:port --data-dir DIR\n"
    "              [--maxraftstate BYTES] [--request-timeout-ms MS] [--op-timeout-ms MS]\n";

static bool number_parse(const char *text, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* Applies one "--flag value"; false (after printing why) when it is wrong. */
static bool flag_apply(struct net_node_config *cfg, const char *flag, const char *value)
{
    char err[256] = "";
    long long v = 0;
    bool ok = true;
    if (strcmp(flag, "--id") == 0) {
        ok = number_parse(value, 0, NET_NODES_MAX - 1, &v);
        cfg->id = (int)v;
    } else if (strcmp(flag, "--peers") == 0) {
        ok = net_addr_list_parse(value, cfg->peers, NET_NODES_MAX, &cfg->peers_count, err,
                                 sizeof(err)) == NET_OK;
    } else if (strcmp(flag, "--http") == 0) {
        ok = net_addr_parse(value, &cfg->http, err, sizeof(err)) == NET_OK;
    } else if (strcmp(flag, "--data-dir") == 0) {
        ok = strlen(value) > 0 && strlen(value) < sizeof(cfg->data_dir);
        if (ok) snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", value);
    } else if (strcmp(flag, "--maxraftstate") == 0) {
        ok = number_parse(value, -1, 1ll << 30, &v);
        cfg->maxraftstate = v;
    } else if (strcmp(flag, "--request-timeout-ms") == 0) {
        ok = number_parse(value, 1, 3600000, &v);
        cfg->http_request_timeout_ms = (uint32_t)v;
    } else if (strcmp(flag, "--op-timeout-ms") == 0) {
        ok = number_parse(value, 1, 3600000, &v);
        cfg->op_timeout_ms = (uint32_t)v;
    } else {
        fprintf(stderr, "raftkv: unknown flag '%s'\n%s", flag, usage);
        return false;
    }
    if (!ok)
        fprintf(stderr, "raftkv: bad value '%s' for %s%s%s\n", value, flag, err[0] ? ": " : "",
                err);
    return ok;
}

int main(int argc, char **argv)
{
    struct net_node_config cfg;
    net_node_config_default(&cfg);
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "raftkv: %s needs a value\n%s", argv[i], usage);
            return 2;
        }
        if (!flag_apply(&cfg, argv[i], argv[i + 1])) return 2;
    }
    const char *missing = cfg.id < 0                ? "--id"
                          : cfg.peers_count == 0    ? "--peers"
                          : cfg.http.port == 0      ? "--http"
                          : cfg.data_dir[0] == '\0' ? "--data-dir"
                                                    : NULL;
    if (missing != NULL) {
        fprintf(stderr, "raftkv: %s is required\n%s", missing, usage);
        return 2;
    }
    if (cfg.id >= cfg.peers_count) {
        fprintf(stderr, "raftkv: --id %d is not an index into the %d --peers\n", cfg.id,
                cfg.peers_count);
        return 2;
    }
    return net_node_run(&cfg);
}
