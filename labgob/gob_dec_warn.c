/* labgob's non-default decode warning. Go's labgob walks the destination before Decode and
 * warns when a field is already non-zero, because gob leaves zero values out of the message:
 * a reused reply or an initialised state variable then keeps its stale value. Here each
 * gob_get_* reports a non-zero destination; the decoder counts them and remembers the first.
 */
#include <limits.h>

#include "gob_int.h"

void gob_dec_note_nondefault(struct gob_dec *d, uint32_t field)
{
    GOB_ASSERT(d->err == GOB_OK); /* callers note only before decoding, never after an error */
    if (d->nondefault_count == 0) d->nondefault_field = field;
    if (d->nondefault_count < UINT32_MAX) d->nondefault_count++;
}

int gob_dec_warning(const struct gob_dec *d, char *buf, size_t n)
{
    if (n > 0) buf[0] = '\0';
    if (d->nondefault_count == 0) return 0;
    if (n > 0) {
        snprintf(buf, n,
                 "labgob warning: Decoding into a non-default variable/field %u may not work",
                 (unsigned)d->nondefault_field);
    }
    return d->nondefault_count > (uint32_t)INT_MAX ? INT_MAX : (int)d->nondefault_count;
}
