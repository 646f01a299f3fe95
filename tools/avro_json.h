/*
 * Avro values as one line of JSON text, for `kafkaaggregator consume`: the
 * JSON avro-c's avro_value_to_json() writes, except that numbers are in
 * their shortest text and NaN and infinite floats and doubles print (as
 * Confluent's console consumer prints them) instead of failing the whole
 * message.
 */
#ifndef KA_AVRO_JSON_H
#define KA_AVRO_JSON_H

#include <avro.h>
#include <stddef.h>
#include <stdio.h>

/* Complex types nested deeper than this are an error, not a stack overflow.
 * Far above what consume decodes: its skip programs stop at
 * KA_SKIP_MAX_DEPTH (64). */
#define KA_AVRO_JSON_MAX_DEPTH 256

/*
 * Returns value as malloc'd, NUL-terminated, one-line JSON text (the caller
 * frees it), or NULL with the reason in avro_strerror(): avro-c could not
 * read the value (a union with no branch selected, an enum symbol out of
 * range), nesting deeper than KA_AVRO_JSON_MAX_DEPTH, or out of memory.
 * value is borrowed and left as it is.
 *
 * The text is what avro_value_to_json(value, 1, ...) writes whenever that
 * succeeds, but for numbers: records and maps as objects in field and
 * insertion order, ", " and ": " between items, a union as
 * {"<branch type name>": value} or a bare null for a null branch, enums as
 * their symbol, bytes and fixed as strings of the code points U+0000 to
 * U+00FF, every non-ASCII character escaped as \uXXXX (UTF-16, upper-case
 * hex). It differs
 * - in finite floats and doubles: the shortest text that reads back to the
 *   same double (of "%.15g", "%.16g", "%.17g"; from "%.1g" for subnormals),
 *   a float's being its double's, with a ".0" added to integral values and
 *   the exponent written without '+' or leading zeros: 0.1, 1.0, 1e22,
 *   5e-324, -0.0, where avro-c writes "%.17g" (0.10000000000000001);
 * and where avro_value_to_json() fails or loses data:
 * - a NaN, +inf or -inf float or double is the JSON string "NaN",
 *   "Infinity" or "-Infinity";
 * - a string or map key that is not valid UTF-8 has each maximal ill-formed
 *   subpart replaced by U+FFFD, as Java's decoder does;
 * - a string with NUL bytes prints them as \u0000 instead of ending there.
 */
char *ka_avro_json(const avro_value_t *value);

/*
 * Writes text[0..len) to out as a JSON string, as ka_avro_json() writes
 * Avro strings: UTF-8 with ill-formed subparts as U+FFFD, every
 * non-ASCII character and control character escaped.
 */
void ka_avro_json_put_text(FILE *out, const char *text, size_t len);

#endif
