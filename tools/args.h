/* args: the small command-line parser shared by labsim's subcommands.
 *
 * A subcommand describes its flags in a table (name without the dashes, kind, where to store
 * the value) and gets its positional arguments back in order. Flags take "--name value" or
 * "--name=value"; "--" ends the flags. Every malformed input (unknown flag, missing or
 * non-numeric value, repeated flag, too many positionals) is reported as one line naming what
 * is wrong, and the caller exits with status 2.
 */
#ifndef TOOLS_ARGS_H
#define TOOLS_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARGS_ERR_MAX 256u
#define ARGS_FLAGS_MAX 32u /* flags one subcommand may declare */

enum args_kind {
    ARGS_U64,  /* an unsigned decimal integer, stored in a uint64_t */
    ARGS_STR,  /* a string, stored as a borrowed const char * into argv */
    ARGS_BOOL, /* a switch without a value, stored as true in a bool */
};

struct args_flag {
    const char *name; /* without the leading "--" */
    enum args_kind kind;
    void *out;  /* uint64_t *, const char ** or bool * by kind */
    bool *seen; /* set to true when given (may be NULL) */
};

/* Parses argv[1..argc-1] (argv[0] is the subcommand). Positionals go to positional[] (at most
 * positional_max; the count in *positional_count). Returns 0, or -1 with a one-line message
 * in err. */
int args_parse(int argc, char **argv, const struct args_flag *flags, size_t flags_count,
               const char **positional, size_t positional_max, size_t *positional_count, char *err,
               size_t err_size);

/* Parses a whole unsigned decimal number (no sign, no spaces, no overflow). */
bool args_parse_u64(const char *text, uint64_t *out);

/* Checks, before a long run, that an output file can be written: opens `path` to append (an
 * existing file is left as it was) and removes it again when this call created it. Returns 0,
 * or -1 with "cannot write 'PATH': REASON" (strerror of the failing call) in err. */
int args_check_writable(const char *path, char *err, size_t err_size);

#endif /* TOOLS_ARGS_H */
