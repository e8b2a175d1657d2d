/* labgob error codes: the text of each GOB_* code (generated from GOB_ERRNO_MAP). */
#include "labgob.h"

const char *gob_strerror(int err)
{
    switch (err) {
#define GOB_ERR_CASE(name, value, text)                                                            \
    case name:                                                                                     \
        return text;
        GOB_ERRNO_MAP(GOB_ERR_CASE)
#undef GOB_ERR_CASE
    default:
        return "unknown labgob error";
    }
}
