/* ext_fallback: weak stand-ins for the calls of raft/raft_ext.h, so that labsim still links
 * when RAFT_IMPL names a raft.h-only Raft (a student's), which has none of them.
 *
 * With our Raft the strong definitions in raft/ take their place and nothing here runs. With
 * another Raft the scenarios of part ext that call them get RAFT_ENOTSUP and fail with its text,
 * and the harness has already refused the options themselves (lab_persister_check_taken).
 */
#include "raft_ext.h"

__attribute__((weak)) const char *raft_strerror(int err)
{
    return err == RAFT_ENOTSUP ? "this Raft has no such call (it implements raft.h only)"
                               : "raft error (this Raft implements raft.h only)";
}

__attribute__((weak)) void raft_options_get(const struct raft *rf, struct raft_options *out)
{
    (void)rf;
    *out = (struct raft_options){0};
}

__attribute__((weak)) int raft_transfer_leadership(struct raft *rf, int target)
{
    (void)rf;
    (void)target;
    return RAFT_ENOTSUP;
}

__attribute__((weak)) const char *raft_transfer_strerror(int err)
{
    return raft_strerror(err);
}

__attribute__((weak)) int raft_member_add_learner(struct raft *rf, int server, uint64_t *index)
{
    (void)rf;
    (void)server;
    (void)index;
    return RAFT_ENOTSUP;
}

__attribute__((weak)) int raft_member_promote(struct raft *rf, int server, uint64_t *index)
{
    (void)rf;
    (void)server;
    (void)index;
    return RAFT_ENOTSUP;
}

__attribute__((weak)) int raft_member_remove(struct raft *rf, int server, uint64_t *index)
{
    (void)rf;
    (void)server;
    (void)index;
    return RAFT_ENOTSUP;
}

__attribute__((weak)) int raft_member_change(struct raft *rf, const struct raft_config *to,
                                             uint64_t *index)
{
    (void)rf;
    (void)to;
    (void)index;
    return RAFT_ENOTSUP;
}

__attribute__((weak)) void raft_member_config(const struct raft *rf, struct raft_config *out,
                                              uint64_t *index)
{
    (void)rf;
    *out = (struct raft_config){0};
    if (index != NULL) *index = 0;
}

__attribute__((weak)) int raft_member_progress(const struct raft *rf, int server,
                                               struct raft_member_progress *out)
{
    (void)rf;
    (void)server;
    *out = (struct raft_member_progress){0};
    return RAFT_ENOTSUP;
}
