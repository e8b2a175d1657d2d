/* trace_file: the parser of labsim text traces, the rpc/role analysis the renderers share, and
 * the event filters of the study tools. See trace_file.h for the invariants of an open trace.
 *
 * Reading is line by line through a fixed buffer: a line longer than TRACE_FILE_LINE_MAX, a NUL
 * byte, a missing final newline, a number that does not fit, an id out of range, a kind used
 * before its K line or a bad escape stops the read with "LINE: problem". Nothing a file says
 * is used as a size or an index before it is checked against a bound. Every byte before a
 * version 2 end line is folded into an XXH3-64 state as it is read, so the end line is checked
 * without keeping or re-reading anything.
 */
#include "trace_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define HEADER_MAGIC "# labsim-trace "
#define NONE SIZE_MAX

const char *trace_file_strerror(int err)
{
    switch (err) {
#define TRACE_FILE_ERR_TEXT(name, value, text)                                                     \
    case name:                                                                                     \
        return text;
        TRACE_FILE_ERRNO_MAP(TRACE_FILE_ERR_TEXT)
#undef TRACE_FILE_ERR_TEXT
    }
    return "unknown trace_file error";
}

static int fail(struct trace_file_error *err, uint64_t line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct trace_file_error *err, uint64_t line, int code, const char *fmt, ...)
{
    va_list ap;
    err->line = line;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

/* ---------------------------------------------------------------- tokens and numbers */

/* A view of part of a line; tokens are separated by exactly one space. */
struct cursor {
    const char *p;
    const char *end;
};

struct token {
    const char *s;
    size_t len;
};

/* Takes the next token. Returns false at the end of the view; an empty token (two spaces, a
 * leading or trailing space) is returned as a token of length 0 for the caller to reject. */
static bool token_next(struct cursor *c, struct token *tok)
{
    if (c->p == NULL) return false;
    const char *space = memchr(c->p, ' ', (size_t)(c->end - c->p));
    tok->s = c->p;
    tok->len = (size_t)((space != NULL ? space : c->end) - c->p);
    c->p = space != NULL ? space + 1 : NULL;
    return true;
}

static bool token_is(const struct token *tok, const char *word)
{
    return tok->len == strlen(word) && memcmp(tok->s, word, tok->len) == 0;
}

/* Decimal digits only, no sign, no leading '+', at most `max`. */
static bool parse_u64(const struct token *tok, uint64_t max, uint64_t *out)
{
    uint64_t value = 0;
    if (tok->len == 0 || tok->len > 20) return false;
    for (size_t i = 0; i < tok->len; i++) {
        char ch = tok->s[i];
        if (ch < '0' || ch > '9') return false;
        uint64_t digit = (uint64_t)(ch - '0');
        if (value > (max - digit) / 10) return false;
        value = value * 10 + digit;
    }
    *out = value;
    return true;
}

/* An optional '-' then digits, within int64_t. */
static bool parse_i64(const struct token *tok, int64_t *out)
{
    struct token digits = *tok;
    bool negative = tok->len > 0 && tok->s[0] == '-';
    if (negative) {
        digits.s++;
        digits.len--;
    }
    uint64_t magnitude = 0;
    uint64_t max = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (!parse_u64(&digits, max, &magnitude)) return false;
    if (negative)
        *out = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
    else
        *out = (int64_t)magnitude;
    return true;
}

/* Copies a token for messages: at most 24 bytes, unprintable bytes as '?'. */
static const char *token_show(const struct token *tok, char *buf, size_t buf_size)
{
    size_t n = tok->len < buf_size - 4 ? tok->len : buf_size - 4;
    if (n > 24) n = 24;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)tok->s[i];
        buf[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    if (n < tok->len) memcpy(buf + n, "...", 3), n += 3;
    buf[n] = '\0';
    return buf;
}

/* A name: 1 .. TRACE_FILE_NAME_MAX-1 bytes of printable ASCII without spaces. */
static bool token_is_name(const struct token *tok)
{
    if (tok->len == 0 || tok->len >= TRACE_FILE_NAME_MAX) return false;
    for (size_t i = 0; i < tok->len; i++) {
        unsigned char ch = (unsigned char)tok->s[i];
        if (ch <= 0x20 || ch >= 0x7f) return false;
    }
    return true;
}

/* ---------------------------------------------------------------- reading lines */

/* How the events of the file are being read. */
enum reader_pass {
    PASS_ONLY = 0,  /* version 2: the one pass */
    PASS_SCAN = 1,  /* version 1, first pass: check every line, collect the nodes */
    PASS_AGAIN = 2, /* version 1, second pass: kinds and nodes known, hand out events */
};

struct trace_file_reader {
    FILE *f;
    enum reader_pass pass;
    uint64_t line;
    size_t len;
    bool records_seen;  /* a K or E line has been read: no more header lines */
    bool events_seen;   /* an E line has been read: no more K lines (version 2) */
    bool header_events; /* the header had an "events" line */
    bool header_nodes;  /* the header had a "nodes" line */
    bool pending;       /* buf holds the first E line, read by trace_file_open */
    bool ended;         /* the end line (version 2) has been read */
    uint64_t header_recorded;
    uint64_t last_at_us;
    XXH3_state_t *hash; /* of every byte before the end line */
    char buf[TRACE_FILE_LINE_MAX + 1];
};

/* Reads the next line into r->buf. Returns 1 for a line, 0 at a clean end of file, or an
 * error code with err set. */
static int reader_next(struct trace_file_reader *r, struct trace_file_error *err)
{
    size_t len = 0;
    int ch = EOF;
    r->line++;
    while ((ch = getc_unlocked(r->f)) != EOF && ch != '\n') {
        if (len == TRACE_FILE_LINE_MAX)
            return fail(err, r->line, TRACE_FILE_EFORMAT, "line longer than %u bytes",
                        TRACE_FILE_LINE_MAX);
        if (ch == '\0') return fail(err, r->line, TRACE_FILE_EFORMAT, "NUL byte in line");
        r->buf[len++] = (char)ch;
    }
    if (ch == EOF && ferror(r->f))
        return fail(err, 0, TRACE_FILE_EIO, "read error: %s", strerror(errno));
    if (ch == EOF && len == 0) {
        r->line--;
        return 0;
    }
    if (ch == EOF)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "last line has no newline (truncated file?)");
    r->buf[len] = '\0';
    r->len = len;
    return 1;
}

/* Folds the current line, newline included, into the file's digest. */
static void reader_hash_line(struct trace_file_reader *r)
{
    r->buf[r->len] = '\n';
    XXH3_64bits_update(r->hash, r->buf, r->len + 1);
    r->buf[r->len] = '\0';
}

/* ---------------------------------------------------------------- header lines */

static int header_first(struct trace_file *tf, struct trace_file_reader *r,
                        struct trace_file_error *err)
{
    if (strcmp(r->buf, HEADER_MAGIC "1") == 0 || strcmp(r->buf, HEADER_MAGIC "2") == 0) {
        tf->version = (unsigned)(r->buf[r->len - 1] - '0');
        return TRACE_FILE_OK;
    }
    if (strncmp(r->buf, HEADER_MAGIC, strlen(HEADER_MAGIC)) == 0 && r->buf[r->len - 1] == '\r')
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "CRLF line ends: convert the file back to LF line ends");
    if (strncmp(r->buf, HEADER_MAGIC, strlen(HEADER_MAGIC)) == 0) {
        struct token tok = {r->buf + strlen(HEADER_MAGIC), r->len - strlen(HEADER_MAGIC)};
        char shown[32];
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "unsupported trace format version '%s' (this labsim reads 1 and 2)",
                    token_show(&tok, shown, sizeof(shown)));
    }
    return fail(err, r->line, TRACE_FILE_EFORMAT,
                "not a labsim trace: the first line must be '" HEADER_MAGIC "%u'",
                TRACE_FILE_VERSION);
}

/* 16 hex digits. */
static bool parse_hex16(const struct token *tok, uint64_t *out)
{
    uint64_t value = 0;
    if (tok->len != 16) return false;
    for (size_t i = 0; i < 16; i++) {
        char ch = tok->s[i];
        uint64_t nibble = 0;
        if (ch >= '0' && ch <= '9')
            nibble = (uint64_t)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            nibble = (uint64_t)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            nibble = (uint64_t)(ch - 'A' + 10);
        else
            return false;
        value = value << 4 | nibble;
    }
    *out = value;
    return true;
}

/* "# events N recorded M [truncated]" */
static int header_events(struct trace_file *tf, struct trace_file_reader *r, struct cursor *c,
                         struct trace_file_error *err)
{
    struct token events;
    struct token word;
    struct token recorded;
    struct token extra;
    bool ok = token_next(c, &events) && parse_u64(&events, UINT64_MAX, &tf->events_traced);
    ok = ok && token_next(c, &word) && token_is(&word, "recorded");
    ok = ok && token_next(c, &recorded) && parse_u64(&recorded, UINT64_MAX, &r->header_recorded);
    if (ok && token_next(c, &extra)) {
        ok = token_is(&extra, "truncated") && !token_next(c, &extra);
        tf->truncated = ok;
    }
    if (!ok)
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "malformed events line (expected '# events N recorded M [truncated]')");
    if (r->header_events)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "duplicate '# events' line");
    r->header_events = true;
    tf->events_count = r->header_recorded;
    return TRACE_FILE_OK;
}

/* "# nodes ID...": node ids in -1..TRACE_FILE_NODE_ID_MAX, strictly ascending. */
static int header_nodes(struct trace_file *tf, struct trace_file_reader *r, struct cursor *c,
                        struct trace_file_error *err)
{
    struct token tok;
    char shown[32];
    if (r->header_nodes) return fail(err, r->line, TRACE_FILE_EFORMAT, "duplicate '# nodes' line");
    r->header_nodes = true;
    while (token_next(c, &tok)) {
        int64_t node = 0;
        if (!parse_i64(&tok, &node) || node < -1 || node > TRACE_FILE_NODE_ID_MAX)
            return fail(err, r->line, TRACE_FILE_EFORMAT, "node '%s' is not a node id in -1..%d",
                        token_show(&tok, shown, sizeof(shown)), TRACE_FILE_NODE_ID_MAX);
        if (tf->nodes_count > 0 && node <= tf->nodes[tf->nodes_count - 1])
            return fail(err, r->line, TRACE_FILE_EFORMAT, "node ids are not in ascending order");
        if (tf->nodes_count == TRACE_FILE_NODES_MAX)
            return fail(err, r->line, TRACE_FILE_ELIMIT, "more than %u distinct nodes",
                        TRACE_FILE_NODES_MAX);
        tf->nodes[tf->nodes_count++] = (int32_t)node;
    }
    return TRACE_FILE_OK;
}

static size_t nodes_find(const struct trace_file *tf, int32_t node);

/* "# name ID NAME" (version 2, after the nodes line): a name for a node of the nodes line.
 * Each node is named at most once and no two nodes share a name, so a name picks one node. */
static int header_name(struct trace_file *tf, struct trace_file_reader *r, struct cursor *c,
                       struct trace_file_error *err)
{
    struct token id;
    struct token name;
    struct token extra;
    char shown[32];
    char text[SIM_NODE_NAME_MAX];
    int64_t node = 0;
    if (!token_next(c, &id) || !token_next(c, &name) || token_next(c, &extra))
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "malformed name line (expected '# name ID NAME')");
    if (!r->header_nodes)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "a name line before the '# nodes' line");
    size_t at = parse_i64(&id, &node) && node >= 0 && node <= TRACE_FILE_NODE_ID_MAX
                    ? nodes_find(tf, (int32_t)node)
                    : tf->nodes_count;
    if (at == tf->nodes_count)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "name for node '%s', which is not listed",
                    token_show(&id, shown, sizeof(shown)));
    text[0] = '\0';
    if (name.len < sizeof(text)) {
        memcpy(text, name.s, name.len);
        text[name.len] = '\0';
    }
    if (!sim_node_name_valid(text))
        return fail(err, r->line, TRACE_FILE_EFORMAT, "bad node name '%s' (%s)",
                    token_show(&name, shown, sizeof(shown)), sim_strerror(SIM_ENAME));
    if (tf->node_names[at][0] != '\0')
        return fail(err, r->line, TRACE_FILE_EFORMAT, "node %lld is named twice", (long long)node);
    for (size_t i = 0; i < tf->nodes_count; i++) {
        if (strcmp(tf->node_names[i], text) == 0)
            return fail(err, r->line, TRACE_FILE_EFORMAT, "two nodes are named '%s'", text);
    }
    memcpy(tf->node_names[at], text, strlen(text) + 1);
    return TRACE_FILE_OK;
}

/* "# end HEX", the last line of a version 2 file: the digest of every byte before it. */
static int header_end(struct trace_file_reader *r, struct cursor *c, struct trace_file_error *err)
{
    struct token tok;
    struct token extra;
    uint64_t recorded = 0;
    if (!token_next(c, &tok) || !parse_hex16(&tok, &recorded) || token_next(c, &extra))
        return fail(err, r->line, TRACE_FILE_EFORMAT, "malformed end line (expected '# end HEX')");
    uint64_t computed = XXH3_64bits_digest(r->hash);
    if (recorded != computed)
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "the file's bytes do not match its end digest (%016llx, computed %016llx): "
                    "changed after it was written",
                    (unsigned long long)recorded, (unsigned long long)computed);
    r->ended = true;
    return TRACE_FILE_OK;
}

/* A '#' line after the first: a known key, or a comment (ignored, for later versions). */
static int header_line(struct trace_file *tf, struct trace_file_reader *r,
                       struct trace_file_error *err)
{
    struct cursor c = {r->buf + 2, r->buf + r->len};
    struct token key = {"", 0};
    struct token value;
    struct token extra;
    bool keyed = r->len >= 2 && r->buf[1] == ' ' && token_next(&c, &key);
    if (tf->version >= 2 && keyed && token_is(&key, "end")) return header_end(r, &c, err);
    reader_hash_line(r);
    if (r->records_seen)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "header line after the K/E records");
    if (strncmp(r->buf, "# title ", 8) == 0) {
        if (r->len - 8 >= TRACE_FILE_TITLE_MAX)
            return fail(err, r->line, TRACE_FILE_EFORMAT, "title longer than %u bytes",
                        TRACE_FILE_TITLE_MAX - 1);
        memcpy(tf->title, r->buf + 8, r->len - 8 + 1);
        return TRACE_FILE_OK;
    }
    if (!keyed) return TRACE_FILE_OK;
    if (token_is(&key, "events")) return header_events(tf, r, &c, err);
    if (token_is(&key, "nodes") && tf->version >= 2) return header_nodes(tf, r, &c, err);
    if (token_is(&key, "name") && tf->version >= 2) return header_name(tf, r, &c, err);
    if (!token_is(&key, "seed") && !token_is(&key, "digest")) return TRACE_FILE_OK;
    if (!token_next(&c, &value) || token_next(&c, &extra))
        return fail(err, r->line, TRACE_FILE_EFORMAT, "malformed '%s' line",
                    token_is(&key, "seed") ? "seed" : "digest");
    if (token_is(&key, "digest")) {
        if (!parse_hex16(&value, &tf->digest))
            return fail(err, r->line, TRACE_FILE_EFORMAT, "digest is not 16 hex digits");
        tf->has_digest = true;
        return TRACE_FILE_OK;
    }
    if (!parse_u64(&value, UINT64_MAX, &tf->seed))
        return fail(err, r->line, TRACE_FILE_EFORMAT, "seed is not a number below 2^64");
    tf->has_seed = true;
    return TRACE_FILE_OK;
}

/* A version 2 header must say, before the records, how many events and which nodes follow. */
static int header_complete(const struct trace_file *tf, const struct trace_file_reader *r,
                           struct trace_file_error *err)
{
    if (tf->version < 2) return TRACE_FILE_OK;
    if (!r->header_events)
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "the header has no '# events' line (required in version 2)");
    if (!r->header_nodes)
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "the header has no '# nodes' line (required in version 2)");
    return TRACE_FILE_OK;
}

/* ---------------------------------------------------------------- K lines */

static int kind_field_index(const struct trace_file_kind *kind, const char *name)
{
    for (int i = 0; i < kind->fields_count; i++) {
        if (strcmp(kind->fields[i], name) == 0) return i;
    }
    return -1;
}

static bool name_ends_with(const char *name, const char *suffix)
{
    size_t len = strlen(name);
    size_t suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(name + len - suffix_len, suffix) == 0;
}

/* Decides the special rendering of a kind by its name and its field names (never its id). */
static void kind_classify(struct trace_file_kind *kind)
{
    static const struct {
        const char *name;
        enum trace_file_class cls;
    } rpc_kinds[] = {
        {"rpc.send", TRACE_FILE_RPC_SEND},   {"rpc.deliver", TRACE_FILE_RPC_DELIVER},
        {"rpc.reply", TRACE_FILE_RPC_REPLY}, {"rpc.drop_reply", TRACE_FILE_RPC_DROP_REPLY},
        {"rpc.fail", TRACE_FILE_RPC_FAIL},   {"rpc.drop_req", TRACE_FILE_RPC_FAIL},
    };
    kind->call_field = kind_field_index(kind, "call");
    kind->term_field = kind_field_index(kind, "term");
    kind->role_field = kind_field_index(kind, "role");
    kind->cls = TRACE_FILE_GENERIC;
    for (size_t i = 0; i < sizeof(rpc_kinds) / sizeof(rpc_kinds[0]); i++) {
        if (kind->call_field >= 0 && strcmp(kind->name, rpc_kinds[i].name) == 0)
            kind->cls = rpc_kinds[i].cls;
    }
    if (kind->term_field >= 0 && kind->role_field >= 0 && name_ends_with(kind->name, ".role"))
        kind->cls = TRACE_FILE_ROLE;
}

/* Reads the id, topic and name tokens of a K line into `kind`. */
static int kind_head(struct cursor *c, struct trace_file_kind *kind, uint64_t line,
                     struct trace_file_error *err)
{
    struct token id;
    struct token topic;
    struct token name;
    char shown[32];
    uint64_t id_value = 0;
    if (!token_next(c, &id) || !token_next(c, &topic) || !token_next(c, &name))
        return fail(err, line, TRACE_FILE_EFORMAT,
                    "malformed kind line (expected 'K id topic name field...')");
    if (!parse_u64(&id, UINT16_MAX, &id_value))
        return fail(err, line, TRACE_FILE_EFORMAT, "kind id '%s' is not a number in 0..65535",
                    token_show(&id, shown, sizeof(shown)));
    char topic_name[TRACE_FILE_NAME_MAX];
    int topic_value = -1;
    if (token_is_name(&topic)) {
        memcpy(topic_name, topic.s, topic.len);
        topic_name[topic.len] = '\0';
        topic_value = sim_topic_parse(topic_name);
    }
    if (topic_value < 0)
        return fail(err, line, TRACE_FILE_EFORMAT, "unknown topic '%s'",
                    token_show(&topic, shown, sizeof(shown)));
    if (!token_is_name(&name))
        return fail(err, line, TRACE_FILE_EFORMAT, "bad kind name '%s'",
                    token_show(&name, shown, sizeof(shown)));
    kind->id = (uint16_t)id_value;
    kind->topic = (enum sim_topic)topic_value;
    memcpy(kind->name, name.s, name.len);
    kind->name[name.len] = '\0';
    return TRACE_FILE_OK;
}

static int line_kind(struct trace_file *tf, struct trace_file_reader *r,
                     struct trace_file_error *err)
{
    struct cursor c = {r->buf + 2, r->buf + r->len};
    struct trace_file_kind kind;
    struct token field;
    char shown[32];
    memset(&kind, 0, sizeof(kind));
    int rc = kind_head(&c, &kind, r->line, err);
    if (rc != TRACE_FILE_OK) return rc;
    while (token_next(&c, &field)) {
        if (kind.fields_count == (int)SIM_TRACE_FIELDS_MAX)
            return fail(err, r->line, TRACE_FILE_EFORMAT, "kind '%s' has more than %u fields",
                        kind.name, SIM_TRACE_FIELDS_MAX);
        if (!token_is_name(&field))
            return fail(err, r->line, TRACE_FILE_EFORMAT, "bad field name '%s'",
                        token_show(&field, shown, sizeof(shown)));
        memcpy(kind.fields[kind.fields_count], field.s, field.len);
        kind.fields[kind.fields_count][field.len] = '\0';
        kind.fields_count++;
    }
    if (tf->kind_by_id[kind.id] != 0)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "kind id %u declared twice",
                    (unsigned)kind.id);
    if (tf->kinds_count == TRACE_FILE_KINDS_MAX)
        return fail(err, r->line, TRACE_FILE_ELIMIT, "more than %u kinds", TRACE_FILE_KINDS_MAX);
    kind_classify(&kind);
    tf->kinds[tf->kinds_count] = kind;
    tf->kinds_count++;
    tf->kind_by_id[kind.id] = (uint16_t)tf->kinds_count;
    return TRACE_FILE_OK;
}

/* ---------------------------------------------------------------- E lines */

/* Undoes sim_trace_write's escaping (\\, \t, \n) into ev->text. */
static int event_text(struct trace_file_event *ev, const char *s, size_t len, uint64_t line,
                      struct trace_file_error *err)
{
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '\\') {
            char next = i + 1 < len ? s[i + 1] : '\0';
            if (next != '\\' && next != 't' && next != 'n')
                return fail(err, line, TRACE_FILE_EFORMAT,
                            "bad escape in text (only \\\\, \\t and \\n are allowed)");
            ch = next == 't' ? '\t' : next == 'n' ? '\n' : '\\';
            i++;
        }
        if (out == SIM_TRACE_TEXT_MAX - 1)
            return fail(err, line, TRACE_FILE_EFORMAT, "text longer than %u bytes",
                        SIM_TRACE_TEXT_MAX - 1);
        ev->text[out++] = ch;
    }
    ev->text[out] = '\0';
    return TRACE_FILE_OK;
}

/* Reads "t_us node kind_id" into ev; returns the kind or NULL with err set. */
static const struct trace_file_kind *event_head(struct trace_file *tf, struct cursor *c,
                                                struct trace_file_event *ev, uint64_t line,
                                                struct trace_file_error *err)
{
    struct token t;
    struct token node;
    struct token id;
    char shown[32];
    uint64_t id_value = 0;
    int64_t node_value = 0;
    if (!token_next(c, &t) || !token_next(c, &node) || !token_next(c, &id)) {
        fail(err, line, TRACE_FILE_EFORMAT, "malformed event line (expected 'E t node kind')");
        return NULL;
    }
    if (!parse_u64(&t, TRACE_FILE_TIME_MAX_US, &ev->at_us)) {
        fail(err, line, TRACE_FILE_EFORMAT, "time '%s' is not a number of microseconds below 2^53",
             token_show(&t, shown, sizeof(shown)));
        return NULL;
    }
    if (!parse_i64(&node, &node_value) || node_value < -1 || node_value > TRACE_FILE_NODE_ID_MAX) {
        fail(err, line, TRACE_FILE_EFORMAT, "node '%s' is not a node id in -1..%d",
             token_show(&node, shown, sizeof(shown)), TRACE_FILE_NODE_ID_MAX);
        return NULL;
    }
    if (!parse_u64(&id, UINT16_MAX, &id_value) || tf->kind_by_id[id_value] == 0) {
        fail(err, line, TRACE_FILE_EFORMAT, "unknown kind id '%s' (no K line declares it)",
             token_show(&id, shown, sizeof(shown)));
        return NULL;
    }
    ev->node = (int32_t)node_value;
    ev->kind = (uint16_t)(tf->kind_by_id[id_value] - 1);
    return &tf->kinds[ev->kind];
}

/* The index of `node` in the sorted nodes[], or nodes_count when absent. */
static size_t nodes_find(const struct trace_file *tf, int32_t node)
{
    size_t lo = 0;
    size_t hi = tf->nodes_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tf->nodes[mid] < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < tf->nodes_count && tf->nodes[lo] == node ? lo : tf->nodes_count;
}

/* Adds a node id to the sorted set of nodes (version 1, first pass). */
static int nodes_add(struct trace_file *tf, int32_t node, uint64_t line,
                     struct trace_file_error *err)
{
    size_t at = 0;
    while (at < tf->nodes_count && tf->nodes[at] < node)
        at++;
    if (at < tf->nodes_count && tf->nodes[at] == node) return TRACE_FILE_OK;
    if (tf->nodes_count == TRACE_FILE_NODES_MAX)
        return fail(err, line, TRACE_FILE_ELIMIT, "more than %u distinct nodes",
                    TRACE_FILE_NODES_MAX);
    memmove(&tf->nodes[at + 1], &tf->nodes[at], (tf->nodes_count - at) * sizeof(tf->nodes[0]));
    tf->nodes[at] = node;
    tf->nodes_count++;
    return TRACE_FILE_OK;
}

/* Sets ev->node_index: the node must be one the header listed (or the first pass found). */
static int event_node(struct trace_file *tf, struct trace_file_event *ev, uint64_t line,
                      struct trace_file_error *err)
{
    if (tf->reader->pass == PASS_SCAN) {
        int rc = nodes_add(tf, ev->node, line, err);
        if (rc != TRACE_FILE_OK) return rc;
    }
    size_t at = nodes_find(tf, ev->node);
    if (at == tf->nodes_count)
        return fail(err, line, TRACE_FILE_EFORMAT, "node %d is not in the header's nodes line",
                    (int)ev->node);
    ev->node_index = (uint16_t)at;
    return TRACE_FILE_OK;
}

static int line_event(struct trace_file *tf, struct trace_file_event *ev,
                      struct trace_file_error *err)
{
    struct trace_file_reader *r = tf->reader;
    const char *tab = memchr(r->buf, '\t', r->len);
    if (tab == NULL)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "event line has no TAB before its text");
    struct cursor c = {r->buf + 2, tab};
    struct token value;
    if (r->header_events && tf->events_read == r->header_recorded)
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "more events than the %llu the header says were recorded",
                    (unsigned long long)r->header_recorded);
    memset(ev, 0, sizeof(*ev));
    const struct trace_file_kind *kind = event_head(tf, &c, ev, r->line, err);
    if (kind == NULL) return TRACE_FILE_EFORMAT;
    int values = 0;
    bool bad = false;
    while (!bad && token_next(&c, &value)) {
        bad = values == kind->fields_count || !parse_i64(&value, &ev->v[values]);
        values += !bad;
    }
    if (bad || values != kind->fields_count)
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "kind '%s' takes %d integer values, the line has something else", kind->name,
                    kind->fields_count);
    if (tf->events_read > 0 && ev->at_us < r->last_at_us)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "time goes backwards (%llu us after %llu us)",
                    (unsigned long long)ev->at_us, (unsigned long long)r->last_at_us);
    int rc = event_text(ev, tab + 1, (size_t)(r->buf + r->len - (tab + 1)), r->line, err);
    if (rc == TRACE_FILE_OK) rc = event_node(tf, ev, r->line, err);
    if (rc != TRACE_FILE_OK) return rc;
    r->last_at_us = ev->at_us;
    tf->events_read++;
    return TRACE_FILE_OK;
}

/* ---------------------------------------------------------------- reading */

/* What a line is, from its first bytes. */
enum line_type { LINE_HEADER, LINE_KIND, LINE_EVENT, LINE_UNKNOWN };

static enum line_type line_type(const struct trace_file_reader *r)
{
    if (r->buf[0] == '#') return LINE_HEADER;
    if (r->len >= 2 && r->buf[1] == ' ' && r->buf[0] == 'K') return LINE_KIND;
    if (r->len >= 2 && r->buf[1] == ' ' && r->buf[0] == 'E') return LINE_EVENT;
    return LINE_UNKNOWN;
}

/* Handles the current line unless it is an event; an event line is only hashed and left in
 * the buffer. Returns TRACE_FILE_OK or an error. */
static int line_other(struct trace_file *tf, struct trace_file_error *err)
{
    struct trace_file_reader *r = tf->reader;
    enum line_type type = line_type(r);
    if (r->ended) return fail(err, r->line, TRACE_FILE_EFORMAT, "line after the '# end' line");
    if (r->line == 1) {
        reader_hash_line(r);
        return header_first(tf, r, err);
    }
    if (type == LINE_HEADER) return header_line(tf, r, err);
    if (type == LINE_UNKNOWN)
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "unknown line (expected '#', 'K ' or 'E ' at its start)");
    reader_hash_line(r);
    int rc = TRACE_FILE_OK;
    if (!r->records_seen) rc = header_complete(tf, r, err);
    r->records_seen = true;
    if (rc != TRACE_FILE_OK || type == LINE_EVENT) return rc;
    if (r->events_seen && tf->version >= 2)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "kind line after the first event");
    /* The second pass of a version 1 file knows every kind from the first. */
    return r->pass == PASS_AGAIN ? TRACE_FILE_OK : line_kind(tf, r, err);
}

/* Whole-file checks at the end of the file. */
static int trace_finish(struct trace_file *tf, struct trace_file_error *err)
{
    struct trace_file_reader *r = tf->reader;
    if (r->line == 0) return fail(err, 1, TRACE_FILE_EFORMAT, "empty file: not a labsim trace");
    int rc = r->records_seen ? TRACE_FILE_OK : header_complete(tf, r, err);
    if (rc != TRACE_FILE_OK) return rc;
    if (r->header_events && r->header_recorded != tf->events_read)
        return fail(err, r->line, TRACE_FILE_EFORMAT,
                    "the header says %llu events were recorded, the file has %llu (cut short?)",
                    (unsigned long long)r->header_recorded, (unsigned long long)tf->events_read);
    if (tf->version >= 2 && !r->ended)
        return fail(err, r->line, TRACE_FILE_EFORMAT, "no '# end' line: the file is cut short");
    return TRACE_FILE_OK;
}

int trace_file_next(struct trace_file *tf, struct trace_file_event *ev,
                    struct trace_file_error *err)
{
    struct trace_file_reader *r = tf->reader;
    int rc = TRACE_FILE_OK;
    while (!r->pending) {
        rc = reader_next(r, err);
        if (rc == 0) return trace_finish(tf, err);
        if (rc < 0) return rc;
        rc = line_other(tf, err);
        if (rc != TRACE_FILE_OK) return rc;
        r->pending = line_type(r) == LINE_EVENT;
    }
    r->pending = false;
    r->events_seen = true;
    rc = line_event(tf, ev, err);
    return rc == TRACE_FILE_OK ? 1 : rc;
}

/* Reads up to the first event line (left pending) or the end of the file. */
static int trace_read_header(struct trace_file *tf, struct trace_file_error *err)
{
    struct trace_file_reader *r = tf->reader;
    for (;;) {
        int rc = reader_next(r, err);
        if (rc < 0) return rc;
        if (rc == 0) return r->line == 0 ? trace_finish(tf, err) : TRACE_FILE_OK;
        rc = line_other(tf, err);
        if (rc != TRACE_FILE_OK) return rc;
        if (line_type(r) == LINE_EVENT) {
            r->pending = true;
            return TRACE_FILE_OK;
        }
    }
}

/* Version 1: reads every event once (checking them and collecting the nodes), then rewinds
 * for the pass that hands them out. */
static int trace_scan_v1(struct trace_file *tf, struct trace_file_error *err)
{
    struct trace_file_reader *r = tf->reader;
    struct trace_file_event ev;
    int rc = 1;
    r->pass = PASS_SCAN;
    while (rc == 1)
        rc = trace_file_next(tf, &ev, err);
    if (rc != 0) return rc;
    uint64_t count = tf->events_read;
    if (fseek(r->f, 0, SEEK_SET) != 0)
        return fail(err, 0, TRACE_FILE_EIO,
                    "a version 1 trace is read twice and must be a regular file: %s",
                    strerror(errno));
    XXH3_64bits_reset(r->hash);
    r->pass = PASS_AGAIN;
    r->line = 0;
    r->records_seen = r->events_seen = r->header_events = r->pending = false;
    tf->events_read = 0;
    rc = trace_read_header(tf, err);
    tf->events_count = count;
    return rc;
}

int trace_file_open(const char *path, struct trace_file **out, struct trace_file_error *err)
{
    struct trace_file *tf = calloc(1, sizeof(*tf));
    *out = NULL;
    if (tf == NULL || (tf->reader = calloc(1, sizeof(*tf->reader))) == NULL) {
        free(tf);
        return fail(err, 0, TRACE_FILE_ENOMEM, "out of memory");
    }
    strcpy(tf->title, "-");
    tf->reader->hash = XXH3_createState();
    tf->reader->f = fopen(path, "r");
    int rc = TRACE_FILE_OK;
    if (tf->reader->hash == NULL)
        rc = fail(err, 0, TRACE_FILE_ENOMEM, "out of memory");
    else if (tf->reader->f == NULL)
        rc = fail(err, 0, TRACE_FILE_EIO, "%s", strerror(errno));
    else
        XXH3_64bits_reset(tf->reader->hash);
    if (rc == TRACE_FILE_OK) rc = trace_read_header(tf, err);
    if (rc == TRACE_FILE_OK && tf->version < 2) rc = trace_scan_v1(tf, err);
    if (rc != TRACE_FILE_OK) {
        trace_file_close(tf);
        return rc;
    }
    *out = tf;
    return TRACE_FILE_OK;
}

void trace_file_close(struct trace_file *tf)
{
    if (tf == NULL) return;
    if (tf->reader != NULL) {
        if (tf->reader->f != NULL) fclose(tf->reader->f);
        XXH3_freeState(tf->reader->hash);
        free(tf->reader);
    }
    free(tf);
}

const struct trace_file_kind *trace_file_event_kind(const struct trace_file *tf,
                                                    const struct trace_file_event *ev)
{
    SIM_ASSERT(NULL, ev->node, ev->kind < tf->kinds_count);
    return &tf->kinds[ev->kind];
}

const char *trace_file_node_name(const struct trace_file *tf, size_t node_index)
{
    if (node_index >= tf->nodes_count || tf->node_names[node_index][0] == '\0') return NULL;
    return tf->node_names[node_index];
}

const char *trace_file_node_label(const struct trace_file *tf, int32_t node,
                                  const char *number_prefix, char *buf, size_t size)
{
    const char *name = trace_file_node_name(tf, nodes_find(tf, node));
    if (name != NULL)
        snprintf(buf, size, "%s", name);
    else if (node == SIM_NODE_NONE)
        snprintf(buf, size, "test");
    else
        snprintf(buf, size, "%s%d", number_prefix, (int)node);
    return buf;
}

const char *trace_file_role_name(int64_t role)
{
    switch (role) {
    case 0:
        return "follower";
    case 1:
        return "candidate";
    case 2:
        return "leader";
    default:
        return NULL;
    }
}

const char *trace_file_value_name(const char *kind, const char *field, int64_t value)
{
    static const char *const deny_reasons[] = {"granted", "term", "log", "leader-heard"};
    static const char *const abandon_whys[] = {"?", "timed-out", "stepped-down"};
    if (strcmp(kind, "raft.prevote_deny") == 0 && strcmp(field, "reason") == 0)
        return value >= 0 && value < 4 ? deny_reasons[value] : NULL;
    if (strcmp(kind, "raft.transfer_abandoned") == 0 && strcmp(field, "why") == 0)
        return value >= 1 && value < 3 ? abandon_whys[value] : NULL;
    return NULL;
}

const char *trace_file_member_set(const char *kind, const char *field, int64_t bits, char *buf,
                                  size_t size)
{
    if (strcmp(kind, "raft.config") != 0 ||
        (strcmp(field, "voters") != 0 && strcmp(field, "learners") != 0) || size < 3)
        return NULL;
    size_t used = 0;
    buf[used++] = '{';
    for (int i = 0; i < 32 && used + 4 < size; i++) {
        if ((((uint64_t)bits >> i) & 1u) == 0) continue;
        int w = snprintf(buf + used, size - used, used > 1 ? ",%d" : "%d", i);
        used += w > 0 ? (size_t)w : 0;
    }
    buf[used++] = '}';
    buf[used] = '\0';
    return buf;
}

void trace_file_error_print(const char *path, const struct trace_file_error *err)
{
    if (err->line == 0)
        fprintf(stderr, "labsim: %s: %s\n", path, err->msg);
    else
        fprintf(stderr, "labsim: %s:%llu: %s\n", path, (unsigned long long)err->line, err->msg);
}

/* ---------------------------------------------------------------- analysis: rpc links */

bool trace_file_calls_feed(struct trace_file_calls *calls, const struct trace_file *tf,
                           const struct trace_file_event *ev, const struct trace_file_ref *self,
                           struct trace_file_ref *from, enum trace_file_link_type *type)
{
    const struct trace_file_kind *kind = trace_file_event_kind(tf, ev);
    if (kind->cls < TRACE_FILE_RPC_SEND || kind->cls > TRACE_FILE_RPC_FAIL) return false;
    SIM_ASSERT(NULL, ev->node, kind->call_field >= 0);
    int64_t call = ev->v[kind->call_field];
    struct trace_file_call *slot = &calls->slots[(uint64_t)call % TRACE_FILE_CALLS_MAX];
    if (!slot->used || slot->call != call) {
        /* A call not seen yet, or one that pushes out an older call of the same slot. */
        memset(slot, 0, sizeof(*slot));
        slot->used = true;
        slot->call = call;
    }
    switch (kind->cls) {
    case TRACE_FILE_RPC_SEND:
        slot->has_send = true;
        slot->send = *self;
        slot->has_deliver = false;
        return false;
    case TRACE_FILE_RPC_DELIVER:
        if (!slot->has_send) return false;
        if (!slot->has_deliver) slot->deliver = *self;
        slot->has_deliver = true;
        *from = slot->send;
        *type = TRACE_FILE_LINK_REQUEST;
        return true;
    case TRACE_FILE_RPC_REPLY:
    case TRACE_FILE_RPC_DROP_REPLY:
        if (!slot->has_deliver) return false;
        *from = slot->deliver;
        *type = kind->cls == TRACE_FILE_RPC_REPLY ? TRACE_FILE_LINK_REPLY : TRACE_FILE_LINK_LOST;
        return true;
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- analysis: role spans */

bool trace_file_spans_end(struct trace_file_spans *spans, size_t node_index, uint64_t end_us,
                          struct trace_file_span *closed)
{
    SIM_ASSERT(NULL, SIM_NODE_NONE, node_index < TRACE_FILE_NODES_MAX);
    if (!spans->open[node_index]) return false;
    *closed = spans->span[node_index];
    closed->end_us = end_us > closed->begin_us ? end_us : closed->begin_us;
    spans->open[node_index] = false;
    SIM_ASSERT(NULL, closed->node, closed->begin_us <= closed->end_us);
    return true;
}

bool trace_file_spans_feed(struct trace_file_spans *spans, const struct trace_file *tf,
                           const struct trace_file_event *ev, uint64_t index,
                           struct trace_file_span *closed)
{
    const struct trace_file_kind *kind = trace_file_event_kind(tf, ev);
    if (kind->cls != TRACE_FILE_ROLE) return false;
    bool ended = trace_file_spans_end(spans, ev->node_index, ev->at_us, closed);
    spans->span[ev->node_index] = (struct trace_file_span){ev->node,
                                                           ev->node_index,
                                                           ev->kind,
                                                           ev->at_us,
                                                           ev->at_us,
                                                           ev->v[kind->term_field],
                                                           ev->v[kind->role_field],
                                                           index};
    spans->open[ev->node_index] = true;
    return ended;
}

/* ---------------------------------------------------------------- filters */

void trace_file_filter_init(struct trace_file_filter *filter)
{
    memset(filter, 0, sizeof(*filter));
    filter->topic_mask = SIM_TOPICS_ALL;
    filter->nodes_all = true;
    filter->from_us = 0;
    filter->to_us = UINT64_MAX;
}

/* Splits `list` at commas; calls item() on each piece (never empty). */
static int list_each(const char *list, const char *what, struct trace_file_error *err,
                     int (*item)(void *ctx, const struct token *tok, struct trace_file_error *err),
                     void *ctx)
{
    struct cursor c = {list, list + strlen(list)};
    int rc = TRACE_FILE_OK;
    if (*list == '\0') return fail(err, 0, TRACE_FILE_EINVAL, "empty list of %s", what);
    while (c.p != NULL && rc == TRACE_FILE_OK) {
        const char *comma = memchr(c.p, ',', (size_t)(c.end - c.p));
        struct token tok = {c.p, (size_t)((comma != NULL ? comma : c.end) - c.p)};
        c.p = comma != NULL ? comma + 1 : NULL;
        if (tok.len == 0) {
            struct token whole = {list, strlen(list)};
            char shown[32];
            return fail(err, 0, TRACE_FILE_EINVAL, "empty item in the list of %s '%s'", what,
                        token_show(&whole, shown, sizeof(shown)));
        }
        rc = item(ctx, &tok, err);
    }
    return rc;
}

static int topic_item(void *ctx, const struct token *tok, struct trace_file_error *err)
{
    struct trace_file_filter *filter = ctx;
    char name[TRACE_FILE_NAME_MAX];
    char shown[32];
    int topic = -1;
    if (tok->len < sizeof(name)) {
        memcpy(name, tok->s, tok->len);
        name[tok->len] = '\0';
        topic = sim_topic_parse(name);
    }
    if (topic < 0) {
        char known[256] = "";
        for (int t = 0; t < (int)SIM_TOPIC_COUNT; t++) {
            strncat(known, t == 0 ? "" : ",", sizeof(known) - strlen(known) - 1);
            strncat(known, sim_topic_name((enum sim_topic)t), sizeof(known) - strlen(known) - 1);
        }
        return fail(err, 0, TRACE_FILE_EINVAL, "unknown topic '%s' (topics: %s)",
                    token_show(tok, shown, sizeof(shown)), known);
    }
    filter->topic_mask |= SIM_TOPIC_BIT(topic);
    return TRACE_FILE_OK;
}

int trace_file_filter_topics(struct trace_file_filter *filter, const char *list,
                             struct trace_file_error *err)
{
    filter->topic_mask = 0;
    return list_each(list, "topics", err, topic_item, filter);
}

/* A node name of a --nodes list, kept until the trace says which id it is. */
static int node_item_name(struct trace_file_filter *filter, const struct token *tok,
                          struct trace_file_error *err)
{
    char shown[32];
    if (filter->names_count == TRACE_FILE_FILTER_NAMES_MAX)
        return fail(err, 0, TRACE_FILE_EINVAL, "more than %u node names",
                    TRACE_FILE_FILTER_NAMES_MAX);
    char *name = filter->names[filter->names_count];
    name[0] = '\0';
    if (tok->len < SIM_NODE_NAME_MAX) {
        memcpy(name, tok->s, tok->len);
        name[tok->len] = '\0';
    }
    if (!sim_node_name_valid(name))
        return fail(err, 0, TRACE_FILE_EINVAL,
                    "bad node '%s' (a node id in -1..%d, a node name, or test)",
                    token_show(tok, shown, sizeof(shown)), TRACE_FILE_NODE_ID_MAX);
    filter->names_count++;
    return TRACE_FILE_OK;
}

static int node_item(void *ctx, const struct token *tok, struct trace_file_error *err)
{
    struct trace_file_filter *filter = ctx;
    char shown[32];
    int64_t node = 0;
    bool letter = tok->len > 0 && ((tok->s[0] >= 'a' && tok->s[0] <= 'z') ||
                                   (tok->s[0] >= 'A' && tok->s[0] <= 'Z'));
    if (token_is(tok, "test"))
        node = SIM_NODE_NONE;
    else if (letter)
        return node_item_name(filter, tok, err);
    else if (!parse_i64(tok, &node) || node < -1 || node > TRACE_FILE_NODE_ID_MAX)
        return fail(err, 0, TRACE_FILE_EINVAL,
                    "bad node '%s' (a node id in -1..%d, a node name, or test)",
                    token_show(tok, shown, sizeof(shown)), TRACE_FILE_NODE_ID_MAX);
    filter->node_on[node + 1] = true;
    return TRACE_FILE_OK;
}

int trace_file_filter_nodes(struct trace_file_filter *filter, const char *list,
                            struct trace_file_error *err)
{
    filter->nodes_all = false;
    filter->names_count = 0;
    memset(filter->node_on, 0, sizeof(filter->node_on));
    return list_each(list, "nodes", err, node_item, filter);
}

int trace_file_parse_seconds(const char *text, uint64_t *us, struct trace_file_error *err)
{
    const char *dot = strchr(text, '.');
    size_t int_len = dot != NULL ? (size_t)(dot - text) : strlen(text);
    struct token whole = {text, int_len};
    struct token frac = {dot != NULL ? dot + 1 : "", dot != NULL ? strlen(dot + 1) : 0};
    uint64_t seconds = 0;
    uint64_t micros = 0;
    bool ok = (int_len > 0 || frac.len > 0) && frac.len <= 6;
    ok = ok && (int_len == 0 || parse_u64(&whole, TRACE_FILE_TIME_MAX_US / SIM_US_PER_S, &seconds));
    ok = ok && (frac.len == 0 || parse_u64(&frac, 999999, &micros));
    if (dot != NULL && frac.len == 0 && int_len == 0) ok = false;
    if (!ok) {
        struct token whole = {text, strlen(text)};
        char shown[32];
        return fail(err, 0, TRACE_FILE_EINVAL,
                    "bad time '%s' (virtual seconds, e.g. 1.5, at most 6 decimals)",
                    token_show(&whole, shown, sizeof(shown)));
    }
    for (size_t i = frac.len; i < 6; i++)
        micros *= 10;
    *us = seconds * SIM_US_PER_S + micros;
    return TRACE_FILE_OK;
}

static const char *node_label(int32_t node, char *buf, size_t size)
{
    if (node == SIM_NODE_NONE)
        snprintf(buf, size, "test");
    else
        snprintf(buf, size, "%d", (int)node);
    return buf;
}

/* The nodes of a trace for a message: "test,0,1,2" or "test,ctl/0,...". */
static void nodes_list(const struct trace_file *tf, char *have, size_t size)
{
    char label[32];
    have[0] = '\0';
    for (size_t i = 0; i < tf->nodes_count; i++) {
        strncat(have, i == 0 ? "" : ",", size - strlen(have) - 1);
        strncat(have, trace_file_node_label(tf, tf->nodes[i], "", label, sizeof(label)),
                size - strlen(have) - 1);
    }
}

/* Turns the names of a --nodes list into ids, or says which one the trace does not have. */
static int filter_names(struct trace_file_filter *filter, const struct trace_file *tf,
                        const char *have, struct trace_file_error *err)
{
    for (size_t n = 0; n < filter->names_count; n++) {
        size_t at = 0;
        while (at < tf->nodes_count && strcmp(tf->node_names[at], filter->names[n]) != 0)
            at++;
        if (at == tf->nodes_count)
            return fail(err, 0, TRACE_FILE_EINVAL, "no node %s in this trace (nodes: %s)",
                        filter->names[n], have[0] != '\0' ? have : "none");
        filter->node_on[tf->nodes[at] + 1] = true;
    }
    filter->names_count = 0;
    return TRACE_FILE_OK;
}

int trace_file_filter_check(struct trace_file_filter *filter, const struct trace_file *tf,
                            struct trace_file_error *err)
{
    char have[1024];
    char label[16];
    if (filter->from_us > filter->to_us)
        return fail(err, 0, TRACE_FILE_EINVAL, "--from is later than --to");
    nodes_list(tf, have, sizeof(have));
    int rc = filter_names(filter, tf, have, err);
    if (rc != TRACE_FILE_OK) return rc;
    for (int node = -1; node <= TRACE_FILE_NODE_ID_MAX && !filter->nodes_all; node++) {
        bool present = false;
        for (size_t i = 0; i < tf->nodes_count && !present; i++)
            present = tf->nodes[i] == node;
        if (filter->node_on[node + 1] && !present)
            return fail(err, 0, TRACE_FILE_EINVAL, "no node %s in this trace (nodes: %s)",
                        node_label(node, label, sizeof(label)), have[0] != '\0' ? have : "none");
    }
    return TRACE_FILE_OK;
}

bool trace_file_filter_node(const struct trace_file_filter *filter, int32_t node)
{
    if (node < -1 || node > TRACE_FILE_NODE_ID_MAX) return false;
    return filter->nodes_all || filter->node_on[node + 1];
}

bool trace_file_filter_match(const struct trace_file_filter *filter, const struct trace_file *tf,
                             const struct trace_file_event *ev)
{
    const struct trace_file_kind *kind = trace_file_event_kind(tf, ev);
    if ((filter->topic_mask & SIM_TOPIC_BIT(kind->topic)) == 0) return false;
    if (ev->at_us < filter->from_us || ev->at_us > filter->to_us) return false;
    return trace_file_filter_node(filter, ev->node);
}
