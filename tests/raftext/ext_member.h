/* ext_member: the membership scenario pairs of part ext (tests/raftext/ext_member.c). */
#ifndef EXT_MEMBER_H
#define EXT_MEMBER_H

struct lab_ctx;

void ext_member_partition(struct lab_ctx *ctx);
void ext_member_partition_twin(struct lab_ctx *ctx);
void ext_member_learner(struct lab_ctx *ctx);
void ext_member_learner_twin(struct lab_ctx *ctx);

#endif /* EXT_MEMBER_H */
