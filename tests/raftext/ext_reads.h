/* ext_reads: the read-index and lease-read scenarios (ext_reads.c says what each shows). */
#ifndef EXT_READS_H
#define EXT_READS_H

struct lab_ctx;

void ext_stale_read_index(struct lab_ctx *ctx);
void ext_stale_read_lease(struct lab_ctx *ctx);
void ext_stale_read_local_twin(struct lab_ctx *ctx);
void ext_lease_drift(struct lab_ctx *ctx);
void ext_lease_drift_twin(struct lab_ctx *ctx);

#endif /* EXT_READS_H */
