/*
 * Payload -> row. The generated decoder is the fast path; everything else
 * (other schema ids, JSON) is rare and may be slow.
 */
#include "decode.h"
#include "avro_resolve.h"
#include "avro_schema.h"
#include "avro_wire.h"
#include "json_decode.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* How a schema id is read. */
typedef struct id_entry_s {
        int32_t id;
        bool generated;               /* same canonical form as ours */
        ka_avro_resolver_t *resolver; /* else resolution, or NULL: error */
} id_entry_t;

struct ka_decoder_s {
        const ka_agent_source_t *src;
        ka_registry_t *reg;
        /* An id read by the generated decoder without a lookup: the one
         * it was generated for, or (generated from a .avsc file, without
         * an id) the first id found to have its canonical form. */
        int32_t fast_id;
        id_entry_t *ids;
        size_t nids, cap;
};

const char *ka_decode_result_name(ka_decode_result_t res)
{
        static const char *const names[KA_DECODE__COUNT] = {
                [KA_DECODE_OK] = "ok",
                [KA_DECODE_TRUNCATED] = "truncated",
                [KA_DECODE_CORRUPT] = "corrupt",
                [KA_DECODE_SCHEMA] = "schema",
                [KA_DECODE_REGISTRY] = "registry",
                [KA_DECODE_JSON] = "json",
                [KA_DECODE_FORMAT] = "format",
                [KA_DECODE_TIME] = "time",
        };

        return (unsigned)res < KA_DECODE__COUNT ? names[res] : "unknown";
}

ka_decoder_t *ka_decoder_new(const ka_agent_source_t *src, ka_registry_t *reg)
{
        ka_decoder_t *dec = calloc(1, sizeof(*dec));

        if (!dec)
                return NULL;
        dec->src = src;
        dec->reg = reg;
        dec->fast_id = src->schema_id > 0 ? src->schema_id : -1;
        return dec;
}

void ka_decoder_destroy(ka_decoder_t *dec)
{
        if (!dec)
                return;
        for (size_t i = 0; i < dec->nids; i++)
                ka_avro_resolver_destroy(dec->ids[i].resolver);
        free(dec->ids);
        free(dec);
}

static ka_decode_result_t from_err(ka_err_t err)
{
        switch (err) {
        case KA_OK:
                return KA_DECODE_OK;
        case KA_ERR_TRUNCATED:
                return KA_DECODE_TRUNCATED;
        case KA_ERR_TIME:
                return KA_DECODE_TIME;
        default:
                return KA_DECODE_CORRUPT;
        }
}

/* Adds e to the cache; NULL when out of memory (e's resolver freed). */
static const id_entry_t *remember(ka_decoder_t *dec, id_entry_t e)
{
        if (dec->nids == dec->cap) {
                size_t cap = dec->cap ? dec->cap * 2 : 4;
                id_entry_t *p = realloc(dec->ids, cap * sizeof(*p));

                if (!p) {
                        ka_avro_resolver_destroy(e.resolver);
                        return NULL;
                }
                dec->ids = p;
                dec->cap = cap;
        }
        dec->ids[dec->nids] = e;
        return &dec->ids[dec->nids++];
}

/* Learns how to read schema id from the registry client's cache: NULL
 * when the schema has not been fetched (nothing cached here then, so a
 * later message looks again). */
static const id_entry_t *learn(ka_decoder_t *dec, int32_t id)
{
        char errstr[1024];
        const char *schema;
        ka_avro_schema_t *parsed = NULL;
        char *canonical = NULL;
        id_entry_t e = {.id = id};

        if (!dec->reg) {
                ka_warn("topic %s: schema id %d is not the generated one "
                        "(%d) and no registry is configured",
                        dec->src->topic, (int)id, (int)dec->src->schema_id);
        } else if (!(schema = ka_registry_schema_cached(dec->reg, id))) {
                return NULL;
        } else if (!(parsed = ka_avro_schema_parse(schema, errstr,
                                                   sizeof(errstr))) ||
                   !(canonical = ka_avro_schema_canonical_of(parsed))) {
                ka_warn("topic %s: schema id %d: %s", dec->src->topic, (int)id,
                        parsed ? "out of memory" : errstr);
        } else {
                /* Parsed once for both: a writer schema may be huge. */
                e.generated = !strcmp(canonical, dec->src->schema);
                if (e.generated && dec->fast_id < 0)
                        dec->fast_id = id;
                if (!e.generated &&
                    !(e.resolver = ka_avro_resolver_new_parsed(
                              parsed, dec->src, errstr, sizeof(errstr))))
                        ka_warn("topic %s: schema id %d cannot be read: %s",
                                dec->src->topic, (int)id, errstr);
                else if (!e.generated)
                        ka_info("topic %s: reading schema id %d through "
                                "schema resolution",
                                dec->src->topic, (int)id);
        }
        free(canonical);
        ka_avro_schema_destroy(parsed);
        return remember(dec, e);
}

void ka_decoder_unknown_id(ka_decoder_t *dec, int32_t id)
{
        for (size_t i = 0; i < dec->nids; i++)
                if (dec->ids[i].id == id)
                        return;
        remember(dec, (id_entry_t){.id = id});
}

ka_decode_result_t ka_decoder_decode(ka_decoder_t *dec, const uint8_t *payload,
                                     size_t len, ka_row_t *row,
                                     int64_t *event_ms, int32_t *schema_id)
{
        const ka_agent_source_t *src = dec->src;
        const id_entry_t *e = NULL;
        int32_t id;
        ka_err_t err;

        if (len && payload[0] == '{') {
                err = ka_json_decode_row(src, payload, len, row, event_ms);
                return err == KA_ERR_TIME ? KA_DECODE_TIME
                       : err              ? KA_DECODE_JSON
                                          : KA_DECODE_OK;
        }
        if (len < 1 || payload[0] != KA_AVRO_MAGIC)
                return KA_DECODE_FORMAT;
        if ((err = ka_avro_read_header(payload, len, &id)))
                return from_err(err);
        *schema_id = id;
        payload += KA_AVRO_HEADER_SIZE;
        len -= KA_AVRO_HEADER_SIZE;

        if (id == dec->fast_id)
                return from_err(src->decode(payload, len, row, event_ms));
        for (size_t i = 0; i < dec->nids && !e; i++)
                if (dec->ids[i].id == id)
                        e = &dec->ids[i];
        if (!e && !(e = learn(dec, id)))
                return KA_DECODE_REGISTRY;
        if (e->generated)
                return from_err(src->decode(payload, len, row, event_ms));
        if (!e->resolver)
                return KA_DECODE_SCHEMA;
        return from_err(ka_avro_resolver_decode(e->resolver, payload, len, row,
                                                event_ms));
}
