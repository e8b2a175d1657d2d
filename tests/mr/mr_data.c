/* mr_data: lab 1's eight input files, embedded in the binary at build time.
 *
 * Embedding (an assembler .incbin of tests/data/mr/pg-*.txt; the Makefile makes this object
 * depend on the files) means a run never opens a real file: `labsim run 1` and `make grade`
 * work from any working directory and from a clean clone, and a run cannot differ because a
 * file was missing or changed after the build. Paths are relative to the repository root,
 * where make runs the compiler. Each file gets a start symbol and a 64-bit size symbol (no
 * pointer arithmetic between two symbols in C). The bytes are read-only and never freed.
 */
#include "mr_cfg.h"

#define MR_INCBIN(sym, path)                                                                       \
    ".section .rodata\n"                                                                           \
    ".balign 16\n"                                                                                 \
    ".global " #sym "\n" #sym ":\n"                                                                \
    ".incbin \"" path "\"\n" #sym "_end:\n"                                                        \
    ".byte 0\n"                                                                                    \
    ".balign 8\n"                                                                                  \
    ".global " #sym "_size\n" #sym "_size:\n"                                                      \
    ".8byte " #sym "_end - " #sym "\n"                                                             \
    ".previous\n"

__asm__(MR_INCBIN(mr_pg_being_ernest, "tests/data/mr/pg-being_ernest.txt"));
__asm__(MR_INCBIN(mr_pg_dorian_gray, "tests/data/mr/pg-dorian_gray.txt"));
__asm__(MR_INCBIN(mr_pg_frankenstein, "tests/data/mr/pg-frankenstein.txt"));
__asm__(MR_INCBIN(mr_pg_grimm, "tests/data/mr/pg-grimm.txt"));
__asm__(MR_INCBIN(mr_pg_huckleberry_finn, "tests/data/mr/pg-huckleberry_finn.txt"));
__asm__(MR_INCBIN(mr_pg_metamorphosis, "tests/data/mr/pg-metamorphosis.txt"));
__asm__(MR_INCBIN(mr_pg_sherlock_holmes, "tests/data/mr/pg-sherlock_holmes.txt"));
__asm__(MR_INCBIN(mr_pg_tom_sawyer, "tests/data/mr/pg-tom_sawyer.txt"));

#define MR_DECLARE(sym)                                                                            \
    extern const char sym[];                                                                       \
    extern const uint64_t sym##_size;
MR_DECLARE(mr_pg_being_ernest)
MR_DECLARE(mr_pg_dorian_gray)
MR_DECLARE(mr_pg_frankenstein)
MR_DECLARE(mr_pg_grimm)
MR_DECLARE(mr_pg_huckleberry_finn)
MR_DECLARE(mr_pg_metamorphosis)
MR_DECLARE(mr_pg_sherlock_holmes)
MR_DECLARE(mr_pg_tom_sawyer)

/* In the order of the shell's `../pg*txt` glob (byte order), which is the map tasks' order. */
static const struct mr_input mr_inputs_table[MR_INPUTS_COUNT] = {
    {"../pg-being_ernest.txt", mr_pg_being_ernest, &mr_pg_being_ernest_size},
    {"../pg-dorian_gray.txt", mr_pg_dorian_gray, &mr_pg_dorian_gray_size},
    {"../pg-frankenstein.txt", mr_pg_frankenstein, &mr_pg_frankenstein_size},
    {"../pg-grimm.txt", mr_pg_grimm, &mr_pg_grimm_size},
    {"../pg-huckleberry_finn.txt", mr_pg_huckleberry_finn, &mr_pg_huckleberry_finn_size},
    {"../pg-metamorphosis.txt", mr_pg_metamorphosis, &mr_pg_metamorphosis_size},
    {"../pg-sherlock_holmes.txt", mr_pg_sherlock_holmes, &mr_pg_sherlock_holmes_size},
    {"../pg-tom_sawyer.txt", mr_pg_tom_sawyer, &mr_pg_tom_sawyer_size},
};

const struct mr_input *mr_input_at(size_t i)
{
    return i < MR_INPUTS_COUNT ? &mr_inputs_table[i] : NULL;
}
