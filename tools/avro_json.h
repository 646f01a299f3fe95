/*
 * Avro values as one line of JSON text, for `kafkaaggregator consume`: the
 * JSON avro-c's avro_value_to_json() writes, except that NaN and infinite
 * floats and doubles print (as Confluent's console consumer prints them)
 * instead of failing the whole message.
 */
#ifndef KA_AVRO_JSON_H
#define KA_AVRO_JSON_H

#include <avro.h>

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
 * The text is byte for byte what avro_value_to_json(value, 1, ...) writes
 * whenever that succeeds: records and maps as objects in field and
 * insertion order, ", " and ": " between items, a union as
 * {"<branch type name>": value} or a bare null for a null branch, enums as
 * their symbol, bytes and fixed as strings of the code points U+0000 to
 * U+00FF, every non-ASCII character escaped as \uXXXX (UTF-16, upper-case
 * hex), and finite floats and doubles as "%.17g" with a ".0" added to
 * integral values and the exponent written without '+' or leading zeros
 * (17 significant digits read back to the same double). It differs where
 * avro_value_to_json() fails or loses data:
 * - a NaN, +inf or -inf float or double is the JSON string "NaN",
 *   "Infinity" or "-Infinity";
 * - a string or map key that is not valid UTF-8 has each maximal ill-formed
 *   subpart replaced by U+FFFD, as Java's decoder does;
 * - a string with NUL bytes prints them as \u0000 instead of ending there.
 */
char *ka_avro_json(const avro_value_t *value);

#endif
