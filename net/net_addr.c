/* net_addr: "host:port" and comma-separated lists of them, as the programs' flags give them,
 * and the module's error texts. Hosts are numeric IPv4 addresses or "localhost" (the mode is
 * tested on loopback; no name resolution happens on the event loop).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

const char *net_strerror(int err)
{
    switch (err) {
#define NET_ERR_CASE(name, value, text)                                                            \
    case name:                                                                                     \
        return text;
        NET_ERRNO_MAP(NET_ERR_CASE)
#undef NET_ERR_CASE
    default:
        return "unknown net error";
    }
}

int net_addr_parse(const char *text, struct net_addr *out, char *err, size_t err_size)
{
    const char *colon = strrchr(text, ':');
    size_t host_len = colon != NULL ? (size_t)(colon - text) : 0;
    if (colon == NULL || host_len == 0 || host_len >= NET_HOST_MAX) {
        snprintf(err, err_size, "bad address '%s': expected host:port", text);
        return NET_EADDR;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->host, text, host_len);
    struct in_addr ip;
    if (strcmp(out->host, "localhost") != 0 && inet_pton(AF_INET, out->host, &ip) != 1) {
        snprintf(err, err_size, "bad address '%s': host must be an IPv4 address or localhost",
                 text);
        return NET_EADDR;
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port < 1 || port > 65535) {
        snprintf(err, err_size, "bad address '%s': port must be 1-65535", text);
        return NET_EADDR;
    }
    out->port = (uint16_t)port;
    return NET_OK;
}

int net_addr_list_parse(const char *text, struct net_addr *out, int max, int *count, char *err,
                        size_t err_size)
{
    *count = 0;
    const char *p = text;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char one[NET_HOST_MAX + 16];
        if (len >= sizeof(one)) {
            snprintf(err, err_size, "bad address list '%s': an entry is too long", text);
            return NET_EADDR;
        }
        if (*count >= max) {
            snprintf(err, err_size, "too many addresses (at most %d)", max);
            return NET_EADDR;
        }
        memcpy(one, p, len);
        one[len] = '\0';
        if (net_addr_parse(one, &out[*count], err, err_size) != NET_OK) return NET_EADDR;
        (*count)++;
        p += len;
        if (*p == ',') p++;
    }
    if (*count == 0) {
        snprintf(err, err_size, "empty address list");
        return NET_EADDR;
    }
    return NET_OK;
}
