/* rpc_err: the text of labrpc's error codes (generated from RPC_ERRNO_MAP). */
#include "labrpc.h"

const char *rpc_strerror(int err)
{
    switch (err) {
#define RPC_ERR_CASE(name, value, text)                                                            \
    case value:                                                                                    \
        return text;
        RPC_ERRNO_MAP(RPC_ERR_CASE)
#undef RPC_ERR_CASE
    default:
        return "unknown labrpc error";
    }
}
