/*
 * JSON source messages (SPEC §9): the first byte picks a golden source,
 * the rest is the payload. Invariant: nothing outside the source's slice
 * of the row is written.
 */
#include "fuzz.h"

#include "json_decode.h"

#include <stdlib.h>

#define GUARD 4242.5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const ka_agent_source_t *src;
        size_t n;
        double *row;
        uint8_t *buf;
        int64_t ms = 0;

        if (!size)
                return 0;
        src = fuzz_source(data[0]);
        n = src->first_field + src->nfields;
        row = malloc((n + 1) * sizeof(*row));
        buf = fuzz_copy(data + 1, size - 1, false);
        for (size_t i = 0; i <= n; i++)
                row[i] = GUARD;
        (void)ka_json_decode_row(src, buf, size - 1, row, &ms);
        for (size_t i = 0; i < src->first_field; i++)
                if (row[i] != GUARD)
                        abort();
        if (row[n] != GUARD)
                abort();
        free(buf);
        free(row);
        return 0;
}
