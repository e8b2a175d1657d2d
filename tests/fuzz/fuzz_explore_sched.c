/* libFuzzer target for the explorer's schedule-file parser (make fuzz-sched), built with clang
 * from tests/explore/explore_sched.c alone.
 *
 * Every input either fails with a one-line message that names a line inside the input, or
 * parses to a schedule that is within the bounds (explore_sched_validate) and survives a round
 * trip: written out, parsed back and written again, the two texts are the same bytes. Any
 * violated expectation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_expect(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_explore_sched: expectation failed: %s\n", what);
        abort();
    }
}

/* The schedule's file text in a malloc'd buffer (caller frees). */
static char *fuzz_write(const struct explore_sched *s, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    fuzz_expect(out != NULL, "open_memstream");
    fuzz_expect(explore_sched_write(s, out) == 0, "write");
    fuzz_expect(fclose(out) == 0, "fclose");
    return text;
}

static void fuzz_round_trip(const struct explore_sched *s)
{
    static struct explore_sched again; /* 8 KB; libFuzzer runs one input at a time */
    char msg[EXPLORE_MSG_MAX];
    size_t len1 = 0;
    size_t len2 = 0;
    char *text1 = fuzz_write(s, &len1);
    fuzz_expect(explore_sched_parse(text1, len1, &again, msg, sizeof(msg)) == 0,
                "a written schedule parses");
    char *text2 = fuzz_write(&again, &len2);
    fuzz_expect(len1 == len2 && memcmp(text1, text2, len1) == 0, "round trip is stable");
    free(text1);
    free(text2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct explore_sched s;
    char msg[EXPLORE_MSG_MAX];
    if (explore_sched_parse((const char *)data, size, &s, msg, sizeof(msg)) != 0) {
        fuzz_expect(strncmp(msg, "line ", 5) == 0, "an error names its line");
        fuzz_expect(strchr(msg, '\n') == NULL, "an error is one line");
        return 0;
    }
    fuzz_expect(explore_sched_validate(&s, msg, sizeof(msg)) == 0,
                "a parsed schedule is in bounds");
    fuzz_round_trip(&s);
    return 0;
}
