/* sim_rand: seeded PRNG streams (xoshiro256**), one per component.
 *
 * A stream's state is derived from (sim seed, stream name[, number]) through XXH3 and
 * splitmix64, so streams are independent: the network's draws do not move when a Raft node
 * draws one more timeout. The kernel owns one stream itself ("sim.nrand", behind sim_nrand) for
 * code that needs a unique name and has no stream of its own to draw it from. This file and
 * sim_clock's caller are the only sources of randomness in the simulation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sim_int.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void sim_rand_seed(struct sim_rand *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    /* xoshiro must not start from all zeros; splitmix64 never yields four zeros, but say so. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = 1;
}

void sim_rand_init(struct sim_rand *r, const struct sim *sim, const char *name)
{
    sim_rand_seed(r, XXH3_64bits_withSeed(name, strlen(name), sim->seed));
}

void sim_rand_init_n(struct sim_rand *r, const struct sim *sim, const char *name, int64_t n)
{
    uint64_t base = XXH3_64bits_withSeed(name, strlen(name), sim->seed);
    uint64_t mixed = XXH3_64bits_withSeed(&n, sizeof(n), base);
    sim_rand_seed(r, mixed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sim_rand_u64(struct sim_rand *r)
{
    uint64_t result = rotl(r->s[1] * 5, 7) * 9;
    uint64_t t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return result;
}

uint64_t sim_rand_below(struct sim_rand *r, uint64_t n)
{
    /* Rejection sampling: values below `threshold` would make some residues more likely. The
     * chance of a retry is below 1/2, so 64 rounds failing means the generator is broken. */
    if (n == 0) {
        fputs("labsim: sim_rand_below(0) is a programmer error\n", stderr);
        abort();
    }
    uint64_t threshold = (0 - n) % n;
    for (int round = 0; round < 64; round++) {
        uint64_t x = sim_rand_u64(r);
        if (x >= threshold) return x % n;
    }
    return sim_rand_u64(r) % n;
}

int64_t sim_rand_range(struct sim_rand *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    if (span == 0) /* the full 64-bit range */
        return (int64_t)sim_rand_u64(r);
    return (int64_t)((uint64_t)lo + sim_rand_below(r, span));
}

bool sim_rand_chance(struct sim_rand *r, uint64_t num, uint64_t den)
{
    return sim_rand_below(r, den) < num;
}

void sim_rand_shuffle_int(struct sim_rand *r, int *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)sim_rand_below(r, i);
        int tmp = v[i - 1];
        v[i - 1] = v[j];
        v[j] = tmp;
    }
}

uint64_t sim_nrand(struct sim *sim)
{
    /* Go's nrand draws big.Int below 2^62; the top two bits of a 64-bit draw are dropped. */
    return sim_rand_u64(&sim->nrand) >> 2;
}
