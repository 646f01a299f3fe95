/*
 * Kafka payloads of the golden agents' source topics (the first byte picks
 * the source): the generated decoder on the Avro body, then the whole
 * payload through ka_decoder_decode() (Confluent header, JSON, anything
 * else) without a registry. Invariants: nothing outside the source's slice
 * of the row is written; schema resolution of the source's own schema
 * decodes exactly as the generated decoder does.
 */
#include "fuzz.h"

#include "avro_resolve.h"
#include "decode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD       -777.25
#define MAX_SOURCES 64

static bool same(double a, double b)
{
        return (isnan(a) && isnan(b)) || a == b;
}

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

static void check_guards(const ka_agent_source_t *src, const double *row,
                         size_t n)
{
        for (size_t i = 0; i < src->first_field; i++)
                if (row[i] != GUARD)
                        abort();
        if (row[n] != GUARD)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const ka_agent_source_t *src;
        size_t n, pick;
        double *row, *rrow;
        int64_t ms = 0, rms = 0;
        ka_decoder_t *dec;
        uint8_t *buf;
        ka_err_t err, rerr;

        if (!size)
                return 0;
        pick = data[0];
        src = fuzz_source(pick);
        n = src->first_field + src->nfields;
        row = malloc((n + 1) * sizeof(*row));
        rrow = malloc((n + 1) * sizeof(*rrow));
        buf = fuzz_copy(data + 1, size - 1, false);
        for (size_t i = 0; i <= n; i++)
                row[i] = rrow[i] = GUARD;

        err = src->decode(buf, size - 1, row, &ms);
        check_guards(src, row, n);
        rerr = ka_avro_resolver_decode(self_resolver(pick), buf, size - 1, rrow,
                                       &rms);
        check_guards(src, rrow, n);
        if (err != rerr) {
                fprintf(stderr, "generated decoder: %s, resolver: %s\n",
                        ka_err_str(err), ka_err_str(rerr));
                abort();
        }
        for (size_t i = src->first_field; !err && i < n; i++) {
                if (!same(row[i], rrow[i])) {
                        fprintf(stderr, "row[%zu]: %.17g against %.17g\n", i,
                                row[i], rrow[i]);
                        abort();
                }
        }
        if (!err && src->time_field && ms != rms)
                abort();

        dec = ka_decoder_new(src, NULL);
        if (!dec)
                abort();
        for (size_t i = 0; i <= n; i++)
                row[i] = GUARD;
        (void)ka_decoder_decode(dec, buf, size - 1, row, &ms);
        check_guards(src, row, n);
        ka_decoder_destroy(dec);
        free(buf);
        free(row);
        free(rrow);
        return 0;
}
