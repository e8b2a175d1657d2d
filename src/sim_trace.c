/* sim_trace: structured trace records, topic filtering, the rolling digest and the trace file.
 *
 * Every traced event is folded into the digest, recorded or not, by hashing its canonical
 * encoding (time, node, kind id, all field values, text) with XXH3-64 seeded by the previous
 * digest. That chaining makes the digest order-sensitive and cheap (no allocation, one hash per
 * event), so it can stay on in every run and prove that a replay is the same run.
 *
 * Trace file format (text, one record per line, see sim_trace_write):
 *   # labsim-trace 1                       header lines start with '#'
 *   # title <test name>
 *   # seed <seed>
 *   # digest <16 hex digits>
 *   K <kind id> <topic> <kind name> <field name>...      one per kind that appears
 *   E <t_us> <node> <kind id> <value>...<TAB><text>      one per record; text escaped
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
    if ((sim->trace_mask & SIM_TOPIC_BIT(kind->topic)) == 0) return;
    struct sim_trace_rec rec;
    rec.at_us = sim->now_us;
    rec.node = node;
    rec.kind = kind;
    memcpy(rec.v, canon.v, sizeof(rec.v));
    memcpy(rec.text, canon.text, text_len);
    rec.text[text_len] = '\0';
    trace_keep(sim, &rec);
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

static void write_escaped(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\t')
            fputs("\\t", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

/* Writes one K line per distinct kind, in order of first appearance. */
static void write_kinds(const struct sim *sim, FILE *f)
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
        fprintf(f, "K %u %s %s", (unsigned)kind->id, sim_topic_name(kind->topic), kind->name);
        for (int k = 0; k < kind_fields_count(kind); k++)
            fprintf(f, " %s", kind->fields[k]);
        fputc('\n', f);
    }
}

int sim_trace_write(const struct sim *sim, const char *path, const char *title)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) return SIM_EIO;
    fprintf(f, "# labsim-trace 1\n# title %s\n# seed %llu\n# digest %016llx\n",
            title != NULL ? title : "-", (unsigned long long)sim->seed,
            (unsigned long long)sim->digest);
    fprintf(f, "# events %llu recorded %zu%s\n", (unsigned long long)sim->trace_events,
            sim->trace_len, sim->trace_truncated ? " truncated" : "");
    write_kinds(sim, f);
    for (size_t i = 0; i < sim->trace_len; i++) {
        const struct sim_trace_rec *rec = &sim->trace_recs[i];
        fprintf(f, "E %llu %d %u", (unsigned long long)rec->at_us, (int)rec->node,
                (unsigned)rec->kind->id);
        for (int k = 0; k < kind_fields_count(rec->kind); k++)
            fprintf(f, " %lld", (long long)rec->v[k]);
        fputc('\t', f);
        write_escaped(f, rec->text);
        fputc('\n', f);
    }
    int rc = ferror(f) ? SIM_EIO : SIM_OK;
    if (fclose(f) != 0) rc = SIM_EIO;
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
