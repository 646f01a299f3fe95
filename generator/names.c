/*
 * Avro and topic names to C identifiers. The mapping is injective except
 * for names that differ only where the mapping folds them ("a.b" and "a_b");
 * callers detect such collisions and report them.
 */
#include "names.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ka_names_is_c_keyword(const char *s)
{
        static const char *const keywords[] = {
                "auto",     "break",     "case",          "char",
                "const",    "continue",  "default",       "do",
                "double",   "else",      "enum",          "extern",
                "float",    "for",       "goto",          "if",
                "inline",   "int",       "long",          "register",
                "restrict", "return",    "short",         "signed",
                "sizeof",   "static",    "struct",        "switch",
                "typedef",  "union",     "unsigned",      "void",
                "volatile", "while",     "alignas",       "alignof",
                "bool",     "true",      "false",         "nullptr",
                "typeof",   "constexpr", "static_assert", "thread_local",
                "asm",
        };

        for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
                if (!strcmp(s, keywords[i]))
                        return true;
        return false;
}

/* FNV-1a: a short, stable digest of a name for shortened identifiers. */
static uint32_t fnv1a(const char *s)
{
        uint32_t h = 2166136261u;

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return h;
}

/* Cuts id (malloc'd) to max characters: a prefix, '_' and 8 hex digits
 * of the digest of name. */
static char *shorten(char *id, const char *name, size_t max)
{
        if (!id || strlen(id) <= max)
                return id;
        snprintf(id + max - 9, 10, "_%08x", fnv1a(name));
        return id;
}

static bool is_avro_name(const char *s)
{
        if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
                return false;
        for (const char *p = s + 1; *p; p++)
                if (!(isalnum((unsigned char)*p) || *p == '_'))
                        return false;
        return true;
}

char *ka_names_field_ident(const char *name)
{
        char *id;

        if (!is_avro_name(name))
                return NULL;
        if (asprintf(&id, "%s%s%s", name[0] == '_' ? "f" : "", name,
                     ka_names_is_c_keyword(name) ? "_" : "") < 0)
                return NULL;
        return shorten(id, name, KA_NAMES_FIELD_MAX);
}

char *ka_names_record_name(const char *topic)
{
        char *s = strdup(topic);

        if (!s)
                return NULL;
        for (char *p = s; *p; p++)
                if (!(isalnum((unsigned char)*p) || *p == '_'))
                        *p = '_';
        return s;
}

char *ka_names_topic_ident(const char *topic)
{
        char *s = ka_names_record_name(topic);
        char *p;

        if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '_'))
                return shorten(s, topic, KA_NAMES_TOPIC_MAX);
        p = malloc(strlen(s) + 2);
        if (p) {
                p[0] = 't';
                strcpy(p + 1, s);
        }
        free(s);
        return shorten(p, topic, KA_NAMES_TOPIC_MAX);
}
