/* net_http: the HTTP/1.1 server side of a node: connections, parsing (the maintained
 * nodejs http_parser, Debian libhttp-parser-dev), limits, and writing responses.
 *
 * One request per connection is handled at a time: when a request is complete the parser is
 * paused and reading stops, the node's handler gets it, and only after its response was
 * queued does parsing go on (so pipelined requests are answered in order). Responses, like
 * every byte a node sends, are queued and written at the end of the driver's turn (net.h).
 *
 * Limits (bad input gets a status and a JSON error, and the node keeps serving):
 *   request line over NET_HTTP_URL_MAX            414, connection closed
 *   headers over NET_HTTP_HEADER_BYTES_MAX        431, connection closed
 *   body over NET_HTTP_BODY_MAX (declared or sent) 413, connection closed
 *   malformed HTTP                                400, connection closed
 *   request not complete within the timeout       408, connection closed (slow clients)
 *   more than NET_HTTP_CONNS_MAX connections      the new one is closed at once
 *   idle keep-alive connection for NET_HTTP_IDLE_US  closed
 * A client that disconnects mid-request or before its answer leaves nothing behind: its slot
 * gets a new generation and the late answer is dropped (net_http_alive).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

#define IN_BYTES_MAX (NET_HTTP_BODY_MAX + NET_HTTP_HEADER_BYTES_MAX + NET_HTTP_URL_MAX + 65536u)
#define READ_CHUNK_BYTES 65536u

struct http_conn {
    uv_tcp_t tcp;
    struct net_http *http;
    uint32_t slot;
    uint32_t gen;
    bool used;
    bool closing;
    bool reading;
    bool in_flight;   /* a request was handed to the handler and is not answered yet */
    bool close_after; /* close once the queued response is written */
    bool needs_parse; /* buffered input waits for the next flush */
    http_parser parser;
    int error_status; /* set by a parser callback: answer it and close */
    uint8_t *in;
    size_t in_len;
    size_t in_cap;
    char url[NET_HTTP_URL_MAX + 1];
    size_t url_len;
    size_t header_bytes;
    uint8_t *body;
    size_t body_len;
    size_t body_cap;
    sim_time_us started_us; /* first byte of the request being read; 0 when none */
    sim_time_us active_us;  /* last read or write */
    char *out;
    size_t out_len;
    size_t out_cap;
    size_t writing;
};

struct net_http {
    struct net_loop *loop;
    struct net_node *node;
    net_http_handler_fn handler;
    uv_tcp_t listener;
    bool listening;
    bool accepting;
    struct net_addr addr;
    sim_time_us request_timeout_us;
    sim_timer_id sweep_timer;
    uint64_t connections;
    struct http_conn conns[NET_HTTP_CONNS_MAX];
};

struct write_req {
    uv_write_t req;
    struct http_conn *conn;
    char *data;
    size_t len;
};

static void conn_close(struct http_conn *conn);
static void parse_some(struct http_conn *conn);

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static sim_time_us now_us(const struct net_http *http)
{
    return sim_now_us(http->loop->sim);
}

/* ---------------------------------------------------------------- parser callbacks */

static int fail_with(http_parser *parser, int status)
{
    struct http_conn *conn = parser->data;
    if (conn->error_status == 0) conn->error_status = status;
    http_parser_pause(parser, 1);
    return 0;
}

static int on_message_begin(http_parser *parser)
{
    struct http_conn *conn = parser->data;
    conn->url_len = 0;
    conn->header_bytes = 0;
    conn->body_len = 0;
    return 0;
}

static int on_url(http_parser *parser, const char *at, size_t len)
{
    struct http_conn *conn = parser->data;
    if (conn->url_len + len > NET_HTTP_URL_MAX) return fail_with(parser, 414);
    memcpy(conn->url + conn->url_len, at, len);
    conn->url_len += len;
    conn->url[conn->url_len] = '\0';
    return 0;
}

static int on_header_bytes(http_parser *parser, const char *at, size_t len)
{
    (void)at;
    struct http_conn *conn = parser->data;
    conn->header_bytes += len;
    if (conn->header_bytes > NET_HTTP_HEADER_BYTES_MAX) return fail_with(parser, 431);
    return 0;
}

static int on_headers_complete(http_parser *parser)
{
    if (parser->content_length != ULLONG_MAX && parser->content_length > NET_HTTP_BODY_MAX)
        return fail_with(parser, 413);
    return 0;
}

static int on_body(http_parser *parser, const char *at, size_t len)
{
    struct http_conn *conn = parser->data;
    if (conn->body_len + len > NET_HTTP_BODY_MAX) return fail_with(parser, 413);
    if (conn->body_cap < conn->body_len + len + 1) {
        size_t cap = conn->body_len + len + 1 > 2 * conn->body_cap ? conn->body_len + len + 1
                                                                   : 2 * conn->body_cap;
        uint8_t *body = realloc(conn->body, cap);
        if (body == NULL) return fail_with(parser, 500);
        conn->body = body;
        conn->body_cap = cap;
    }
    memcpy(conn->body + conn->body_len, at, len);
    conn->body_len += len;
    return 0;
}

static int on_message_complete(http_parser *parser)
{
    http_parser_pause(parser, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_bytes,
    .on_header_value = on_header_bytes,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---------------------------------------------------------------- responses */

static bool out_append(struct http_conn *conn, const char *p, size_t n)
{
    if (conn->out_cap - conn->out_len < n) {
        size_t cap = conn->out_len + n > 2 * conn->out_cap ? conn->out_len + n : 2 * conn->out_cap;
        char *out = realloc(conn->out, cap);
        if (out == NULL) return false;
        conn->out = out;
        conn->out_cap = cap;
    }
    memcpy(conn->out + conn->out_len, p, n);
    conn->out_len += n;
    return true;
}

static void respond_on(struct http_conn *conn, int status, const char *extra_header,
                       const char *body, size_t body_len, bool close)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "%s%sConnection: %s\r\n\r\n",
                     status, status_text(status), body_len, extra_header ? extra_header : "",
                     extra_header ? "\r\n" : "", close ? "close" : "keep-alive");
    if (n < 0 || (size_t)n >= sizeof(head) || !out_append(conn, head, (size_t)n) ||
        !out_append(conn, body, body_len)) {
        close = true;
    }
    net_node_count(conn->http->node, status, conn->started_us);
    conn->in_flight = false;
    conn->started_us = 0;
    conn->active_us = now_us(conn->http);
    if (close) conn->close_after = true;
    conn->needs_parse = !close;
}

static void respond_error(struct http_conn *conn, int status, const char *msg)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"error\": \"%s\"}", msg);
    respond_on(conn, status, status == 503 ? "Retry-After: 1" : NULL, body, (size_t)n, true);
}

bool net_http_alive(const struct net_http *http, struct net_http_ref ref)
{
    if (ref.slot >= NET_HTTP_CONNS_MAX) return false;
    const struct http_conn *conn = &http->conns[ref.slot];
    return conn->used && !conn->closing && conn->gen == ref.gen && conn->in_flight;
}

void net_http_respond(struct net_http *http, struct net_http_ref ref, int status,
                      const char *extra_header, const char *body, size_t body_len)
{
    if (!net_http_alive(http, ref)) return;
    struct http_conn *conn = &http->conns[ref.slot];
    bool close = !http_should_keep_alive(&conn->parser) || !http->accepting;
    respond_on(conn, status, extra_header, body, body_len, close);
}

/* ---------------------------------------------------------------- reading */

static void dispatch(struct http_conn *conn)
{
    struct net_http *http = conn->http;
    conn->in_flight = true;
    if (!http->accepting) {
        respond_error(conn, 503, "the node is shutting down");
        return;
    }
    /* The path is the URL up to its query; the handler gets it raw (keys are decoded there). */
    char *query = strchr(conn->url, '?');
    if (query != NULL) *query = '\0';
    if (conn->body == NULL || conn->body_cap < 1) {
        conn->body = malloc(1);
        conn->body_cap = conn->body != NULL ? 1 : 0;
    }
    if (conn->body != NULL) conn->body[conn->body_len] = '\0';
    struct net_http_request req = {
        .ref = {.slot = conn->slot, .gen = conn->gen},
        .method = http_method_str((enum http_method)conn->parser.method),
        .path = conn->url,
        .body = conn->body,
        .body_len = conn->body_len,
        .started_us = conn->started_us,
    };
    http->handler(http->node, &req);
}

/* Parses buffered input until a request is complete (then dispatches it) or input runs out. */
static void parse_some(struct http_conn *conn)
{
    conn->needs_parse = false;
    size_t at = 0;
    while (!conn->closing && !conn->in_flight && !conn->close_after && at < conn->in_len) {
        if (conn->started_us == 0) conn->started_us = now_us(conn->http);
        size_t n = http_parser_execute(&conn->parser, &parser_settings, (const char *)conn->in + at,
                                       conn->in_len - at);
        at += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&conn->parser);
        if (conn->error_status != 0) {
            conn->in_flight = true;
            respond_error(conn, conn->error_status, "request rejected: see the status");
            break;
        }
        if (e == HPE_PAUSED) {
            http_parser_pause(&conn->parser, 0);
            dispatch(conn);
            break;
        }
        if (e != HPE_OK) {
            conn->in_flight = true;
            respond_error(conn, 400, "malformed HTTP request");
            break;
        }
    }
    memmove(conn->in, conn->in + at, conn->in_len - at);
    conn->in_len -= at;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct http_conn *conn = handle->data;
    buf->base = NULL;
    buf->len = 0;
    if (conn->in_cap - conn->in_len < READ_CHUNK_BYTES) {
        size_t cap = conn->in_len + READ_CHUNK_BYTES;
        if (cap > IN_BYTES_MAX) return;
        uint8_t *in = realloc(conn->in, cap);
        if (in == NULL) return;
        conn->in = in;
        conn->in_cap = cap;
    }
    buf->base = (char *)conn->in + conn->in_len;
    buf->len = conn->in_cap - conn->in_len;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct http_conn *conn = stream->data;
    if (nread < 0) {
        conn_close(conn); /* EOF, reset, or a client sending more than any request may hold */
        return;
    }
    conn->in_len += (size_t)nread;
    conn->active_us = now_us(conn->http);
    if (!conn->in_flight) parse_some(conn);
}

/* ---------------------------------------------------------------- connections */

static void on_conn_closed(uv_handle_t *handle)
{
    struct http_conn *conn = handle->data;
    free(conn->in);
    free(conn->body);
    free(conn->out);
    conn->in = NULL;
    conn->body = NULL;
    conn->out = NULL;
    conn->used = false;
}

static void conn_close(struct http_conn *conn)
{
    if (conn->closing) return;
    conn->closing = true;
    conn->gen++;
    uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = req->data;
    struct http_conn *conn = w->conn;
    conn->writing -= w->len;
    free(w->data);
    free(w);
    if (status != 0 || (conn->close_after && conn->out_len == 0 && conn->writing == 0))
        conn_close(conn);
}

static void conn_flush(struct http_conn *conn)
{
    if (conn->needs_parse && !conn->in_flight) parse_some(conn);
    if (conn->closing || conn->out_len == 0) return;
    struct write_req *w = calloc(1, sizeof(*w));
    if (w == NULL) return;
    *w = (struct write_req){.conn = conn, .data = conn->out, .len = conn->out_len};
    w->req.data = w;
    conn->out = NULL;
    conn->out_len = conn->out_cap = 0;
    conn->writing += w->len;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&conn->tcp, &b, 1, on_written) != 0) {
        conn->writing -= w->len;
        free(w->data);
        free(w);
        conn_close(conn);
    }
}

void net_http_flush(struct net_http *http)
{
    for (uint32_t i = 0; i < NET_HTTP_CONNS_MAX; i++)
        if (http->conns[i].used && !http->conns[i].closing) conn_flush(&http->conns[i]);
}

static void on_stray_closed(uv_handle_t *handle)
{
    free(handle);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct net_http *http = server->data;
    if (status != 0) return;
    for (uint32_t i = 0; i < NET_HTTP_CONNS_MAX; i++) {
        struct http_conn *conn = &http->conns[i];
        if (conn->used) continue;
        uint32_t gen = conn->gen;
        memset(conn, 0, sizeof(*conn));
        *conn = (struct http_conn){.http = http, .slot = i, .gen = gen + 1, .used = true};
        conn->active_us = now_us(http);
        uv_tcp_init(server->loop, &conn->tcp);
        conn->tcp.data = conn;
        uv_tcp_nodelay(&conn->tcp, 1);
        http_parser_init(&conn->parser, HTTP_REQUEST);
        conn->parser.data = conn;
        http->connections++;
        if (uv_accept(server, (uv_stream_t *)&conn->tcp) != 0 ||
            uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) != 0)
            conn_close(conn);
        return;
    }
    uv_tcp_t *stray = malloc(sizeof(*stray));
    if (stray == NULL || uv_tcp_init(server->loop, stray) != 0) {
        free(stray);
        return;
    }
    (void)uv_accept(server, (uv_stream_t *)stray);
    uv_close((uv_handle_t *)stray, on_stray_closed);
}

/* Every NET_HTTP_SWEEP_US: slow requests get 408, idle keep-alive connections are closed. */
static void ev_sweep(struct sim *sim, void *arg)
{
    struct net_http *http = arg;
    sim_time_us now = sim_now_us(sim);
    for (uint32_t i = 0; i < NET_HTTP_CONNS_MAX; i++) {
        struct http_conn *conn = &http->conns[i];
        if (!conn->used || conn->closing || conn->in_flight || conn->close_after) continue;
        if (conn->started_us != 0 && now - conn->started_us > http->request_timeout_us) {
            conn->in_flight = true;
            respond_error(conn, 408, "request not complete in time");
        } else if (conn->started_us == 0 && conn->out_len == 0 && conn->writing == 0 &&
                   now - conn->active_us > NET_HTTP_IDLE_US) {
            conn_close(conn);
        }
    }
    http->sweep_timer = sim_after(sim, NET_HTTP_SWEEP_US, ev_sweep, http);
}

struct net_http *net_http_new(struct net_loop *loop, const struct net_addr *addr,
                              uint32_t request_timeout_ms, net_http_handler_fn handler,
                              struct net_node *node, char *err, size_t err_size)
{
    struct net_http *http = calloc(1, sizeof(*http));
    if (http == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    *http = (struct net_http){.loop = loop,
                              .node = node,
                              .handler = handler,
                              .addr = *addr,
                              .accepting = true,
                              .request_timeout_us = (sim_time_us)request_timeout_ms * 1000u};
    struct sockaddr_in sa;
    const char *host = strcmp(addr->host, "localhost") == 0 ? "127.0.0.1" : addr->host;
    uv_tcp_init(loop->uv, &http->listener);
    http->listener.data = http;
    http->listening = true;
    int rc = uv_ip4_addr(host, addr->port, &sa);
    if (rc == 0) rc = uv_tcp_bind(&http->listener, (const struct sockaddr *)&sa, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&http->listener, 128, on_connection);
    if (rc != 0) {
        snprintf(err, err_size, "cannot listen on %s:%u for HTTP: %s", addr->host, addr->port,
                 uv_strerror(rc));
        return http;
    }
    int len = sizeof(sa);
    if (uv_tcp_getsockname(&http->listener, (struct sockaddr *)&sa, &len) == 0)
        http->addr.port = ntohs(sa.sin_port);
    http->sweep_timer = sim_after(loop->sim, NET_HTTP_SWEEP_US, ev_sweep, http);
    err[0] = '\0';
    return http;
}

void net_http_stop_accepting(struct net_http *http)
{
    if (!http->accepting) return;
    http->accepting = false;
    if (http->listening) uv_close((uv_handle_t *)&http->listener, NULL);
    http->listening = false;
}

uint32_t net_http_in_flight(const struct net_http *http)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < NET_HTTP_CONNS_MAX; i++)
        if (http->conns[i].used && http->conns[i].in_flight) n++;
    return n;
}

void net_http_close(struct net_http *http)
{
    net_http_stop_accepting(http);
    if (http->sweep_timer != 0) sim_timer_cancel(http->loop->sim, http->sweep_timer);
    http->sweep_timer = 0;
    for (uint32_t i = 0; i < NET_HTTP_CONNS_MAX; i++) {
        struct http_conn *conn = &http->conns[i];
        if (!conn->used || conn->closing) continue;
        /* A request still waiting fails now; written answers are not cut off: the connection
         * closes once its bytes are out (the node's final timer bounds the wait). */
        if (conn->in_flight) respond_error(conn, 503, "the node is shutting down");
        conn->needs_parse = false;
        conn->close_after = true;
        conn_flush(conn);
        if (conn->out_len == 0 && conn->writing == 0) conn_close(conn);
    }
}

void net_http_free(struct net_http *http)
{
    free(http);
}

struct net_addr net_http_addr(const struct net_http *http)
{
    return http->addr;
}

uint64_t net_http_connections(const struct net_http *http)
{
    return http->connections;
}
