/* skv_tests: the 14 graded shardkv tests, ports of 6.5840's src/shardkv/test_test.go (2024):
 * 5A and the simpler 5B tests in skv_tests.c, the concurrent and unreliable ones in
 * skv_tests_conc.c, the challenges in skv_tests_ch.c, and the helpers they share.
 */
#ifndef SKV_TESTS_H
#define SKV_TESTS_H

#include "skv_cfg.h"

#define SKV_TEST_KEYS_MAX 30
#define SKV_TEST_VALUE_CAP (64u << 10) /* bytes one key's expected value may grow to */

/* The keys "0".."n-1" and the values the test expects them to hold (Go's ka and va). */
struct skv_vals {
    int n;
    char ka[SKV_TEST_KEYS_MAX][12];
    char va[SKV_TEST_KEYS_MAX][SKV_TEST_VALUE_CAP];
    size_t len[SKV_TEST_KEYS_MAX];
};

/* n keys (owned by the config), every value randstring(value_len) and Put. */
struct skv_vals *skv_vals_put_random(struct skv_cfg *cfg, struct skv_clerk *ck, int n,
                                     int value_len);
/* va[i] = value (no clerk call). */
void skv_vals_set(struct skv_cfg *cfg, struct skv_vals *v, int i, const char *value);
/* va[i] += x (no clerk call); fails the test past SKV_TEST_VALUE_CAP. */
void skv_vals_add(struct skv_cfg *cfg, struct skv_vals *v, int i, const char *x);
/* check(ka[i], va[i]) for i in [from, to). */
void skv_vals_check(struct skv_cfg *cfg, struct skv_clerk *ck, const struct skv_vals *v, int from,
                    int to);
/* For each key: check, then Append randstring(len) (stream `r`). */
void skv_vals_check_append(struct skv_cfg *cfg, struct skv_clerk *ck, struct skv_vals *v, int len);

/* Sets the whole network's reliability (TestUnreliable2/3 turn it back on at the end). */
void skv_cfg_set_reliable(struct skv_cfg *cfg, bool reliable);

void skv_test_static_shards_5a(struct lab_ctx *ctx);
void skv_test_rejection_5a(struct lab_ctx *ctx);
void skv_test_join_leave_5b(struct lab_ctx *ctx);
void skv_test_snapshot_5b(struct lab_ctx *ctx);
void skv_test_miss_change_5b(struct lab_ctx *ctx);
void skv_test_concurrent1_5b(struct lab_ctx *ctx);
void skv_test_concurrent2_5b(struct lab_ctx *ctx);
void skv_test_concurrent3_5b(struct lab_ctx *ctx);
void skv_test_unreliable1_5b(struct lab_ctx *ctx);
void skv_test_unreliable2_5b(struct lab_ctx *ctx);
void skv_test_unreliable3_5b(struct lab_ctx *ctx);
void skv_test_challenge1_delete(struct lab_ctx *ctx);
void skv_test_challenge2_unaffected(struct lab_ctx *ctx);
void skv_test_challenge2_partial(struct lab_ctx *ctx);

#endif /* SKV_TESTS_H */
