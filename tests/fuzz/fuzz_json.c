/*
 * JSON source messages (SPEC §9): the first byte picks a golden source,
 * the rest is the payload. ka_json_decode_row() reads it in one pass of
 * its own; the reference here is the parse into a jansson tree it
 * replaced (issue #10: that left a 4 MB message's memory behind).
 * Invariants: nothing outside the source's slice of the row is written;
 * both accept the same texts and give the same values (bit for bit) and
 * event time; a number out of range is one for both, and so is a time out
 * of range (the worker counts it apart, as "time").
 */
#include "fuzz.h"

#include "avro_wire.h"
#include "json_decode.h"
#include "row.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ka_err_t parse_error(const json_error_t *jerr, size_t len)
{
        switch (json_error_code(jerr)) {
        case json_error_premature_end_of_input:
                return KA_ERR_TRUNCATED;
        case json_error_invalid_syntax:
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

/* A JSON array of numbers and nulls into arr (the reference's). */
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

/* The jansson-based decoder of runtime/json_decode.c before issue #10
 * (with arrays, as it last was). */
static ka_err_t reference(const ka_agent_source_t *src, const uint8_t *buf,
                          size_t len, ka_row_t *row, int64_t *event_ms)
{
        json_error_t jerr;
        json_t *obj, *v;
        ka_err_t err = KA_OK;
        size_t i;

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const ka_agent_source_t *src;
        ka_row_t row, ref;
        uint8_t *buf;
        int64_t ms = 0, ref_ms = 0;
        ka_err_t err, ref_err;

        if (!size)
                return 0;
        src = fuzz_source(data[0]);
        if (!fuzz_row_new(src, &row) || !fuzz_row_new(src, &ref))
                abort();
        buf = fuzz_copy(data + 1, size - 1, false);
        err = ka_json_decode_row(src, buf, size - 1, &row, &ms);
        fuzz_row_check(src, &row);
        /* jansson takes a NUL byte outside strings for the end of a
         * token or of the text ({"a": 1\0} parses): no reference then. */
        if (memchr(buf, 0, size - 1))
                goto out;
        ref_err = reference(src, buf, size - 1, &ref, &ref_ms);
        /* jansson converts a number when it meets it, also where none
         * may stand ({1e999: ...}): it says overflow where the text is
         * just invalid. */
        if (!err != !ref_err ||
            (err == KA_ERR_OVERFLOW && ref_err != KA_ERR_OVERFLOW) ||
            (err == KA_ERR_TIME) != (ref_err == KA_ERR_TIME)) {
                fprintf(stderr, "%s, jansson: %s\n", ka_err_str(err),
                        ka_err_str(ref_err));
                abort();
        }
        if (!err && !fuzz_row_same(src, &row, &ref))
                abort();
        if (!err && src->time_field && ms != ref_ms)
                abort();
out:
        free(buf);
        fuzz_row_free(&row);
        fuzz_row_free(&ref);
        return 0;
}
