/*
 * JSON source messages (SPEC §9): the first byte picks a golden source,
 * the rest is the payload. ka_json_decode_row() reads it in one pass of
 * its own; the reference here is the parse into a jansson tree it
 * replaced (issue #10: that left a 4 MB message's memory behind).
 * Invariants: nothing outside the source's slice of the row is written;
 * both accept the same texts and give the same values (bit for bit) and
 * event time; a number out of range is one for both.
 */
#include "fuzz.h"

#include "avro_wire.h"
#include "json_decode.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 4242.5

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

/* The jansson-based decoder of runtime/json_decode.c before issue #10. */
static ka_err_t reference(const ka_agent_source_t *src, const uint8_t *buf,
                          size_t len, double *row, int64_t *event_ms)
{
        json_error_t jerr;
        json_t *obj, *v;
        ka_err_t err = KA_OK;

        obj = json_loadb((const char *)buf, len,
                         JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &jerr);
        if (!obj)
                return parse_error(&jerr, len);
        if (!json_is_object(obj)) {
                err = KA_ERR_INVALID;
                goto out;
        }
        for (size_t i = 0; i < src->nfields; i++) {
                double *slot = &row[src->first_field + i];

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

static bool same(double a, double b)
{
        return (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const ka_agent_source_t *src;
        size_t n;
        double *row, *ref;
        uint8_t *buf;
        int64_t ms = 0, ref_ms = 0;
        ka_err_t err, ref_err;

        if (!size)
                return 0;
        src = fuzz_source(data[0]);
        n = src->first_field + src->nfields;
        row = malloc((n + 1) * sizeof(*row));
        ref = malloc((n + 1) * sizeof(*ref));
        buf = fuzz_copy(data + 1, size - 1, false);
        for (size_t i = 0; i <= n; i++)
                row[i] = ref[i] = GUARD;
        err = ka_json_decode_row(src, buf, size - 1, row, &ms);
        for (size_t i = 0; i < src->first_field; i++)
                if (row[i] != GUARD)
                        abort();
        if (row[n] != GUARD)
                abort();
        /* jansson takes a NUL byte outside strings for the end of a
         * token or of the text ({"a": 1\0} parses): no reference then. */
        if (memchr(buf, 0, size - 1))
                goto out;
        ref_err = reference(src, buf, size - 1, ref, &ref_ms);
        /* jansson converts a number when it meets it, also where none
         * may stand ({1e999: ...}): it says overflow where the text is
         * just invalid. */
        if (!err != !ref_err ||
            (err == KA_ERR_OVERFLOW && ref_err != KA_ERR_OVERFLOW)) {
                fprintf(stderr, "%s, jansson: %s\n", ka_err_str(err),
                        ka_err_str(ref_err));
                abort();
        }
        for (size_t i = src->first_field; !err && i < n; i++) {
                if (!same(row[i], ref[i])) {
                        fprintf(stderr, "row[%zu]: %.17g, jansson %.17g\n", i,
                                row[i], ref[i]);
                        abort();
                }
        }
        if (!err && src->time_field && ms != ref_ms)
                abort();
out:
        free(buf);
        free(row);
        free(ref);
        return 0;
}
