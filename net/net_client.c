/* net_client: one blocking HTTP request, for the client program and the tests. Not used by
 * the nodes (which never block). A new connection per request; every step (connect, send,
 * receive) is bounded by one overall deadline; the response is parsed with http_parser, and a
 * response over NET_REPLY_BODY_MAX or that does not parse is NET_EPROTO.
 */
#define _DEFAULT_SOURCE /* strncasecmp */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

struct reply_parse {
    struct net_reply *reply;
    bool done;
    bool too_big;
    bool header_retry_after;
    size_t body_cap;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct reply_parse *rp = p->data;
    rp->header_retry_after = len == 11 && strncasecmp(at, "Retry-After", 11) == 0;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct reply_parse *rp = p->data;
    if (rp->header_retry_after && len < 10) {
        char text[16];
        memcpy(text, at, len);
        text[len] = '\0';
        rp->reply->retry_after_s = (uint32_t)strtoul(text, NULL, 10);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct reply_parse *rp = p->data;
    struct net_reply *r = rp->reply;
    if (r->body_len + len > NET_REPLY_BODY_MAX) {
        rp->too_big = true;
        return 1;
    }
    if (rp->body_cap < r->body_len + len + 1) {
        size_t cap = 2 * (r->body_len + len + 1);
        char *body = realloc(r->body, cap);
        if (body == NULL) return 1;
        r->body = body;
        rp->body_cap = cap;
    }
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
}

static int on_complete(http_parser *p)
{
    struct reply_parse *rp = p->data;
    rp->done = true;
    rp->reply->status = (int)p->status_code;
    return 0;
}

static const http_parser_settings reply_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

/* Waits for `events` on fd until deadline_ms; false on timeout. */
static bool wait_fd(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - mono_ms();
        if (left <= 0) return false;
        struct pollfd pfd = {.fd = fd, .events = events};
        int rc = poll(&pfd, 1, (int)left);
        if (rc > 0) return true;
        if (rc < 0 && errno != EINTR) return false;
    }
}

static int connect_to(const struct net_addr *addr, int64_t deadline_ms, int *fd_out)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(addr->port)};
    const char *host = strcmp(addr->host, "localhost") == 0 ? "127.0.0.1" : addr->host;
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return NET_EADDR;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return NET_ECONN;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return NET_ECONN;
    }
    if (!wait_fd(fd, POLLOUT, deadline_ms)) {
        close(fd);
        return NET_ETIMEDOUT;
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
        close(fd);
        return NET_ECONN;
    }
    *fd_out = fd;
    return NET_OK;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline_ms)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) return NET_ECONN;
        if (!wait_fd(fd, POLLOUT, deadline_ms)) return NET_ETIMEDOUT;
    }
    return NET_OK;
}

static int receive(int fd, struct net_reply *reply, int64_t deadline_ms)
{
    http_parser parser;
    http_parser_init(&parser, HTTP_RESPONSE);
    struct reply_parse rp = {.reply = reply};
    parser.data = &rp;
    char buf[65536];
    while (!rp.done) {
        if (!wait_fd(fd, POLLIN, deadline_ms)) return NET_ETIMEDOUT;
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n < 0) return NET_ECONN;
        size_t used = http_parser_execute(&parser, &reply_settings, buf, (size_t)n);
        if (rp.too_big || HTTP_PARSER_ERRNO(&parser) != HPE_OK || used != (size_t)n)
            return NET_EPROTO;
        if (n == 0 && !rp.done) return NET_ECONN; /* closed before a whole response */
    }
    return NET_OK;
}

int net_http_call(const struct net_addr *addr, const char *method, const char *path,
                  const char *body, size_t body_len, uint32_t timeout_ms, struct net_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
    int64_t deadline_ms = mono_ms() + timeout_ms;
    int fd = -1;
    int rc = connect_to(addr, deadline_ms, &fd);
    if (rc != NET_OK) return rc;
    char head[1024 + 16384];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     method, path, addr->host, addr->port, body != NULL ? body_len : 0);
    if (n < 0 || (size_t)n >= sizeof(head)) {
        close(fd);
        return NET_EPROTO;
    }
    rc = send_all(fd, head, (size_t)n, deadline_ms);
    if (rc == NET_OK && body != NULL) rc = send_all(fd, body, body_len, deadline_ms);
    if (rc == NET_OK) rc = receive(fd, reply, deadline_ms);
    close(fd);
    if (rc != NET_OK) {
        free(reply->body);
        memset(reply, 0, sizeof(*reply));
        return rc;
    }
    if (reply->body == NULL) {
        reply->body = calloc(1, 1);
        if (reply->body == NULL) return NET_EPROTO;
    }
    return NET_OK;
}

bool net_key_escape(const char *key, char *out, size_t out_size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t at = 0;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~';
        if (at + (plain ? 1 : 3) >= out_size) return false;
        if (plain) {
            out[at++] = (char)*p;
        } else {
            out[at++] = '%';
            out[at++] = hex[*p >> 4];
            out[at++] = hex[*p & 15];
        }
    }
    if (at >= out_size) return false;
    out[at] = '\0';
    return true;
}
