/*
 * Schema resolution, the worker's path for a writer schema id it was not
 * generated for: a writer schema (generated from the fuzz bytes with the
 * names of a golden source's fields, or raw text up to a NUL when bit 0
 * of the second byte is set) resolved into a golden source (first byte),
 * then the bytes left decoded through it. Bit 1 goes the whole way
 * instead: a decoder whose registry (a stand-in transport) serves the
 * schema under an unknown id, so that the decoder learns it.
 * Invariants: nothing outside the source's slice of the row is written;
 * a writer schema with the source's own canonical form decodes like the
 * generated decoder.
 */
#include "fuzz.h"

#include "avro_resolve.h"
#include "avro_schema.h"
#include "decode.h"
#include "registry.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 12345.5

/* The registry's answer to GET /schemas/ids/7. */
typedef struct served_s {
        char *body;
} served_t;

static ka_err_t serve(void *opaque, const char *method, const char *url,
                      const char *payload, long *status, const char **body,
                      size_t *len)
{
        served_t *s = opaque;

        (void)method;
        (void)payload;
        *status = strstr(url, "/schemas/ids/7") ? 200 : 404;
        *body = *status == 200 ? s->body : "{\"error_code\":40403}";
        *len = strlen(*body);
        return KA_OK;
}

static bool same(double a, double b)
{
        return (isnan(a) && isnan(b)) || a == b;
}

/* Resolver against generated decoder on the source's own schema. */
static void compare(const ka_agent_source_t *src, const ka_avro_resolver_t *res,
                    const uint8_t *buf, size_t len, ka_err_t rerr,
                    const double *rrow, int64_t rms)
{
        size_t n = src->first_field + src->nfields;
        double *row = calloc(n + 1, sizeof(*row));
        int64_t ms = 0;
        ka_err_t err;

        (void)res;
        err = src->decode(buf, len, row, &ms);
        if (!err != !rerr) {
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
        free(row);
}

static void resolve(const ka_agent_source_t *src, const char *text,
                    const uint8_t *data, size_t size)
{
        size_t n = src->first_field + src->nfields;
        double *row = malloc((n + 1) * sizeof(*row));
        uint8_t *buf = fuzz_copy(data, size, false);
        char errstr[512], *canonical;
        ka_avro_resolver_t *res;
        int64_t ms = 0;
        ka_err_t err;

        res = ka_avro_resolver_new(text, src, errstr, sizeof(errstr));
        if (!res)
                goto out;
        for (size_t i = 0; i <= n; i++)
                row[i] = GUARD;
        err = ka_avro_resolver_decode(res, buf, size, row, &ms);
        for (size_t i = 0; i < src->first_field; i++)
                if (row[i] != GUARD)
                        abort();
        if (row[n] != GUARD)
                abort();
        canonical = ka_avro_schema_canonical(text, errstr, sizeof(errstr));
        if (canonical && !strcmp(canonical, src->schema))
                compare(src, res, buf, size, err, row, ms);
        free(canonical);
out:
        ka_avro_resolver_destroy(res);
        free(buf);
        free(row);
}

/* The worker's way: a decoder meets schema id 7 and asks the registry. */
static void through_decoder(const ka_agent_source_t *src, const char *text,
                            const uint8_t *data, size_t size)
{
        ka_registry_opts_t opts = {.max_attempts = 1, .transport = serve};
        size_t n = src->first_field + src->nfields;
        double *row = malloc((n + 1) * sizeof(*row));
        served_t served;
        json_t *obj = json_pack("{s:s}", "schema", text);
        ka_registry_t *reg;
        ka_decoder_t *dec;
        uint8_t *buf;
        int64_t ms = 0;
        char errstr[256];

        served.body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
        json_decref(obj);
        if (!served.body) {
                free(row);
                return; /* not UTF-8: no registry would serve it */
        }
        opts.transport_opaque = &served;
        reg = ka_registry_new("http://registry.invalid", &opts, errstr,
                              sizeof(errstr));
        dec = reg ? ka_decoder_new(src, reg) : NULL;
        if (!dec)
                abort();
        buf = malloc(size + 5);
        ka_avro_write_header(buf, 7);
        memcpy(buf + 5, data, size);
        for (int i = 0; i < 2; i++) /* learned, then cached */
                (void)ka_decoder_decode(dec, buf, size + 5, row, &ms);
        free(buf);
        ka_decoder_destroy(dec);
        ka_registry_destroy(reg);
        free(served.body);
        free(row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_in_t in = {data, data + size};
        const ka_agent_source_t *src = fuzz_source(fuzz_u8(&in));
        uint8_t mode = fuzz_u8(&in);
        const char *names[64];
        size_t nnames = 0;
        char *text;

        for (size_t i = 0; i < src->nfields && nnames < 63; i++)
                names[nnames++] = src->fields[i].name;
        if (src->time_field)
                names[nnames++] = src->time_field;
        if (mode & 1) {
                const uint8_t *nul = memchr(in.p, 0, fuzz_left(&in));
                size_t len = nul ? (size_t)(nul - in.p) : fuzz_left(&in);

                text = (char *)fuzz_copy(in.p, len, true);
                in.p += len + (nul != NULL);
        } else {
                text = fuzz_schema_gen(&in, names, nnames, true);
        }
        if (mode & 2)
                through_decoder(src, text, in.p, fuzz_left(&in));
        else
                resolve(src, text, in.p, fuzz_left(&in));
        free(text);
        return 0;
}
