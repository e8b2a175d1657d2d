/* sim_trace: structured trace records, topic filtering, the rolling digest and the trace file.
 *
 * Every traced event is folded into the digest, recorded or not, by hashing its canonical
 * encoding (time, node, kind id, all field values, text) with XXH3-64 seeded by the previous
 * digest. That chaining makes the digest order-sensitive and cheap (no allocation, one hash per
 * event), so it can stay on in every run and prove that a replay is the same run. The digest is
 * over events, never over the file: the file format can change without changing any digest.
 *
 * Trace file format, version 2 (text, one record per line, see sim_trace_write):
 *   # labsim-trace 2                       header lines start with '#'
 *   # title <test name>
 *   # seed <seed>
 *   # digest <16 hex digits>               the run's digest (sim_digest)
 *   # events <traced> recorded <kept>[ truncated]
 *   # nodes <id>...                        every node id of an E line, ascending
 *   # name <id> <name>                     one per named node of the nodes line, ascending
 *   K <kind id> <topic> <kind name> <field name>...      one per kind that appears, before any E
 *   E <t_us> <node> <kind id> <value>...<TAB><text>      one per record; text escaped
 *   # end <16 hex digits>                  XXH3-64 (seed 0) of every byte before this line
 * The header says everything a reader needs before the first event (how many, which nodes), so
 * tools read a trace in one pass; the end line lets them notice a body changed or cut short.
 * Version 1 had no nodes and no end line. The name lines came later within version 2: a reader
 * from before them skips them as comment lines (it ignores '#' lines it does not know), and a
 * file without them reads as one whose nodes have no names. Names are not events, so they are
 * covered by the end line but not by the run's digest.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sim_int.h"

static const char *const topic_names[SIM_TOPIC_COUNT] = {
#define SIM_TOPIC_NAME(name, bit, text) [bit] = text,
    SIM_TOPIC_MAP(SIM_TOPIC_NAME)
#undef SIM_TOPIC_NAME
};

const char *sim_topic_name(enum sim_topic topic)
{
    if ((unsigned)topic >= SIM_TOPIC_COUNT) return "?";
    return topic_names[topic];
}

int sim_topic_parse(const char *name)
{
    for (int t = 0; t < (int)SIM_TOPIC_COUNT; t++) {
        if (strcmp(topic_names[t], name) == 0) return t;
    }
    return -1;
}

/* Canonical encoding: fixed-width little-endian fields, then the text bytes. */
struct trace_canon {
    uint64_t at_us;
    int64_t v[SIM_TRACE_FIELDS_MAX];
    int32_t node;
    uint16_t kind_id;
    uint16_t text_len;
    char text[SIM_TRACE_TEXT_MAX];
};

static void trace_keep(struct sim *sim, const struct sim_trace_rec *rec)
{
    if (sim->trace_len >= sim->trace_max) {
        sim->trace_truncated = true;
        return;
    }
    if (sim->trace_len == sim->trace_cap) {
        size_t cap = sim->trace_cap == 0 ? 4096 : sim->trace_cap * 2;
        struct sim_trace_rec *recs = realloc(sim->trace_recs, cap * sizeof(*recs));
        if (recs == NULL) {
            sim->trace_truncated = true;
            return;
        }
        sim->trace_recs = recs;
        sim->trace_cap = cap;
    }
    sim->trace_recs[sim->trace_len++] = *rec;
    if (sim->trace_listener != NULL) sim->trace_listener(sim, rec, sim->trace_listener_arg);
}

void sim_trace(struct sim *sim, int node, const struct sim_trace_kind *kind, const int64_t *v,
               const char *text)
{
    SIM_ASSERT(sim, node, kind != NULL);
    uint32_t topic_bit = SIM_TOPIC_BIT(kind->topic);
    struct trace_canon canon;
    memset(&canon, 0, sizeof(canon));
    canon.at_us = sim->now_us;
    canon.node = node;
    canon.kind_id = kind->id;
    if (v != NULL) memcpy(canon.v, v, sizeof(canon.v));
    size_t text_len = text != NULL ? strnlen(text, SIM_TRACE_TEXT_MAX - 1) : 0;
    memcpy(canon.text, text != NULL ? text : "", text_len);
    canon.text_len = (uint16_t)text_len;
    size_t canon_len = offsetof(struct trace_canon, text) + text_len;
    sim->digest = XXH3_64bits_withSeed(&canon, canon_len, sim->digest);
    sim->trace_events++;
    if (sim->same_instant_events >= SIM_STORM_WATCH_EVENTS) sim_storm_note(sim, node, kind, text);
    if (((sim->trace_mask | sim->trace_stream_mask) & topic_bit) == 0) return;
    struct sim_trace_rec rec;
    rec.at_us = sim->now_us;
    rec.node = node;
    rec.kind = kind;
    memcpy(rec.v, canon.v, sizeof(rec.v));
    memcpy(rec.text, canon.text, text_len);
    rec.text[text_len] = '\0';
    if (sim->trace_stream != NULL && (sim->trace_stream_mask & topic_bit) != 0)
        sim->trace_stream(sim, &rec, sim->trace_stream_arg);
    if ((sim->trace_mask & topic_bit) != 0) trace_keep(sim, &rec);
}

void sim_trace4(struct sim *sim, int node, const struct sim_trace_kind *kind, int64_t a, int64_t b,
                int64_t c, int64_t d)
{
    int64_t v[SIM_TRACE_FIELDS_MAX] = {a, b, c, d, 0, 0};
    sim_trace(sim, node, kind, v, NULL);
}

void sim_tracef(struct sim *sim, int node, const struct sim_trace_kind *kind, int64_t a, int64_t b,
                const char *fmt, ...)
{
    char text[SIM_TRACE_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    int64_t v[SIM_TRACE_FIELDS_MAX] = {a, b, 0, 0, 0, 0};
    sim_trace(sim, node, kind, v, text);
}

void sim_trace_record(struct sim *sim, uint32_t topic_mask, size_t records_max)
{
    sim->trace_mask = topic_mask & SIM_TOPICS_ALL;
    sim->trace_max = records_max;
}

bool sim_trace_recording(const struct sim *sim, enum sim_topic topic)
{
    return (sim->trace_mask & SIM_TOPIC_BIT(topic)) != 0;
}

size_t sim_trace_count(const struct sim *sim)
{
    return sim->trace_len;
}

const struct sim_trace_rec *sim_trace_at(const struct sim *sim, size_t i)
{
    if (i >= sim->trace_len) return NULL;
    return &sim->trace_recs[i];
}

bool sim_trace_truncated(const struct sim *sim)
{
    return sim->trace_truncated;
}

void sim_trace_set_listener(struct sim *sim, sim_trace_cb cb, void *arg)
{
    sim->trace_listener = cb;
    sim->trace_listener_arg = arg;
}

void sim_trace_set_stream(struct sim *sim, uint32_t topic_mask, sim_trace_cb cb, void *arg)
{
    sim->trace_stream = cb;
    sim->trace_stream_arg = arg;
    sim->trace_stream_mask = cb != NULL ? topic_mask & SIM_TOPICS_ALL : 0;
}

uint64_t sim_digest(const struct sim *sim)
{
    return sim->digest;
}

uint64_t sim_trace_events(const struct sim *sim)
{
    return sim->trace_events;
}

static int kind_fields_count(const struct sim_trace_kind *kind)
{
    int n = 0;
    while (n < (int)SIM_TRACE_FIELDS_MAX && kind->fields[n] != NULL)
        n++;
    return n;
}

/* ---------------------------------------------------------------- the trace file */

#define TRACE_OUT_BUF_SIZE (64u * 1024u)
#define TRACE_OUT_PIECE_MAX 1024u /* one formatted piece: a few numbers or one name */
#define TRACE_NODE_ID_MAX 4095    /* node ids the readers take: -1 .. this */

/* The file being written, through a buffer, and the running hash of every byte written. */
struct trace_out {
    FILE *f;
    XXH3_state_t *hash;
    bool failed;
    size_t len;
    char buf[TRACE_OUT_BUF_SIZE];
};

static void out_flush(struct trace_out *o)
{
    if (o->len == 0) return;
    if (XXH3_64bits_update(o->hash, o->buf, o->len) != XXH_OK) o->failed = true;
    if (fwrite(o->buf, 1, o->len, o->f) != o->len) o->failed = true;
    o->len = 0;
}

static void out_printf(struct trace_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void out_printf(struct trace_out *o, const char *fmt, ...)
{
    va_list ap;
    if (sizeof(o->buf) - o->len < TRACE_OUT_PIECE_MAX) out_flush(o);
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
    va_end(ap);
    SIM_ASSERT(NULL, SIM_NODE_NONE, n >= 0);
    SIM_ASSERT(NULL, SIM_NODE_NONE, (size_t)n < TRACE_OUT_PIECE_MAX);
    o->len += (size_t)n;
}

/* Appends TAB, the text escaped (\\, \t, \n), then the newline that ends an E line. */
static void out_escaped(struct trace_out *o, const char *s)
{
    SIM_ASSERT(NULL, SIM_NODE_NONE, strlen(s) < SIM_TRACE_TEXT_MAX);
    if (sizeof(o->buf) - o->len < 2 * SIM_TRACE_TEXT_MAX + 2) out_flush(o);
    o->buf[o->len++] = '\t';
    for (; *s != '\0'; s++) {
        char ch = *s;
        if (ch == '\\' || ch == '\t' || ch == '\n') {
            o->buf[o->len++] = '\\';
            ch = ch == '\t' ? 't' : ch == '\n' ? 'n' : '\\';
        }
        o->buf[o->len++] = ch;
    }
    o->buf[o->len++] = '\n';
}

/* Writes one K line per distinct kind, in order of first appearance. */
static void write_kinds(const struct sim *sim, struct trace_out *o)
{
    const struct sim_trace_kind *seen[1024];
    size_t seen_len = 0;
    for (size_t i = 0; i < sim->trace_len; i++) {
        const struct sim_trace_kind *kind = sim->trace_recs[i].kind;
        bool known = false;
        for (size_t j = 0; j < seen_len && !known; j++)
            known = seen[j] == kind;
        if (known || seen_len == sizeof(seen) / sizeof(seen[0])) continue;
        seen[seen_len++] = kind;
        out_printf(o, "K %u %s %s", (unsigned)kind->id, sim_topic_name(kind->topic), kind->name);
        for (int k = 0; k < kind_fields_count(kind); k++)
            out_printf(o, " %s", kind->fields[k]);
        out_printf(o, "\n");
    }
}

/* "# nodes ...": the node ids of the records, ascending. Ids outside -1..TRACE_NODE_ID_MAX
 * are left out; readers refuse their events anyway. Then "# name ID NAME" for each of them that
 * has a name. */
static void write_nodes(const struct sim *sim, struct trace_out *o)
{
    uint8_t seen[(TRACE_NODE_ID_MAX + 2 + 7) / 8];
    memset(seen, 0, sizeof(seen));
    for (size_t i = 0; i < sim->trace_len; i++) {
        int32_t node = sim->trace_recs[i].node;
        if (node < -1 || node > TRACE_NODE_ID_MAX) continue;
        seen[(node + 1) / 8] |= (uint8_t)(1u << ((node + 1) % 8));
    }
    out_printf(o, "# nodes");
    for (int id = 0; id < TRACE_NODE_ID_MAX + 2; id++) {
        if (seen[id / 8] & (1u << (id % 8))) out_printf(o, " %d", id - 1);
    }
    out_printf(o, "\n");
    for (int node = 0; node < (int)SIM_NODE_NAMES_MAX; node++) {
        const char *name = sim_node_name(sim, node);
        if (name != NULL && (seen[(node + 1) / 8] & (1u << ((node + 1) % 8))) != 0)
            out_printf(o, "# name %d %s\n", node, name);
    }
}

/* Appends a signed decimal number: the hot path of write_records, without printf. */
static void out_i64(struct trace_out *o, int64_t value)
{
    char digits[24];
    size_t n = 0;
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (sizeof(o->buf) - o->len < sizeof(digits) + 2) out_flush(o);
    o->buf[o->len++] = ' ';
    if (value < 0) o->buf[o->len++] = '-';
    while (n > 0)
        o->buf[o->len++] = digits[--n];
}

static void write_records(const struct sim *sim, struct trace_out *o)
{
    for (size_t i = 0; i < sim->trace_len; i++) {
        const struct sim_trace_rec *rec = &sim->trace_recs[i];
        out_printf(o, "E %llu %d %u", (unsigned long long)rec->at_us, (int)rec->node,
                   (unsigned)rec->kind->id);
        for (int k = 0; k < kind_fields_count(rec->kind); k++)
            out_i64(o, rec->v[k]);
        out_escaped(o, rec->text); /* TAB, the text, newline */
    }
}

int sim_trace_write(const struct sim *sim, const char *path, const char *title)
{
    struct trace_out *o = calloc(1, sizeof(*o));
    if (o == NULL) return SIM_EIO;
    o->hash = XXH3_createState();
    o->f = fopen(path, "w");
    int rc = SIM_EIO;
    if (o->hash == NULL || XXH3_64bits_reset(o->hash) != XXH_OK || o->f == NULL) goto out_free;
    out_printf(o, "# labsim-trace 2\n# title %.*s\n# seed %llu\n# digest %016llx\n",
               TRACE_OUT_PIECE_MAX / 2, title != NULL ? title : "-", (unsigned long long)sim->seed,
               (unsigned long long)sim->digest);
    out_printf(o, "# events %llu recorded %zu%s\n", (unsigned long long)sim->trace_events,
               sim->trace_len, sim->trace_truncated ? " truncated" : "");
    write_nodes(sim, o);
    write_kinds(sim, o);
    write_records(sim, o);
    out_flush(o);
    /* The end line is not part of the bytes it covers. */
    fprintf(o->f, "# end %016llx\n", (unsigned long long)XXH3_64bits_digest(o->hash));
    rc = o->failed || ferror(o->f) ? SIM_EIO : SIM_OK;
out_free:
    if (o->f != NULL && fclose(o->f) != 0) rc = SIM_EIO;
    if (o->hash != NULL) XXH3_freeState(o->hash);
    free(o);
    return rc;
}

/* ---------------------------------------------------------------- storm report */

void sim_storm_note(struct sim *sim, int node, const struct sim_trace_kind *kind, const char *text)
{
    struct sim_storm_rec *rec = &sim->storm[sim->storm_next];
    rec->kind = kind;
    rec->node = node;
    snprintf(rec->text, sizeof(rec->text), "%s", text != NULL ? text : "");
    sim->storm_next = (sim->storm_next + 1u) % SIM_STORM_RING;
    if (sim->storm_len < SIM_STORM_RING) sim->storm_len++;
    SIM_ASSERT(sim, node, sim->storm_len <= SIM_STORM_RING);
}

static bool storm_same(const struct sim_storm_rec *a, const struct sim_storm_rec *b)
{
    return a->kind == b->kind && a->node == b->node && strcmp(a->text, b->text) == 0;
}

/* Groups the ring by (kind, node, text) and lists the largest groups first; ties keep the
 * ring's order, so the report is the same in every run. */
void sim_storm_summary(const struct sim *sim, char *buf, size_t buf_size)
{
    enum { SHOWN_MAX = 6 };
    uint32_t count[SIM_STORM_RING] = {0};
    uint32_t n = sim->storm_len;
    SIM_ASSERT(sim, SIM_NODE_NONE, buf_size > 0);
    buf[0] = '\0';
    if (n == 0) {
        snprintf(buf, buf_size, "no traced events: a timer or task loop that traces nothing");
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = 0;
        while (j < i && !storm_same(&sim->storm[j], &sim->storm[i]))
            j++;
        count[j]++; /* counted on the group's first record */
    }
    size_t used = 0;
    for (int shown = 0; shown < SHOWN_MAX; shown++) {
        uint32_t best = n;
        for (uint32_t i = 0; i < n; i++) {
            if (count[i] > 0 && (best == n || count[i] > count[best])) best = i;
        }
        if (best == n || used + 1u >= buf_size) break;
        const struct sim_storm_rec *rec = &sim->storm[best];
        int w = snprintf(buf + used, buf_size - used, "%s%s%s%s n%d (%u)", shown > 0 ? ", " : "",
                         rec->kind->name, rec->text[0] != '\0' ? " " : "", rec->text, rec->node,
                         count[best]);
        if (w < 0) break;
        used += (size_t)w < buf_size - used ? (size_t)w : buf_size - used - 1u;
        count[best] = 0;
    }
}
