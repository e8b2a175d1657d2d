/* ext_prevote: the scenario pairs of pre-vote, check-quorum and leadership transfer
 * (raft/prevote.c, raft/quorum.c, raft/transfer.c; registered in ext_tests.c). */
#ifndef EXT_PREVOTE_H
#define EXT_PREVOTE_H

#include "lab.h"

void ext_prevote_rejoin(struct lab_ctx *ctx);
void ext_prevote_rejoin_twin(struct lab_ctx *ctx);
void ext_check_quorum(struct lab_ctx *ctx);
void ext_check_quorum_twin(struct lab_ctx *ctx);
void ext_leader_transfer(struct lab_ctx *ctx);
void ext_leader_transfer_twin(struct lab_ctx *ctx);

#endif /* EXT_PREVOTE_H */
