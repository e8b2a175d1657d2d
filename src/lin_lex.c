/* lin_lex.c: the line scanner shared by the two history-file parsers.
 *
 * The parsers read untrusted bytes (the fuzzer feeds them anything), so the scanner never
 * reads past the current line, never assumes NUL termination and reports integers out of
 * range instead of overflowing. Lines end at '\n'; one trailing '\r' is dropped.
 *
 * Invariants: cur .. cur + cur_len lies inside text; at <= cur_len; pos <= size.
 */
#include <string.h>

#include "lin_int.h"

void lin_lex_init(struct lin_lex *lx, const char *text, size_t size)
{
    LIN_ASSERT(text != NULL || size == 0);
    memset(lx, 0, sizeof(*lx));
    lx->text = text;
    lx->size = size;
}

bool lin_lex_next_line(struct lin_lex *lx)
{
    if (lx->pos >= lx->size) return false;
    const char *start = lx->text + lx->pos;
    size_t rest = lx->size - lx->pos;
    const char *nl = memchr(start, '\n', rest);
    size_t len = nl != NULL ? (size_t)(nl - start) : rest;
    lx->pos += nl != NULL ? len + 1 : len;
    if (len > 0 && start[len - 1] == '\r') len--;
    lx->cur = start;
    lx->cur_len = len;
    lx->at = 0;
    lx->line_no++;
    LIN_ASSERT(lx->pos <= lx->size);
    return true;
}

size_t lin_lex_skip_space(struct lin_lex *lx)
{
    size_t from = lx->at;
    while (lx->at < lx->cur_len && (lx->cur[lx->at] == ' ' || lx->cur[lx->at] == '\t'))
        lx->at++;
    return lx->at - from;
}

bool lin_lex_at_end(const struct lin_lex *lx)
{
    return lx->at >= lx->cur_len;
}

bool lin_lex_eat(struct lin_lex *lx, const char *word)
{
    size_t len = strlen(word);
    if (lx->cur_len - lx->at < len || memcmp(lx->cur + lx->at, word, len) != 0) return false;
    lx->at += len;
    return true;
}

int lin_lex_int(struct lin_lex *lx, int64_t min, int64_t max, int64_t *out)
{
    LIN_ASSERT(min <= max);
    size_t i = lx->at;
    bool neg = i < lx->cur_len && lx->cur[i] == '-';
    i += neg ? 1 : 0;
    if (i >= lx->cur_len || lx->cur[i] < '0' || lx->cur[i] > '9') return LIN_EPARSE;
    /* Accumulate as a negative number so INT64_MIN fits; stop at the first overflow. */
    int64_t v = 0;
    for (; i < lx->cur_len && lx->cur[i] >= '0' && lx->cur[i] <= '9'; i++) {
        int d = lx->cur[i] - '0';
        if (v < (INT64_MIN + d) / 10) return LIN_ELIMIT;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN) return LIN_ELIMIT;
        v = -v;
    }
    if (v < min || v > max) return LIN_ELIMIT;
    lx->at = i;
    *out = v;
    return 0;
}

size_t lin_lex_token(struct lin_lex *lx, const char *stop, const char **tok_out)
{
    size_t from = lx->at;
    while (lx->at < lx->cur_len) {
        char ch = lx->cur[lx->at];
        if (ch == ' ' || ch == '\t' || (ch != '\0' && strchr(stop, ch) != NULL)) break;
        lx->at++;
    }
    *tok_out = lx->cur + from;
    return lx->at - from;
}

bool lin_lex_line_has_nul(const struct lin_lex *lx)
{
    return lx->cur_len > 0 && memchr(lx->cur, '\0', lx->cur_len) != NULL;
}
