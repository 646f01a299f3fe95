/*
 * Kafka payloads of the golden agents' source topics (the first byte picks
 * the source): the generated decoder on the Avro body, then the whole
 * payload through ka_decoder_decode() (Confluent header, JSON, anything
 * else) without a registry. Invariants: nothing outside the source's
 * slices of the row is written; schema resolution of the source's own
 * schema decodes exactly as the generated decoder does (scalars and
 * arrays, bit for bit).
 */
#include "fuzz.h"

#include "avro_resolve.h"
#include "decode.h"
#include "row.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SOURCES 64

/* The resolver of each source's own schema, built once. */
static ka_avro_resolver_t *self_resolver(size_t n)
{
        static ka_avro_resolver_t *res[MAX_SOURCES];
        char errstr[512];

        n %= fuzz_nsources();
        if (n >= MAX_SOURCES)
                return NULL;
        if (!res[n]) {
                res[n] = ka_avro_resolver_new(fuzz_source_schema(n),
                                              fuzz_source(n), errstr,
                                              sizeof(errstr));
                if (!res[n]) {
                        fprintf(stderr, "own schema does not resolve: %s\n",
                                errstr);
                        abort();
                }
        }
        return res[n];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const ka_agent_source_t *src;
        ka_row_t row, rrow;
        int64_t ms = 0, rms = 0;
        int32_t id;
        ka_decoder_t *dec;
        uint8_t *buf;
        ka_err_t err, rerr;

        if (!size)
                return 0;
        src = fuzz_source(data[0]);
        if (!fuzz_row_new(src, &row) || !fuzz_row_new(src, &rrow))
                abort();
        buf = fuzz_copy(data + 1, size - 1, false);

        err = src->decode(buf, size - 1, &row, &ms);
        fuzz_row_check(src, &row);
        rerr = ka_avro_resolver_decode(self_resolver(data[0]), buf, size - 1,
                                       &rrow, &rms);
        fuzz_row_check(src, &rrow);
        /* Both must accept the same messages; a refusal may be named
         * differently (a huge array count with few bytes left is too long
         * to one, truncated to the other). */
        if (!err != !rerr) {
                fprintf(stderr, "generated decoder: %s, resolver: %s\n",
                        ka_err_str(err), ka_err_str(rerr));
                abort();
        }
        if (!err && !fuzz_row_same(src, &row, &rrow))
                abort();
        if (!err && src->time_field && ms != rms)
                abort();

        dec = ka_decoder_new(src, NULL);
        if (!dec)
                abort();
        fuzz_row_free(&row);
        if (!fuzz_row_new(src, &row))
                abort();
        (void)ka_decoder_decode(dec, buf, size - 1, &row, &ms, &id);
        fuzz_row_check(src, &row);
        ka_decoder_destroy(dec);
        free(buf);
        fuzz_row_free(&row);
        fuzz_row_free(&rrow);
        return 0;
}
