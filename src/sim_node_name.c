/* sim_node_name: the node-name table, labels a harness gives the nodes it builds.
 *
 * A fixed table in struct sim, one slot of SIM_NODE_NAME_MAX bytes per node id below
 * SIM_NODE_NAMES_MAX; an empty slot is an unnamed node. The names never reach the digest or
 * any decision of a run: sim_trace_write copies them into the trace file's header and the
 * study tools print them. The character set keeps a name one token of a trace header line and
 * one item of a --nodes list (no spaces, no commas), and the leading letter keeps it apart from
 * a node number.
 *
 * Invariant: every non-empty slot holds a name for which sim_node_name_valid is true.
 */
#include <string.h>

#include "sim_int.h"

_Static_assert(SIM_NODE_NAME_MAX >= 2, "a name holds at least one byte and its NUL");
_Static_assert(SIM_NODE_NAMES_MAX <= 4096, "named ids stay within what trace readers take");

static bool name_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '/' || ch == '.' || ch == '_' || ch == '-' || ch == ':';
}

bool sim_node_name_valid(const char *name)
{
    if (name == NULL) return false;
    size_t len = strnlen(name, SIM_NODE_NAME_MAX);
    if (len == 0 || len == SIM_NODE_NAME_MAX) return false;
    bool letter = (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z');
    if (!letter || strcmp(name, "test") == 0) return false;
    for (size_t i = 0; i < len; i++) {
        if (!name_char_ok(name[i])) return false;
    }
    return true;
}

int sim_node_name_set(struct sim *sim, int node, const char *name)
{
    SIM_ASSERT(sim, node, sim != NULL);
    if (node < 0 || node >= (int)SIM_NODE_NAMES_MAX) return SIM_EINVAL;
    if (name == NULL) {
        sim->node_names[node][0] = '\0';
        return SIM_OK;
    }
    if (!sim_node_name_valid(name)) return SIM_ENAME;
    memcpy(sim->node_names[node], name, strlen(name) + 1);
    SIM_ASSERT(sim, node, sim_node_name_valid(sim->node_names[node]));
    return SIM_OK;
}

const char *sim_node_name(const struct sim *sim, int node)
{
    if (sim == NULL || node < 0 || node >= (int)SIM_NODE_NAMES_MAX) return NULL;
    return sim->node_names[node][0] != '\0' ? sim->node_names[node] : NULL;
}
