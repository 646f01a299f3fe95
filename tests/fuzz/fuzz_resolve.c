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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Resolver against generated decoder on the source's own schema. */
static void compare(const ka_agent_source_t *src, const uint8_t *buf,
                    size_t len, ka_err_t rerr, const ka_row_t *rrow,
                    int64_t rms)
{
        ka_row_t row;
        int64_t ms = 0;
        ka_err_t err;

        if (!fuzz_row_new(src, &row))
                abort();
        err = src->decode(buf, len, &row, &ms);
        if (!err != !rerr) {
                fprintf(stderr, "generated decoder: %s, resolver: %s\n",
                        ka_err_str(err), ka_err_str(rerr));
                abort();
        }
        if (!err && !fuzz_row_same(src, &row, rrow))
                abort();
        if (!err && src->time_field && ms != rms)
                abort();
        fuzz_row_free(&row);
}

static void resolve(const ka_agent_source_t *src, const char *text,
                    const uint8_t *data, size_t size)
{
        uint8_t *buf = fuzz_copy(data, size, false);
        char errstr[512], *canonical;
        ka_avro_resolver_t *res;
        int64_t ms = 0;
        ka_row_t row;
        ka_err_t err;

        res = ka_avro_resolver_new(text, src, errstr, sizeof(errstr));
        if (!res)
                goto out;
        if (!fuzz_row_new(src, &row))
                abort();
        err = ka_avro_resolver_decode(res, buf, size, &row, &ms);
        fuzz_row_check(src, &row);
        canonical = ka_avro_schema_canonical(text, errstr, sizeof(errstr));
        if (canonical && !strcmp(canonical, src->schema))
                compare(src, buf, size, err, &row, ms);
        free(canonical);
        fuzz_row_free(&row);
out:
        ka_avro_resolver_destroy(res);
        free(buf);
}

/* The worker's way: a decoder meets schema id 7; the schema is fetched
 * (the worker's fetcher does it apart) and the message decoded again. */
static void through_decoder(const ka_agent_source_t *src, const char *text,
                            const uint8_t *data, size_t size)
{
        ka_registry_opts_t opts = {.max_attempts = 1, .transport = serve};
        served_t served;
        json_t *obj = json_pack("{s:s}", "schema", text);
        ka_registry_t *reg;
        ka_decoder_t *dec;
        const char *schema;
        ka_row_t row;
        uint8_t *buf;
        int64_t ms = 0;
        int32_t id;
        char errstr[256];

        served.body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
        json_decref(obj);
        if (!served.body)
                return; /* not UTF-8: no registry would serve it */
        opts.transport_opaque = &served;
        reg = ka_registry_new("http://registry.invalid", &opts, errstr,
                              sizeof(errstr));
        dec = reg ? ka_decoder_new(src, reg) : NULL;
        if (!dec || !fuzz_row_new(src, &row))
                abort();
        buf = malloc(size + 5);
        ka_avro_write_header(buf, 7);
        memcpy(buf + 5, data, size);
        if (ka_decoder_decode(dec, buf, size + 5, &row, &ms, &id) ==
            KA_DECODE_REGISTRY) {
                if (ka_registry_schema_by_id(reg, 7, &schema, errstr,
                                             sizeof(errstr)))
                        ka_decoder_unknown_id(dec, 7);
                for (int i = 0; i < 2; i++) /* learned, then known */
                        (void)ka_decoder_decode(dec, buf, size + 5, &row, &ms,
                                                &id);
        }
        fuzz_row_check(src, &row);
        free(buf);
        ka_decoder_destroy(dec);
        ka_registry_destroy(reg);
        free(served.body);
        fuzz_row_free(&row);
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
