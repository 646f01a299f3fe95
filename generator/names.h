/*
 * How Avro and Kafka names become C identifiers in generated code (SPEC
 * §12). One function per kind of name, so that every template and every
 * check uses the same mapping.
 */
#ifndef KA_NAMES_H
#define KA_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Longest identifiers, so that every generated line fits 80 columns. */
#define KA_NAMES_FIELD_MAX 28
#define KA_NAMES_TOPIC_MAX 40

/*
 * The C identifier of an Avro field name: the name itself (Avro names are
 * [A-Za-z_][A-Za-z0-9_]*), with '_' appended when it is a C keyword or a
 * macro of the headers generated code includes (ka_names_is_c_macro) and
 * "f" prepended when it begins with an underscore (reserved in C). Two names
 * can map to one identifier ("int" and "int_"): the generator reports that
 * as an error. A result longer than KA_NAMES_FIELD_MAX is cut to a prefix,
 * '_' and 8 hex digits of a hash (FNV-1a) of the name. Returns a malloc'd
 * string; NULL when name is not a valid Avro name.
 */
char *ka_names_field_ident(const char *name);

/*
 * The identifier of a topic: every character outside [A-Za-z0-9_] becomes
 * '_'; a leading digit or underscore gets a "t" prefix; longer than
 * KA_NAMES_TOPIC_MAX it is cut like a field identifier. It names the agent's
 * file and its exported symbol. ka_names_record_name only does the
 * replacement: the Avro record name of an aggregated topic (SPEC §8). Both
 * return malloc'd strings.
 */
char *ka_names_topic_ident(const char *topic);
char *ka_names_record_name(const char *topic);

/* True for the keywords of C11 (and the few C23 ones a newer compiler may
 * treat as keywords). */
bool ka_names_is_c_keyword(const char *s);

/*
 * True for the object-like macros of the C library headers (NULL, EOF,
 * errno, INT32_MAX, M_PI, stdin, ...: those of the C11 headers on glibc
 * with _GNU_SOURCE, a fixed list) and for names beginning with KA_ (the
 * runtime's macros).
 */
bool ka_names_is_c_macro(const char *s);

#endif
