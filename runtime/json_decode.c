/*
 * JSON source messages, parsed with jansson and mapped to the source's
 * fields by name.
 */
#include "json_decode.h"
#include "avro_wire.h"

#include <jansson.h>
#include <math.h>

static ka_err_t parse_error(const json_error_t *jerr, size_t len)
{
        switch (json_error_code(jerr)) {
        case json_error_premature_end_of_input:
                return KA_ERR_TRUNCATED;
        case json_error_invalid_syntax:
                /* jansson calls a token cut by the end ("1.", "nul") an
                 * invalid one: at the very end, the text was truncated. */
                return jerr->position >= 0 && (size_t)jerr->position >= len
                               ? KA_ERR_TRUNCATED
                               : KA_ERR_INVALID;
        case json_error_numeric_overflow:
                return KA_ERR_OVERFLOW;
        case json_error_out_of_memory:
                return KA_ERR_NOMEM;
        default:
                return KA_ERR_INVALID;
        }
}

/* A JSON array of numbers and nulls into arr. */
static ka_err_t json_array_into(const json_t *v, ka_row_array_t *arr)
{
        size_t n = json_array_size(v);
        ka_err_t err;

        arr->len = 0;
        if ((err = ka_row_array_reserve(arr, n)))
                return err;
        for (size_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(v, i);

                if (json_is_null(e))
                        arr->vals[i] = NAN;
                else if (json_is_number(e))
                        arr->vals[i] = json_number_value(e);
                else
                        return KA_ERR_INVALID;
        }
        arr->len = n;
        return KA_OK;
}

ka_err_t ka_json_decode_row(const ka_agent_source_t *src, const uint8_t *buf,
                            size_t len, ka_row_t *row, int64_t *event_ms)
{
        json_error_t jerr;
        json_t *obj, *v;
        size_t i;
        ka_err_t err = KA_OK;

        /* Integers as reals: a value beyond int64 still becomes its
         * nearest double instead of an error. */
        obj = json_loadb((const char *)buf, len,
                         JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &jerr);
        if (!obj)
                return parse_error(&jerr, len);
        if (!json_is_object(obj)) {
                err = KA_ERR_INVALID;
                goto out;
        }
        for (i = 0; i < src->narrays; i++) {
                ka_row_array_t *arr = &row->arrays[src->first_array + i];

                arr->len = 0;
                v = json_object_get(obj, src->arrays[i].name);
                if (!v || json_is_null(v))
                        continue;
                if (!json_is_array(v)) {
                        err = KA_ERR_INVALID;
                        goto out;
                }
                if ((err = json_array_into(v, arr)))
                        goto out;
        }
        for (i = 0; i < src->nfields; i++) {
                double *slot = &row->vals[src->first_field + i];

                v = json_object_get(obj, src->fields[i].name);
                if (!v || json_is_null(v)) {
                        *slot = NAN;
                } else if (json_is_number(v)) {
                        *slot = json_number_value(v);
                } else {
                        err = KA_ERR_INVALID;
                        goto out;
                }
        }
        if (src->time_field && event_ms) {
                v = json_object_get(obj, src->time_field);
                if (!json_is_number(v)) {
                        err = KA_ERR_INVALID;
                        goto out;
                }
                err = ka_avro_seconds_to_ms(json_number_value(v), event_ms);
        }
out:
        json_decref(obj);
        return err;
}
