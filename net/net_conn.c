/* net_conn: one TCP connection carrying length-prefixed frames, for the Raft traffic.
 *
 * Frame: u32 length of the rest, u8 type (request / reply), u64 call id, u16 name length, the
 * name ("Service.Method", empty in replies), the body. Integers little-endian. A frame larger
 * than NET_FRAME_BYTES_MAX, or a type other than the two, ends the connection: the peer is
 * not speaking this protocol.
 *
 * Sending never writes at once: net_conn_send appends to the connection's queue (bounded by
 * NET_SEND_QUEUE_BYTES_MAX; past it the frame is dropped, as a lossy network would) and
 * net_conn_flush hands the queue to libuv at the end of the driver's turn, after the
 * persister's sync (net.h, output commit).
 *
 * Lifecycle: connect or accept -> connected -> closing (net_conn_close, a read or write error,
 * a protocol error) -> on_close, exactly once, after libuv closed the handle. The connection's
 * memory belongs to its owner, which may reuse it only after on_close.
 */
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

#define READ_CHUNK_BYTES (64u * 1024u)

struct write_req {
    uv_write_t req;
    struct net_conn *conn;
    uint8_t *data;
    size_t len;
};

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void on_closed(uv_handle_t *handle)
{
    struct net_conn *conn = handle->data;
    free(conn->in);
    free(conn->out);
    conn->in = NULL;
    conn->out = NULL;
    conn->in_len = conn->in_cap = conn->out_len = conn->out_cap = 0;
    if (conn->on_close != NULL) conn->on_close(conn);
}

void net_conn_close(struct net_conn *conn)
{
    if (conn->closing) return;
    conn->closing = true;
    conn->connected = false;
    uv_close((uv_handle_t *)&conn->tcp, on_closed);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct net_conn *conn = handle->data;
    buf->base = NULL;
    buf->len = 0;
    if (conn->in_cap - conn->in_len < READ_CHUNK_BYTES) {
        size_t cap = conn->in_len + READ_CHUNK_BYTES;
        if (cap > NET_FRAME_BYTES_MAX + 2u * READ_CHUNK_BYTES) return; /* read_cb sees ENOBUFS */
        uint8_t *in = realloc(conn->in, cap);
        if (in == NULL) return;
        conn->in = in;
        conn->in_cap = cap;
    }
    buf->base = (char *)conn->in + conn->in_len;
    buf->len = conn->in_cap - conn->in_len;
}

/* Decodes the frame at the start of `p` (n bytes, n >= the frame's size). false: malformed. */
static bool frame_decode(const uint8_t *p, size_t n, struct net_frame *f)
{
    size_t rest = (size_t)get_le(p, 4);
    if (rest + 4 > n || rest < NET_FRAME_HEADER_BYTES - 4) return false;
    f->type = (enum net_frame_type)p[4];
    if (f->type != NET_FRAME_REQUEST && f->type != NET_FRAME_REPLY) return false;
    f->call_id = get_le(p + 5, 8);
    f->name_len = (size_t)get_le(p + 13, 2);
    if (f->name_len > rest - (NET_FRAME_HEADER_BYTES - 4)) return false;
    f->name = (const char *)p + NET_FRAME_HEADER_BYTES;
    f->body = p + NET_FRAME_HEADER_BYTES + f->name_len;
    f->body_len = rest - (NET_FRAME_HEADER_BYTES - 4) - f->name_len;
    return true;
}

/* Hands every complete frame in the input buffer to on_frame. false: protocol error. */
static bool frames_drain(struct net_conn *conn)
{
    size_t at = 0;
    while (!conn->closing && conn->in_len - at >= 4) {
        size_t rest = (size_t)get_le(conn->in + at, 4);
        if (rest > NET_FRAME_BYTES_MAX) return false;
        if (conn->in_len - at < rest + 4) break;
        struct net_frame frame;
        if (!frame_decode(conn->in + at, conn->in_len - at, &frame)) return false;
        conn->on_frame(conn, &frame);
        at += rest + 4;
    }
    if (conn->closing) return true;
    memmove(conn->in, conn->in + at, conn->in_len - at);
    conn->in_len -= at;
    return true;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct net_conn *conn = stream->data;
    if (nread < 0) {
        net_conn_close(conn);
        return;
    }
    conn->in_len += (size_t)nread;
    if (!frames_drain(conn)) net_conn_close(conn);
}

static void start(struct net_conn *conn)
{
    conn->connected = true;
    uv_tcp_nodelay(&conn->tcp, 1);
    if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) != 0) net_conn_close(conn);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct net_conn *conn = req->data;
    if (conn->closing) return;
    if (status != 0) {
        net_conn_close(conn);
        return;
    }
    start(conn);
    net_conn_flush(conn);
}

static void conn_reset(struct net_conn *conn, struct net_loop *loop, net_conn_frame_cb on_frame,
                       net_conn_close_cb on_close)
{
    uint32_t gen = conn->gen;
    void *owner = conn->owner;
    uint32_t slot = conn->slot;
    memset(conn, 0, sizeof(*conn));
    conn->gen = gen;
    conn->owner = owner;
    conn->slot = slot;
    conn->loop = loop;
    conn->on_frame = on_frame;
    conn->on_close = on_close;
}

int net_conn_connect(struct net_conn *conn, struct net_loop *loop, const struct net_addr *addr,
                     net_conn_frame_cb on_frame, net_conn_close_cb on_close)
{
    conn_reset(conn, loop, on_frame, on_close);
    struct sockaddr_in sa;
    const char *host = strcmp(addr->host, "localhost") == 0 ? "127.0.0.1" : addr->host;
    if (uv_ip4_addr(host, addr->port, &sa) != 0) return NET_EADDR;
    if (uv_tcp_init(loop->uv, &conn->tcp) != 0) return NET_EIO;
    conn->tcp.data = conn;
    conn->connect_req.data = conn;
    if (uv_tcp_connect(&conn->connect_req, &conn->tcp, (const struct sockaddr *)&sa, on_connect) !=
        0) {
        net_conn_close(conn);
        return NET_OK; /* on_close reports the failure */
    }
    return NET_OK;
}

int net_conn_accept(struct net_conn *conn, struct net_loop *loop, uv_stream_t *server,
                    net_conn_frame_cb on_frame, net_conn_close_cb on_close)
{
    conn_reset(conn, loop, on_frame, on_close);
    if (uv_tcp_init(loop->uv, &conn->tcp) != 0) return NET_EIO;
    conn->tcp.data = conn;
    if (uv_accept(server, (uv_stream_t *)&conn->tcp) != 0) {
        net_conn_close(conn);
        return NET_ECONN;
    }
    start(conn);
    return NET_OK;
}

bool net_conn_send(struct net_conn *conn, const struct net_frame *f)
{
    if (conn->closing) return false;
    size_t frame_len = NET_FRAME_HEADER_BYTES + f->name_len + f->body_len;
    if (frame_len - 4 > NET_FRAME_BYTES_MAX || f->name_len > UINT16_MAX) return false;
    if (conn->out_len + conn->writing + frame_len > NET_SEND_QUEUE_BYTES_MAX) return false;
    if (conn->out_cap - conn->out_len < frame_len) {
        size_t cap = conn->out_cap * 2 > conn->out_len + frame_len ? conn->out_cap * 2
                                                                   : conn->out_len + frame_len;
        uint8_t *out = realloc(conn->out, cap);
        if (out == NULL) return false;
        conn->out = out;
        conn->out_cap = cap;
    }
    uint8_t *p = conn->out + conn->out_len;
    put_u32(p, (uint32_t)(frame_len - 4));
    p[4] = (uint8_t)f->type;
    put_u64(p + 5, f->call_id);
    put_u16(p + 13, (uint16_t)f->name_len);
    if (f->name_len > 0) memcpy(p + NET_FRAME_HEADER_BYTES, f->name, f->name_len);
    if (f->body_len > 0) memcpy(p + NET_FRAME_HEADER_BYTES + f->name_len, f->body, f->body_len);
    conn->out_len += frame_len;
    return true;
}

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = req->data;
    struct net_conn *conn = w->conn;
    conn->writing -= w->len;
    free(w->data);
    free(w);
    if (status != 0) net_conn_close(conn);
}

void net_conn_flush(struct net_conn *conn)
{
    if (!conn->connected || conn->closing || conn->out_len == 0) return;
    struct write_req *w = calloc(1, sizeof(*w));
    if (w == NULL) return; /* stays queued; the next flush tries again */
    w->conn = conn;
    w->data = conn->out;
    w->len = conn->out_len;
    w->req.data = w;
    conn->out = NULL;
    conn->out_len = 0;
    conn->out_cap = 0;
    conn->writing += w->len;
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&conn->tcp, &buf, 1, on_written) != 0) {
        conn->writing -= w->len;
        free(w->data);
        free(w);
        net_conn_close(conn);
    }
}
