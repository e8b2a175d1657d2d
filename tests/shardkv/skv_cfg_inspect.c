/* skv_cfg_inspect: the shardkv tester's node inspector for the study tools (labsim step's p).
 *
 * skv_cfg_make registers it with the run (lab_set_inspector). Between two events the step tool
 * asks it for one node: a controller server (nodes 0-5) or a group server (6 ..), named as the
 * harness names them. It reads the server's Raft through raft.h's raft_inspect only, so it
 * works against a student's shardctrler, shardkv and Raft alike, and changes nothing: inspecting
 * a node never alters the run or its digest. The group's configuration and shards are not
 * public state; step's g shows them from the trace.
 */
#include <inttypes.h>
#include <stdio.h>

#include "raft.h"
#include "raft_cfg.h"
#include "shardctrler.h"
#include "skv_cfg_int.h"

/* The Raft of node `node` in *rf (NULL when that server is not running); false when the
 * config has no such node. */
static bool inspect_find(const struct skv_cfg *cfg, int node, const char **what,
                         const struct raft **rf)
{
    int ctl_nodes = SKV_CFG_CTLS_MAX * SKV_CFG_CTRLERS;
    *rf = NULL;
    if (node >= 0 && node < ctl_nodes) {
        const struct skv_cfg_ctl *c = &cfg->ctls[node / SKV_CFG_CTRLERS];
        const struct sc_server *sc = c->servers[node % SKV_CFG_CTRLERS];
        *what = c->started ? "controller" : "controller, never started";
        if (sc != NULL) *rf = sc_server_raft(sc);
        return true;
    }
    int gi = (node - ctl_nodes) / cfg->n;
    if (node < ctl_nodes || gi >= SKV_CFG_GROUPS) return false;
    const struct skv_server *kv = cfg->groups[gi].servers[(node - ctl_nodes) % cfg->n];
    *what = "group server";
    if (kv != NULL) *rf = skv_server_raft(kv);
    return true;
}

int skv_cfg_inspect(void *user, int node, FILE *out)
{
    const struct skv_cfg *cfg = user;
    const char *what = NULL;
    const struct raft *rf = NULL;
    if (cfg == NULL || out == NULL || !inspect_find(cfg, node, &what, &rf)) return SIM_EINVAL;
    const char *name = sim_node_name(cfg->sim, node);
    fprintf(out, "node %d (%s, %s): ", node, name != NULL ? name : "unnamed", what);
    if (rf == NULL) {
        fprintf(out, "not running\n");
        return SIM_OK;
    }
    struct raft_inspect st;
    raft_inspect(rf, &st);
    fprintf(out, "%s, term %" PRIu64 ", voted for %d%s\n", raft_cfg_role_name(st.role), st.term,
            st.voted_for, raft_killed(rf) ? ", killed" : "");
    fprintf(out,
            "  log: snapshot through %" PRIu64 ", last index %" PRIu64 "; commit %" PRIu64
            ", applied %" PRIu64 "\n",
            st.snapshot_index, st.last_index, st.commit_index, st.last_applied);
    return SIM_OK;
}
