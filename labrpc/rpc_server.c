/* rpc_server: servers, their services and methods, and the "Service.Method" lookup used at
 * dispatch.
 *
 * Go builds a service from a receiver's exported methods by reflection; here each method is
 * registered by name with its own receiver. A server holds at most RPC_SERVICES_MAX services
 * of at most RPC_METHODS_MAX methods, so lookup is a short bounded scan. Names may not contain
 * '.', which keeps "Service.Method" unambiguous.
 */
#include <stdlib.h>
#include <string.h>

#include "rpc_int.h"

struct rpc_server *rpc_server_new(struct rpc_net *net)
{
    if (net == NULL) return NULL;
    struct rpc_server *server = calloc(1, sizeof(*server));
    if (server == NULL) return NULL;
    server->net = net;
    server->owned_next = net->servers_owned;
    net->servers_owned = server;
    return server;
}

/* A valid name is 1..RPC_NAME_MAX-1 bytes without '.'. Returns its length, or 0 when bad. */
static size_t name_check(const char *name)
{
    if (name == NULL) return 0;
    size_t len = strnlen(name, RPC_NAME_MAX);
    if (len == 0 || len >= RPC_NAME_MAX) return 0;
    if (memchr(name, '.', len) != NULL) return 0;
    return len;
}

/* The index of the service called `name`, or -1. */
static int service_index(const struct rpc_server *server, const char *name, size_t name_len)
{
    for (uint32_t i = 0; i < server->services_count; i++) {
        const struct rpc_service *svc = &server->services[i];
        if (svc->name_len == name_len && memcmp(svc->name, name, name_len) == 0) return (int)i;
    }
    return -1;
}

static const struct rpc_method *method_find(const struct rpc_service *svc, const char *name,
                                            size_t name_len)
{
    for (uint32_t i = 0; i < svc->methods_count; i++) {
        const struct rpc_method *m = &svc->methods[i];
        if (m->name_len == name_len && memcmp(m->name, name, name_len) == 0) return m;
    }
    return NULL;
}

int rpc_server_add_method(struct rpc_server *server, const char *service, const char *method,
                          rpc_handler_fn fn, void *receiver)
{
    SIM_ASSERT(server->net->sim, SIM_NODE_NONE, fn != NULL);
    size_t svc_len = name_check(service);
    size_t meth_len = name_check(method);
    if (svc_len == 0 || meth_len == 0) return RPC_ENAME;
    int svc_index = service_index(server, service, svc_len);
    struct rpc_service *svc = svc_index >= 0 ? &server->services[svc_index] : NULL;
    if (svc != NULL && method_find(svc, method, meth_len) != NULL) return RPC_EEXIST;
    if (svc == NULL) {
        if (server->services_count == RPC_SERVICES_MAX) return RPC_ELIMIT;
        svc = &server->services[server->services_count++];
        memcpy(svc->name, service, svc_len + 1u);
        svc->name_len = svc_len;
    }
    if (svc->methods_count == RPC_METHODS_MAX) return RPC_ELIMIT;
    struct rpc_method *m = &svc->methods[svc->methods_count++];
    memcpy(m->name, method, meth_len + 1u);
    m->name_len = meth_len;
    m->fn = fn;
    m->receiver = receiver;
    SIM_ASSERT(server->net->sim, SIM_NODE_NONE, svc->methods_count <= RPC_METHODS_MAX);
    return RPC_OK;
}

uint64_t rpc_server_count(const struct rpc_server *server)
{
    return server->count;
}

int rpc_server_set_service_time(struct rpc_server *server, const char *service,
                                rpc_service_time_fn fn, void *arg)
{
    size_t svc_len = name_check(service);
    if (svc_len == 0) return RPC_ENAME;
    int svc_index = service_index(server, service, svc_len);
    if (svc_index < 0) return RPC_ENAME;
    server->services[svc_index].service_time_fn = fn;
    server->services[svc_index].service_time_arg = arg;
    return RPC_OK;
}

const struct rpc_method *rpc_server_find(const struct rpc_server *server, const char *svc_meth,
                                         const struct rpc_service **service)
{
    if (service != NULL) *service = NULL;
    const char *dot = strchr(svc_meth, '.');
    if (dot == NULL) return NULL;
    size_t svc_len = (size_t)(dot - svc_meth);
    int svc_index = service_index(server, svc_meth, svc_len);
    if (svc_index < 0) return NULL;
    if (service != NULL) *service = &server->services[svc_index];
    return method_find(&server->services[svc_index], dot + 1, strlen(dot + 1));
}
