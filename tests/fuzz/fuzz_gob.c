/* libFuzzer target for the labgob decoder and message headers (`make fuzz-gob`). Each input is
 * sized, walked generically, decoded with a Raft AppendEntries schema and re-encoded, both as
 * given and behind a valid header; tests/fuzz/gob_fuzz_oracle.h says which properties must
 * hold. A violated property aborts, which libFuzzer reports as a crash
 * and saves as a reproducer; ASan and UBSan catch reads past the buffer and undefined
 * behaviour on the way. */
#include <stdio.h>
#include <stdlib.h>

#include "gob_fuzz_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = gob_fuzz_check(data, size);
    if (bad != NULL) {
        fprintf(stderr, "fuzz_gob: %s (input of %zu bytes)\n", bad, size);
        abort();
    }
    return 0;
}
