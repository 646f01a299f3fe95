/*
 * An Avro value -> JSON text printer that writes what avro-c's
 * avro_value_to_json() writes (jansson with JSON_ENSURE_ASCII and
 * JSON_PRESERVE_ORDER) but never refuses a value (jansson cannot hold NaN
 * or infinities, and aggregated records routinely carry NaN) and writes
 * numbers in their shortest text.
 */
#include "avro_json.h"

#include <avro.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT_CHAR 0xFFFD

/* Writes one code point the way jansson does with JSON_ENSURE_ASCII. */
static void put_code_point(FILE *out, uint32_t cp)
{
        switch (cp) {
        case '"':
                fputs("\\\"", out);
                return;
        case '\\':
                fputs("\\\\", out);
                return;
        case '\b':
                fputs("\\b", out);
                return;
        case '\f':
                fputs("\\f", out);
                return;
        case '\n':
                fputs("\\n", out);
                return;
        case '\r':
                fputs("\\r", out);
                return;
        case '\t':
                fputs("\\t", out);
                return;
        default:
                break;
        }
        if (cp >= 0x10000) {
                cp -= 0x10000;
                fprintf(out, "\\u%04X\\u%04X", 0xD800 + (cp >> 10),
                        0xDC00 + (cp & 0x3FF));
        } else if (cp < 0x20 || cp > 0x7F) {
                fprintf(out, "\\u%04X", cp);
        } else {
                putc((int)cp, out);
        }
}

/*
 * Decodes the code point at s (len >= 1 bytes) into *cp and returns how
 * many bytes it took. An ill-formed sequence decodes as U+FFFD and takes
 * its maximal subpart (Unicode 3.9, what Java's decoder replaces): the
 * longest prefix that could still have begun a well-formed sequence, or
 * one byte. Overlong forms, surrogates and values past U+10FFFF are
 * ill-formed, as jansson's validation says.
 */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
        unsigned char lo = 0x80, hi = 0xBF;
        size_t need, i;
        uint32_t v;

        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        }
        if (s[0] >= 0xC2 && s[0] <= 0xDF) {
                need = 1;
                v = s[0] & 0x1Fu;
        } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
                need = 2;
                v = s[0] & 0x0Fu;
                if (s[0] == 0xE0)
                        lo = 0xA0; /* overlong */
                else if (s[0] == 0xED)
                        hi = 0x9F; /* surrogates */
        } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
                need = 3;
                v = s[0] & 0x07u;
                if (s[0] == 0xF0)
                        lo = 0x90; /* overlong */
                else if (s[0] == 0xF4)
                        hi = 0x8F; /* past U+10FFFF */
        } else {
                *cp = REPLACEMENT_CHAR;
                return 1;
        }
        for (i = 1; i <= need; i++) {
                if (i >= len || s[i] < lo || s[i] > hi) {
                        *cp = REPLACEMENT_CHAR;
                        return i;
                }
                v = v << 6 | (s[i] & 0x3Fu);
                lo = 0x80;
                hi = 0xBF;
        }
        *cp = v;
        return need + 1;
}

void ka_avro_json_put_text(FILE *out, const char *text, size_t len)
{
        const unsigned char *s = (const unsigned char *)text;
        size_t i = 0;
        uint32_t cp;

        putc('"', out);
        while (i < len) {
                i += utf8_next(s + i, len - i, &cp);
                put_code_point(out, cp);
        }
        putc('"', out);
}

/* A JSON string of bytes taken as ISO-8859-1, as avro-c encodes bytes and
 * fixed. */
static void put_bytes(FILE *out, const void *buf, size_t len)
{
        const unsigned char *s = buf;

        putc('"', out);
        for (size_t i = 0; i < len; i++)
                put_code_point(out, s[i]);
        putc('"', out);
}

/*
 * The shortest of "%.1g" ... "%.17g" of d that reads back to exactly d.
 * The correctly rounded text of n digits reads back whenever any text of n
 * digits does, and then so does the one of n + 1 digits, so the first that
 * reads back is the shortest there is. Every text of DBL_DIG digits reads
 * back to a normal double, so the search starts there unless d is
 * subnormal (or zero).
 */
static void shortest(char *buf, size_t size, double d)
{
        int prec = fabs(d) >= DBL_MIN ? DBL_DIG : 1;

        for (; prec < DBL_DECIMAL_DIG; prec++) {
                snprintf(buf, size, "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        return;
        }
        snprintf(buf, size, "%.*g", DBL_DECIMAL_DIG, d);
}

/*
 * A finite double in the shortest text that reads back to the same double
 * (a float is printed as its double, exactly, so that it compares equal
 * to the same value carried in a double elsewhere), with ".0" added to an integral value (so that it reads back
 * as a real, as avro-c writes it) and the exponent without '+' or leading
 * zeros. printf and strtod follow LC_NUMERIC, but JSON needs '.': the
 * first byte that is neither a digit, a sign nor the exponent is the
 * decimal point, and any more (the rest of a multi-byte point) are
 * dropped. NaN and infinities, which JSON cannot hold, are the strings
 * Confluent's console consumer prints.
 */
static void put_real(FILE *out, double d)
{
        char buf[64], text[64];
        char *e;
        size_t n = 0;
        bool seen_point = false;

        if (isnan(d)) {
                fputs("\"NaN\"", out);
                return;
        }
        if (isinf(d)) {
                fputs(d > 0 ? "\"Infinity\"" : "\"-Infinity\"", out);
                return;
        }
        shortest(buf, sizeof(buf), d);
        for (const char *p = buf; *p; p++) {
                if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' ||
                    *p == 'e') {
                        text[n++] = *p;
                } else if (!seen_point) {
                        text[n++] = '.';
                        seen_point = true;
                }
        }
        text[n] = '\0';
        e = strchr(text, 'e');
        if (!e && !seen_point) {
                fprintf(out, "%s.0", text);
                return;
        }
        if (e) {
                char *digits = e + 1, *from;

                if (*digits == '-')
                        digits++;
                from = digits;
                if (*from == '+')
                        from++;
                while (*from == '0' && from[1])
                        from++;
                memmove(digits, from, strlen(from) + 1);
        }
        fputs(text, out);
}

static int put_value(FILE *out, const avro_value_t *value, int depth);

/* A record's fields or a map's entries, as an object. */
static int put_object(FILE *out, const avro_value_t *value, int depth)
{
        size_t count;
        int rc;

        if ((rc = avro_value_get_size(value, &count)))
                return rc;
        putc('{', out);
        for (size_t i = 0; i < count; i++) {
                avro_value_t item;
                const char *name = NULL;

                if ((rc = avro_value_get_by_index(value, i, &item, &name)))
                        return rc;
                if (!name) {
                        avro_set_error("no name for item %zu of a %s", i,
                                       avro_value_get_type(value) == AVRO_MAP
                                               ? "map"
                                               : "record");
                        return EINVAL;
                }
                if (i)
                        fputs(", ", out);
                ka_avro_json_put_text(out, name, strlen(name));
                fputs(": ", out);
                if ((rc = put_value(out, &item, depth + 1)))
                        return rc;
        }
        putc('}', out);
        return 0;
}

static int put_array(FILE *out, const avro_value_t *value, int depth)
{
        size_t count;
        int rc;

        if ((rc = avro_value_get_size(value, &count)))
                return rc;
        putc('[', out);
        for (size_t i = 0; i < count; i++) {
                avro_value_t item;

                if ((rc = avro_value_get_by_index(value, i, &item, NULL)))
                        return rc;
                if (i)
                        fputs(", ", out);
                if ((rc = put_value(out, &item, depth + 1)))
                        return rc;
        }
        putc(']', out);
        return 0;
}

static int put_union(FILE *out, const avro_value_t *value, int depth)
{
        avro_value_t branch;
        avro_schema_t schema;
        const char *name;
        int rc, disc;

        if ((rc = avro_value_get_current_branch(value, &branch)))
                return rc;
        if (avro_value_get_type(&branch) == AVRO_NULL) {
                fputs("null", out);
                return 0;
        }
        if ((rc = avro_value_get_discriminant(value, &disc)))
                return rc;
        schema = avro_schema_union_branch(avro_value_get_schema(value), disc);
        if (!schema || !(name = avro_schema_type_name(schema))) {
                avro_set_error("union branch %d has no type name", disc);
                return EINVAL;
        }
        putc('{', out);
        ka_avro_json_put_text(out, name, strlen(name));
        fputs(": ", out);
        if ((rc = put_value(out, &branch, depth + 1)))
                return rc;
        putc('}', out);
        return 0;
}

static int put_value(FILE *out, const avro_value_t *value, int depth)
{
        avro_schema_t schema;
        const void *buf;
        const char *str;
        size_t size;
        int32_t i32;
        int64_t i64;
        double d;
        float f;
        int rc, b;

        if (depth > KA_AVRO_JSON_MAX_DEPTH) {
                avro_set_error("value nested deeper than %d levels",
                               KA_AVRO_JSON_MAX_DEPTH);
                return EINVAL;
        }
        switch (avro_value_get_type(value)) {
        case AVRO_NULL:
                if ((rc = avro_value_get_null(value)))
                        return rc;
                fputs("null", out);
                return 0;
        case AVRO_BOOLEAN:
                if ((rc = avro_value_get_boolean(value, &b)))
                        return rc;
                fputs(b ? "true" : "false", out);
                return 0;
        case AVRO_INT32:
                if ((rc = avro_value_get_int(value, &i32)))
                        return rc;
                fprintf(out, "%" PRId32, i32);
                return 0;
        case AVRO_INT64:
                if ((rc = avro_value_get_long(value, &i64)))
                        return rc;
                fprintf(out, "%" PRId64, i64);
                return 0;
        case AVRO_FLOAT:
                if ((rc = avro_value_get_float(value, &f)))
                        return rc;
                put_real(out, (double)f);
                return 0;
        case AVRO_DOUBLE:
                if ((rc = avro_value_get_double(value, &d)))
                        return rc;
                put_real(out, d);
                return 0;
        case AVRO_STRING:
                if ((rc = avro_value_get_string(value, &str, &size)))
                        return rc;
                /* avro-c counts the terminating NUL in size. */
                if (!str)
                        size = 0;
                else if (size && str[size - 1] == '\0')
                        size--;
                ka_avro_json_put_text(out, str, size);
                return 0;
        case AVRO_BYTES:
                if ((rc = avro_value_get_bytes(value, &buf, &size)))
                        return rc;
                put_bytes(out, buf, buf ? size : 0);
                return 0;
        case AVRO_FIXED:
                if ((rc = avro_value_get_fixed(value, &buf, &size)))
                        return rc;
                put_bytes(out, buf, buf ? size : 0);
                return 0;
        case AVRO_ENUM:
                if ((rc = avro_value_get_enum(value, &b)))
                        return rc;
                schema = avro_value_get_schema(value);
                /* avro-c sets any int and avro_schema_enum_get() reads
                 * uninitialized memory for one out of range. */
                if (b < 0 || b >= avro_schema_enum_number_of_symbols(schema) ||
                    !(str = avro_schema_enum_get(schema, b))) {
                        avro_set_error("enum symbol %d is out of range", b);
                        return EINVAL;
                }
                ka_avro_json_put_text(out, str, strlen(str));
                return 0;
        case AVRO_RECORD:
        case AVRO_MAP:
                return put_object(out, value, depth);
        case AVRO_ARRAY:
                return put_array(out, value, depth);
        case AVRO_UNION:
                return put_union(out, value, depth);
        default:
                avro_set_error("unsupported Avro type %d",
                               (int)avro_value_get_type(value));
                return EINVAL;
        }
}

char *ka_avro_json(const avro_value_t *value)
{
        char *text = NULL;
        size_t len = 0;
        FILE *out;
        int rc;

        if (!(out = open_memstream(&text, &len))) {
                avro_set_error("out of memory");
                return NULL;
        }
        rc = put_value(out, value, 0);
        if (ferror(out) && !rc) {
                avro_set_error("out of memory");
                rc = ENOMEM;
        }
        if (fclose(out) && !rc) {
                avro_set_error("out of memory");
                rc = ENOMEM;
        }
        if (rc) {
                free(text);
                return NULL;
        }
        return text;
}
