/*
 * The configuration loader: libyaml's document API turns the file into a
 * node graph, and a walk shaped like the format (config.h) checks it and
 * copies it into the public structs, blaming the offending node on error.
 * Topic patterns are compiled here and expanded against a list of topics
 * by ka_config_expand().
 */
#include "config.h"
#include "names.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Larger files are not configs; a bound keeps a mistake from eating RAM. */
#define MAX_FILE_SIZE ((size_t)64 << 20)

#define MAX_MS ((int64_t)KA_CONFIG_MAX_SECONDS * 1000)

typedef struct loader_s {
        const char *path;
        yaml_document_t *doc;
        char *errstr;
        size_t errstr_size;
        ka_config_errors_t *errors; /* NULL: stop at the first error */
} loader_t;

/* What a node holds, typed by the YAML 1.2 core schema. */
typedef enum vtype_e {
        V_NULL,
        V_BOOL,
        V_INT,
        V_FLOAT,
        V_STR,
        V_SEQ,
        V_MAP,
} vtype_t;

static void topic_release(ka_config_topic_t *topic);

static ka_config_pos_t pos_of_mark(yaml_mark_t mark)
{
        ka_config_pos_t pos;

        pos.line = mark.line < INT32_MAX ? (int)mark.line + 1 : INT32_MAX;
        pos.col = mark.column < INT32_MAX ? (int)mark.column + 1 : INT32_MAX;
        return pos;
}

static ka_config_pos_t pos_of(const yaml_node_t *node)
{
        return pos_of_mark(node->start_mark);
}

__attribute__((format(printf, 5, 0))) static void
vformat(const char *path, ka_config_pos_t pos, char *errstr, size_t errstr_size,
        const char *fmt, va_list ap)
{
        int n;

        if (!errstr || errstr_size == 0)
                return;
        if (pos.line > 0)
                n = snprintf(errstr, errstr_size, "%s:%d:%d: error: ", path,
                             pos.line, pos.col);
        else
                n = snprintf(errstr, errstr_size, "%s: error: ", path);
        if (n < 0 || (size_t)n >= errstr_size)
                return;
        vsnprintf(errstr + n, errstr_size - (size_t)n, fmt, ap);
}

void ka_config_errors_add(ka_config_errors_t *errors, ka_err_t err,
                          const char *msg)
{
        errors->n++;
        if (errors->fn)
                errors->fn(errors->opaque, err, msg);
}

void ka_config_errorf(const ka_config_t *cfg, ka_config_pos_t pos, char *errstr,
                      size_t errstr_size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vformat(cfg->path, pos, errstr, errstr_size, fmt, ap);
        va_end(ap);
}

__attribute__((format(printf, 3, 4))) static bool
fail_at(loader_t *ld, ka_config_pos_t pos, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vformat(ld->path, pos, ld->errstr, ld->errstr_size, fmt, ap);
        va_end(ap);
        return false;
}

#define fail(ld, node, ...) fail_at(ld, pos_of(node), __VA_ARGS__)

/*
 * A user's text made safe to quote in a message: at most 64 bytes, control
 * characters as '?'. Returns buf.
 */
static const char *shown(const char *s, size_t len, char buf[72])
{
        size_t i, n = len > 64 ? 64 : len;

        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
        if (len > n)
                memcpy(buf + n, "...", 4);
        else
                buf[n] = '\0';
        return buf;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Whether all of s[0 .. len) is in the characters of set, and len > 0. */
static bool all_in(const char *s, size_t len, bool (*in)(char))
{
        size_t i;

        if (len == 0)
                return false;
        for (i = 0; i < len; i++)
                if (!in(s[i]))
                        return false;
        return true;
}

static bool is_octal(char c)
{
        return c >= '0' && c <= '7';
}

static bool is_hex(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_one_of(const char *s, size_t len, const char *const *words,
                      size_t nwords)
{
        size_t i;

        for (i = 0; i < nwords; i++)
                if (strlen(words[i]) == len && memcmp(s, words[i], len) == 0)
                        return true;
        return false;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_decimal_float(const char *s, size_t len)
{
        size_t i = 0, mant = 0;

        if (i < len && (s[i] == '-' || s[i] == '+'))
                i++;
        while (i < len && is_digit(s[i]))
                i++, mant++;
        if (i < len && s[i] == '.') {
                i++;
                while (i < len && is_digit(s[i]))
                        i++, mant++;
        }
        if (mant == 0)
                return false;
        if (i < len && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (i < len && (s[i] == '-' || s[i] == '+'))
                        i++;
                if (i == len)
                        return false;
                while (i < len && is_digit(s[i]))
                        i++;
        }
        return i == len;
}

/* The core schema's resolution of a plain scalar. */
static vtype_t plain_vtype(const char *s, size_t len)
{
        static const char *const nulls[] = {"~", "null", "Null", "NULL"};
        static const char *const bools[] = {"true",  "True",  "TRUE",
                                            "false", "False", "FALSE"};
        static const char *const specials[] = {
                ".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
                "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN"};
        size_t sign = len > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;

        if (len == 0 || is_one_of(s, len, nulls, KA_ARRAY_SIZE(nulls)))
                return V_NULL;
        if (is_one_of(s, len, bools, KA_ARRAY_SIZE(bools)))
                return V_BOOL;
        if (all_in(s + sign, len - sign, is_digit))
                return V_INT;
        if (len > 2 && s[0] == '0' && s[1] == 'o' &&
            all_in(s + 2, len - 2, is_octal))
                return V_INT;
        if (len > 2 && s[0] == '0' && s[1] == 'x' &&
            all_in(s + 2, len - 2, is_hex))
                return V_INT;
        if (is_decimal_float(s, len) ||
            is_one_of(s, len, specials, KA_ARRAY_SIZE(specials)))
                return V_FLOAT;
        return V_STR;
}

static vtype_t vtype(const yaml_node_t *node)
{
        switch (node->type) {
        case YAML_SEQUENCE_NODE:
                return V_SEQ;
        case YAML_MAPPING_NODE:
                return V_MAP;
        default:
                break;
        }
        if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return V_STR;
        return plain_vtype((const char *)node->data.scalar.value,
                           node->data.scalar.length);
}

static const char *vtype_name(vtype_t type)
{
        switch (type) {
        case V_NULL:
                return "null";
        case V_BOOL:
                return "a boolean";
        case V_INT:
                return "an integer";
        case V_FLOAT:
                return "a float";
        case V_STR:
                return "a string";
        case V_SEQ:
                return "a sequence";
        case V_MAP:
                return "a mapping";
        }
        return "?";
}

static bool type_error(loader_t *ld, const yaml_node_t *node,
                       const char *expected, const char *what)
{
        return fail(ld, node, "expected %s for %s, got %s", expected, what,
                    vtype_name(vtype(node)));
}

static const char *sval(const yaml_node_t *node)
{
        return (const char *)node->data.scalar.value;
}

static size_t slen(const yaml_node_t *node)
{
        return node->data.scalar.length;
}

static yaml_node_t *node_at(loader_t *ld, yaml_node_item_t item)
{
        return yaml_document_get_node(ld->doc, item);
}

static size_t seq_len(const yaml_node_t *node)
{
        return (size_t)(node->data.sequence.items.top -
                        node->data.sequence.items.start);
}

static yaml_node_t *seq_item(loader_t *ld, const yaml_node_t *node, size_t i)
{
        return node_at(ld, node->data.sequence.items.start[i]);
}

static size_t map_len(const yaml_node_t *node)
{
        return (size_t)(node->data.mapping.pairs.top -
                        node->data.mapping.pairs.start);
}

static bool valid_topic_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               is_digit(c) || c == '.' || c == '_' || c == '-';
}

/* Kafka's rule: 1 to 249 of [A-Za-z0-9._-], and not "." or "..". */
static bool valid_topic_name(const char *s, size_t len)
{
        if (len > 249 || !all_in(s, len, valid_topic_char))
                return false;
        return !(len == 1 && s[0] == '.') &&
               !(len == 2 && s[0] == '.' && s[1] == '.');
}

bool ka_config_valid_topic(const char *name)
{
        return *name && valid_topic_name(name, strlen(name));
}

static bool valid_avro_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               is_digit(c) || c == '_';
}

/* [A-Za-z_][A-Za-z0-9_]* */
static bool valid_avro_name(const char *s, size_t len)
{
        return all_in(s, len, valid_avro_char) && !is_digit(s[0]);
}

static char *dup_scalar(loader_t *ld, const yaml_node_t *node)
{
        char *s = strndup(sval(node), slen(node));

        if (!s)
                fail(ld, node, "out of memory");
        return s;
}

/*
 * Copies a string node that must be a topic name (kind "topic" or
 * "source topic"); what names the key for type errors.
 */
static bool get_topic_name(loader_t *ld, const yaml_node_t *node,
                           const char *kind, char **out)
{
        char buf[72];

        if (vtype(node) != V_STR)
                return type_error(ld, node, "a string", "'name'");
        if (!valid_topic_name(sval(node), slen(node)))
                return fail(ld, node,
                            "invalid %s name '%s' (a Kafka topic name is 1 to "
                            "249 of [A-Za-z0-9._-], not '.' or '..')",
                            kind, shown(sval(node), slen(node), buf));
        *out = dup_scalar(ld, node);
        return *out != NULL;
}

/* Occurrences of KA_CONFIG_SOURCE_TOPIC_NAME in s[0 .. len). */
static size_t count_placeholders(const char *s, size_t len)
{
        const char *ph = KA_CONFIG_SOURCE_TOPIC_NAME;
        size_t n = 0, k = strlen(ph);

        for (size_t i = 0; i + k <= len; i++)
                if (memcmp(s + i, ph, k) == 0) {
                        n++;
                        i += k - 1;
                }
        return n;
}

/*
 * Copies the name of an aggregated topic: a topic name, or a template
 * holding `{source_topic_name}` whose other characters are valid in one
 * (its length is checked once expanded).
 */
static bool get_aggregated_name(loader_t *ld, const yaml_node_t *node,
                                char **out)
{
        const char *ph = KA_CONFIG_SOURCE_TOPIC_NAME;
        size_t k = strlen(ph), n = 0, len;
        char buf[72], *rest;
        bool ok;

        if (vtype(node) != V_STR)
                return type_error(ld, node, "a string", "'name'");
        if (!count_placeholders(sval(node), slen(node)))
                return get_topic_name(ld, node, "aggregated topic", out);
        /* The other characters, the placeholders taken out. */
        len = slen(node);
        if (!(rest = malloc(len + 1)))
                return fail(ld, node, "out of memory");
        for (size_t i = 0; i < len; i++) {
                if (i + k <= len && memcmp(sval(node) + i, ph, k) == 0) {
                        i += k - 1;
                        continue;
                }
                rest[n++] = sval(node)[i];
        }
        ok = n == 0 || all_in(rest, n, valid_topic_char);
        free(rest);
        if (!ok)
                return fail(ld, node,
                            "invalid aggregated topic name '%s' (besides "
                            "%s, a Kafka topic name is of [A-Za-z0-9._-])",
                            shown(sval(node), slen(node), buf), ph);
        *out = dup_scalar(ld, node);
        return *out != NULL;
}

/* Bounds of a topic pattern: glibc's regcomp() takes time and memory
 * exponential in repeated quantifiers and intervals (`a+++...`,
 * `((a*)*){25}`), and topic names need neither. */
#define REGEX_MAX_LEN         256
#define REGEX_MAX_QUANTIFIERS 16

/* NULL when the expression s[0..n) is within the bounds, else why not.
 * Control characters, which no topic name has, are refused too: the
 * expression then prints on one line in every message. */
static const char *regex_too_complex(const char *s, size_t n)
{
        size_t quantifiers = 0;
        bool after_quantifier = false;

        if (n > REGEX_MAX_LEN)
                return "longer than 256 characters";
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return "a control character";
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '\\' && i + 1 < n) {
                        if (s[++i] >= '0' && s[i] <= '9')
                                return "a back-reference";
                        after_quantifier = false;
                        continue;
                }
                if (c == '[') {
                        /* A bracket expression: `]` first is literal, and
                         * [:class:] holds a `]` of its own. */
                        size_t j = i + 1;

                        if (j < n && s[j] == '^')
                                j++;
                        if (j < n && s[j] == ']')
                                j++;
                        while (j < n && s[j] != ']') {
                                if (s[j] == '[' && j + 1 < n &&
                                    (s[j + 1] == ':' || s[j + 1] == '.' ||
                                     s[j + 1] == '=')) {
                                        const char *end = memchr(
                                                s + j + 2, s[j + 1], n - j - 2);

                                        j = end ? (size_t)(end - s) + 1 : n;
                                        continue;
                                }
                                j++;
                        }
                        i = j;
                        after_quantifier = false;
                        continue;
                }
                if (c == '{')
                        return "an interval {m,n} (write the repetitions out)";
                if (c == '*' || c == '+' || c == '?') {
                        if (after_quantifier)
                                return "a quantifier applied to a quantifier";
                        if (++quantifiers > REGEX_MAX_QUANTIFIERS)
                                return "more than 16 of *, + and ?";
                        after_quantifier = true;
                        continue;
                }
                after_quantifier = false;
        }
        return NULL;
}

/*
 * Compiles the POSIX extended regular expression of node, to match whole
 * topic names (as ^(EXPR)$); what names it in messages. Expressions beyond
 * the bounds of regex_too_complex() are refused first.
 */
static bool get_regex(loader_t *ld, const yaml_node_t *node, const char *what,
                      char **text, regex_t *re)
{
        char *anchored, msg[256], buf[72];
        const char *why;
        int rc;

        if (vtype(node) != V_STR)
                return type_error(ld, node, "a string", what);
        if (slen(node) == 0 || memchr(sval(node), '\0', slen(node)))
                return fail(ld, node, "%s must not be empty", what);
        if ((why = regex_too_complex(sval(node), slen(node))))
                return fail(ld, node,
                            "regular expression '%s' in %s is too complex "
                            "for a topic pattern: %s",
                            shown(sval(node), slen(node), buf), what, why);
        if (!(*text = dup_scalar(ld, node)))
                return false;
        if (asprintf(&anchored, "^(%s)$", *text) < 0)
                return fail(ld, node, "out of memory");
        rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
        free(anchored);
        if (rc) {
                regerror(rc, re, msg, sizeof(msg));
                return fail(ld, node,
                            "invalid regular expression '%s' in %s: %s "
                            "(POSIX extended syntax)",
                            shown(sval(node), slen(node), buf), what, msg);
        }
        return true;
}

/* Copies a string node that must be an Avro name, e.g. a field. */
static bool get_avro_name(loader_t *ld, const yaml_node_t *node,
                          const char *what, char **out)
{
        char buf[72];

        if (vtype(node) != V_STR)
                return type_error(ld, node, "a string", what);
        if (!valid_avro_name(sval(node), slen(node)))
                return fail(ld, node,
                            "invalid field name '%s' (an Avro name is "
                            "[A-Za-z_][A-Za-z0-9_]*)",
                            shown(sval(node), slen(node), buf));
        *out = dup_scalar(ld, node);
        return *out != NULL;
}

/*
 * Checks that node is a mapping whose keys all come from keys[nkeys], each
 * at most once, and stores the value of keys[i] in vals[i] (NULL when
 * absent). where names the mapping in messages.
 */
static bool get_mapping(loader_t *ld, const yaml_node_t *node,
                        const char *where, const char *const *keys,
                        size_t nkeys, yaml_node_t **vals)
{
        yaml_node_t *knodes[8] = {NULL};
        yaml_node_pair_t *pair;
        char buf[72];
        size_t i;

        assert(nkeys <= KA_ARRAY_SIZE(knodes));
        for (i = 0; i < nkeys; i++)
                vals[i] = NULL;
        for (pair = node->data.mapping.pairs.start;
             pair < node->data.mapping.pairs.top; pair++) {
                yaml_node_t *key = node_at(ld, pair->key);

                if (key->type != YAML_SCALAR_NODE)
                        return fail(ld, key, "expected a key in %s, got %s",
                                    where, vtype_name(vtype(key)));
                for (i = 0; i < nkeys; i++)
                        if (strlen(keys[i]) == slen(key) &&
                            memcmp(keys[i], sval(key), slen(key)) == 0)
                                break;
                if (i == nkeys)
                        return fail(ld, key, "unknown key '%s' in %s",
                                    shown(sval(key), slen(key), buf), where);
                if (knodes[i]) {
                        ka_config_pos_t first = pos_of(knodes[i]);
                        return fail(ld, key,
                                    "duplicate key '%s' in %s (first at "
                                    "%d:%d)",
                                    keys[i], where, first.line, first.col);
                }
                knodes[i] = key;
                vals[i] = node_at(ld, pair->value);
        }
        return true;
}

/* Parses a core-schema integer (decimal, 0o, 0x); false when out of range. */
static bool parse_int(const char *s, int64_t *out)
{
        long long v;
        char *end;
        int base = 10;

        if (s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
                base = s[1] == 'o' ? 8 : 16;
                s += 2;
        }
        errno = 0;
        v = strtoll(s, &end, base);
        if (errno == ERANGE)
                return false;
        *out = v;
        return true;
}

typedef enum dur_e {
        DUR_OK,
        DUR_FRACTION, /* not a whole number of milliseconds */
        DUR_RANGE,    /* magnitude beyond 10^18 ms, or not finite */
} dur_t;

/*
 * A decimal float (the syntax is_decimal_float() accepts) in exact
 * milliseconds. Decimal digits are handled as text, so 1.005 is 1005 ms
 * rather than whatever binary floating point makes of it.
 */
static dur_t decimal_to_ms(const char *s, int64_t *ms)
{
        const char *digits[2];
        size_t ndigits[2] = {0, 0}; /* integer part, fraction part */
        const char *d, *first = NULL, *last = NULL;
        long exp = 0, k, nsig = 0;
        bool neg = false;
        int64_t v = 0;

        if (*s == '-' || *s == '+')
                neg = *s++ == '-';
        digits[0] = s;
        while (is_digit(*s))
                s++, ndigits[0]++;
        digits[1] = s + (*s == '.');
        if (*s == '.')
                for (s++; is_digit(*s); s++)
                        ndigits[1]++;
        if (*s == 'e' || *s == 'E') {
                bool eneg = false;

                s++;
                if (*s == '-' || *s == '+')
                        eneg = *s++ == '-';
                /* Saturate: a billion-digit exponent is out of range anyway. */
                for (; is_digit(*s); s++)
                        if (exp < 1000000000L)
                                exp = exp * 10 + (*s - '0');
                if (eneg)
                        exp = -exp;
        }

        /*
         * value_ms = D * 10^k, D the significant digits of the mantissa
         * (integer then fraction part) from the first to the last non-zero
         * one, k the power of ten of D's last digit plus 3.
         */
        for (int part = 0; part < 2; part++)
                for (d = digits[part]; d < digits[part] + ndigits[part]; d++)
                        if (*d != '0') {
                                if (!first)
                                        first = d;
                                last = d;
                        }
        if (!first) {
                *ms = 0;
                return DUR_OK;
        }
        for (int part = 0; part < 2; part++)
                for (d = digits[part]; d < digits[part] + ndigits[part]; d++)
                        if (d >= first && d <= last)
                                nsig++;
        if (last < digits[0] + ndigits[0])
                k = (long)(digits[0] + ndigits[0] - 1 - last);
        else
                k = -(long)(last - digits[1] + 1);
        k += exp + 3;
        if (nsig + k > 18)
                return DUR_RANGE;
        if (k < 0)
                return DUR_FRACTION;
        for (int part = 0; part < 2; part++)
                for (d = digits[part]; d < digits[part] + ndigits[part]; d++)
                        if (d >= first && d <= last)
                                v = v * 10 + (*d - '0');
        for (; k > 0; k--)
                v *= 10;
        *ms = neg ? -v : v;
        return DUR_OK;
}

/*
 * A duration in seconds (plain integer or float) as milliseconds within
 * [min_ms, MAX_MS]; key names it and range describes the bounds.
 */
static bool get_duration(loader_t *ld, const yaml_node_t *node, const char *key,
                         int64_t min_ms, const char *range, int64_t *out)
{
        vtype_t type = vtype(node);
        char what[64];
        int64_t v;
        dur_t res;

        snprintf(what, sizeof(what), "'%s'", key);
        if (type == V_INT) {
                res = DUR_RANGE;
                if (parse_int(sval(node), &v) && v >= -MAX_MS && v <= MAX_MS) {
                        v *= 1000;
                        res = DUR_OK;
                }
        } else if (type == V_FLOAT) {
                res = DUR_RANGE;
                if (is_decimal_float(sval(node), slen(node)))
                        res = decimal_to_ms(sval(node), &v);
        } else {
                return type_error(ld, node, "a number", what);
        }
        if (res == DUR_OK && (v < min_ms || v > MAX_MS))
                res = DUR_RANGE;
        if (res == DUR_RANGE)
                return fail(ld, node,
                            "'%s' must be %s and at most %d (366 days)", key,
                            range, KA_CONFIG_MAX_SECONDS);
        if (res == DUR_FRACTION)
                return fail(ld, node,
                            "'%s' is not a whole number of milliseconds", key);
        *out = v;
        return true;
}

static bool parse_ops(loader_t *ld, const yaml_node_t *node,
                      ka_config_topic_t *topic)
{
        ka_config_pos_t seen[KA_OP__COUNT] = {{0, 0}};
        size_t i, n = seq_len(node);
        char buf[72];

        if (n == 0)
                return fail(ld, node, "'operations' must not be empty");
        free(topic->ops);
        topic->nops = 0;
        topic->ops = calloc(n, sizeof(*topic->ops));
        if (!topic->ops)
                return fail(ld, node, "out of memory");
        for (i = 0; i < n; i++) {
                yaml_node_t *item = seq_item(ld, node, i);
                int op;

                if (vtype(item) != V_STR)
                        return type_error(ld, item, "a string",
                                          "an item of 'operations'");
                for (op = 0; op < KA_OP__COUNT; op++) {
                        const char *name = ka_op_name((ka_op_t)op);
                        if (strlen(name) == slen(item) &&
                            memcmp(name, sval(item), slen(item)) == 0)
                                break;
                }
                if (op == KA_OP__COUNT)
                        return fail(ld, item,
                                    "unknown operation '%s' (expected min, "
                                    "q1, mean, median, stdev, q3, max or sum)",
                                    shown(sval(item), slen(item), buf));
                if (seen[op].line)
                        return fail(ld, item,
                                    "duplicate operation '%s' (first at %d:%d)",
                                    ka_op_name((ka_op_t)op), seen[op].line,
                                    seen[op].col);
                seen[op] = pos_of(item);
                topic->ops[topic->nops++] = (ka_op_t)op;
        }
        return true;
}

enum {
        W_SIZE,
        W_EXPIRATION,
        W_MIN_SAMPLE,
        W_OPERATIONS,
        W_IDLE,
        W_TIME_FIELD,
        W_GROUP_BY_KEY,
        W_MAX_FUTURE,
        W__COUNT
};

static bool parse_window(loader_t *ld, const yaml_node_t *node,
                         ka_config_topic_t *topic, bool *idle_given)
{
        static const char *const keys[W__COUNT] = {
                [W_SIZE] = "window_size_seconds",
                [W_EXPIRATION] = "window_expiration_seconds",
                [W_MIN_SAMPLE] = "min_sample_size",
                [W_OPERATIONS] = "operations",
                [W_IDLE] = "idle_timeout_seconds",
                [W_TIME_FIELD] = "time_field",
                [W_GROUP_BY_KEY] = "group_by_key",
                [W_MAX_FUTURE] = "max_future_seconds",
        };
        yaml_node_t *vals[W__COUNT], *v;
        int64_t n;

        if (!get_mapping(ld, node, "'window_aggregation'", keys, W__COUNT,
                         vals))
                return false;

        if ((v = vals[W_SIZE]) && vtype(v) != V_NULL &&
            !get_duration(ld, v, keys[W_SIZE], 1, "greater than 0",
                          &topic->window_ms))
                return false;
        if ((v = vals[W_EXPIRATION]) && vtype(v) != V_NULL &&
            !get_duration(ld, v, keys[W_EXPIRATION], 0, "at least 0",
                          &topic->expiration_ms))
                return false;
        if ((v = vals[W_MAX_FUTURE]) && vtype(v) != V_NULL &&
            !get_duration(ld, v, keys[W_MAX_FUTURE], 0, "at least 0",
                          &topic->max_future_ms))
                return false;
        if ((v = vals[W_IDLE]) && vtype(v) != V_NULL) {
                if (!get_duration(ld, v, keys[W_IDLE], 1, "greater than 0",
                                  &topic->idle_timeout_ms))
                        return false;
                *idle_given = true;
        }
        if ((v = vals[W_MIN_SAMPLE]) && vtype(v) != V_NULL) {
                if (vtype(v) != V_INT)
                        return type_error(ld, v, "an integer",
                                          "'min_sample_size'");
                if (!parse_int(sval(v), &n) || n < 1 || n > INT32_MAX)
                        return fail(ld, v,
                                    "'min_sample_size' must be between 1 and "
                                    "%d",
                                    INT32_MAX);
                topic->min_sample_size = (int32_t)n;
        }
        if ((v = vals[W_OPERATIONS]) && vtype(v) != V_NULL) {
                if (vtype(v) != V_SEQ)
                        return type_error(ld, v, "a sequence of operations",
                                          "'operations'");
                if (!parse_ops(ld, v, topic))
                        return false;
        }
        if ((v = vals[W_TIME_FIELD]) && vtype(v) != V_NULL) {
                if (!get_avro_name(ld, v, "'time_field'", &topic->time_field))
                        return false;
                topic->time_field_pos = pos_of(v);
        }
        if ((v = vals[W_GROUP_BY_KEY]) && vtype(v) != V_NULL) {
                if (vtype(v) != V_BOOL)
                        return type_error(ld, v, "true or false",
                                          "'group_by_key'");
                topic->group_by_key = sval(v)[0] == 't' || sval(v)[0] == 'T';
        }
        return true;
}

static bool parse_fields(loader_t *ld, const yaml_node_t *node,
                         ka_config_source_t *src)
{
        size_t i, j, n = seq_len(node);

        if (n == 0)
                return true; /* `fields: []` is the default (config.h) */
        src->fields = calloc(n, sizeof(*src->fields));
        src->field_pos = calloc(n, sizeof(*src->field_pos));
        if (!src->fields || !src->field_pos)
                return fail(ld, node, "out of memory");
        src->fields_given = true;
        for (i = 0; i < n; i++) {
                yaml_node_t *item = seq_item(ld, node, i);
                char *field;

                if (!get_avro_name(ld, item, "an item of 'fields'", &field))
                        return false;
                src->fields[src->nfields] = field;
                src->field_pos[src->nfields++] = pos_of(item);
                for (j = 0; j + 1 < src->nfields; j++)
                        if (strcmp(src->fields[j], field) == 0)
                                return fail(ld, item,
                                            "duplicate field '%s' (first at "
                                            "%d:%d)",
                                            field, src->field_pos[j].line,
                                            src->field_pos[j].col);
        }
        return true;
}

static bool parse_map(loader_t *ld, const yaml_node_t *node,
                      ka_config_source_t *src)
{
        size_t i, j, n = map_len(node);

        if (n == 0)
                return true;
        src->map_from = calloc(n, sizeof(*src->map_from));
        src->map_to = calloc(n, sizeof(*src->map_to));
        src->map_pos = calloc(n, sizeof(*src->map_pos));
        if (!src->map_from || !src->map_to || !src->map_pos)
                return fail(ld, node, "out of memory");
        for (i = 0; i < n; i++) {
                yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
                yaml_node_t *key = node_at(ld, pair->key);
                yaml_node_t *val = node_at(ld, pair->value);
                char *from, *to;

                if (!get_avro_name(ld, key, "a key of 'map'", &from))
                        return false;
                src->map_from[src->nmap] = from;
                src->map_pos[src->nmap++] = pos_of(key);
                for (j = 0; j + 1 < src->nmap; j++)
                        if (strcmp(src->map_from[j], from) == 0)
                                return fail(ld, key,
                                            "duplicate key '%s' in 'map' "
                                            "(first at %d:%d)",
                                            from, src->map_pos[j].line,
                                            src->map_pos[j].col);
                if (src->fields_given) {
                        for (j = 0; j < src->nfields; j++)
                                if (strcmp(src->fields[j], from) == 0)
                                        break;
                        if (j == src->nfields && src->name)
                                return fail(ld, key,
                                            "'map' key '%s' is not in "
                                            "'fields' of source topic '%s'",
                                            from, src->name);
                        if (j == src->nfields)
                                return fail(ld, key,
                                            "'map' key '%s' is not in "
                                            "'fields' of the pattern",
                                            from);
                }
                if (!get_avro_name(ld, val, "a value of 'map'", &to))
                        return false;
                src->map_to[src->nmap - 1] = to;
        }
        return true;
}

/* The exclude expressions of a pattern entry. */
static bool parse_exclude(loader_t *ld, const yaml_node_t *node,
                          ka_config_source_t *src)
{
        size_t n;

        if (vtype(node) != V_SEQ)
                return type_error(ld, node, "a sequence of regular expressions",
                                  "'exclude'");
        n = seq_len(node);
        src->exclude = calloc(n + 1, sizeof(*src->exclude));
        src->exclude_re = calloc(n + 1, sizeof(*src->exclude_re));
        src->exclude_pos = calloc(n + 1, sizeof(*src->exclude_pos));
        if (!src->exclude || !src->exclude_re || !src->exclude_pos)
                return fail(ld, node, "out of memory");
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *item = seq_item(ld, node, i);

                if (!get_regex(ld, item, "an item of 'exclude'",
                               &src->exclude[i], &src->exclude_re[i])) {
                        free(src->exclude[i]);
                        src->exclude[i] = NULL;
                        return false;
                }
                src->exclude_pos[i] = pos_of(item);
                src->nexclude++;
        }
        return true;
}

enum { S_NAME, S_REGEX, S_EXCLUDE, S_FIELDS, S_MAP, S__COUNT };

static bool parse_source(loader_t *ld, const yaml_node_t *node,
                         ka_config_source_t *src)
{
        static const char *const keys[S__COUNT] = {[S_NAME] = "name",
                                                   [S_REGEX] = "regex",
                                                   [S_EXCLUDE] = "exclude",
                                                   [S_FIELDS] = "fields",
                                                   [S_MAP] = "map"};
        yaml_node_t *vals[S__COUNT], *v;

        if (vtype(node) != V_MAP)
                return type_error(ld, node, "a mapping",
                                  "an item of 'source_topics'");
        if (!get_mapping(ld, node, "a source topic", keys, S__COUNT, vals))
                return false;
        if (vals[S_NAME] && vals[S_REGEX])
                return fail(ld, vals[S_REGEX],
                            "a source topic has 'name' or 'regex', not both");
        if (vals[S_EXCLUDE] && !vals[S_REGEX])
                return fail(ld, vals[S_EXCLUDE],
                            "'exclude' needs 'regex' in the same source "
                            "topic");
        if (vals[S_REGEX]) {
                src->regex_re = calloc(1, sizeof(*src->regex_re));
                if (!src->regex_re)
                        return fail(ld, node, "out of memory");
                if (!get_regex(ld, vals[S_REGEX], "'regex'", &src->regex,
                               src->regex_re)) {
                        free(src->regex_re);
                        src->regex_re = NULL;
                        return false;
                }
                src->pos = pos_of(vals[S_REGEX]);
                if ((v = vals[S_EXCLUDE]) && vtype(v) != V_NULL &&
                    !parse_exclude(ld, v, src))
                        return false;
        } else if (!vals[S_NAME]) {
                return fail(ld, node,
                            "missing key 'name' (or 'regex') in a source "
                            "topic");
        } else if (!get_topic_name(ld, vals[S_NAME], "source topic",
                                   &src->name)) {
                return false;
        } else {
                src->pos = pos_of(vals[S_NAME]);
        }
        if ((v = vals[S_FIELDS]) && vtype(v) != V_NULL) {
                if (vtype(v) != V_SEQ)
                        return type_error(ld, v, "a sequence of field names",
                                          "'fields'");
                if (!parse_fields(ld, v, src))
                        return false;
        }
        if ((v = vals[S_MAP]) && vtype(v) != V_NULL) {
                if (vtype(v) != V_MAP)
                        return type_error(ld, v, "a mapping of field renames",
                                          "'map'");
                if (!parse_map(ld, v, src))
                        return false;
        }
        return true;
}

/* A source topic in messages: its name, or "the pattern". */
static const char *label(const ka_config_source_t *src)
{
        return src->name ? src->name : "the pattern";
}

/*
 * Where the output name of src->fields[i] comes from: its `map` entry when
 * renamed, else its place in `fields`.
 */
static ka_config_pos_t out_pos(const ka_config_source_t *src, size_t i)
{
        size_t j;

        for (j = 0; j < src->nmap; j++)
                if (strcmp(src->map_from[j], src->fields[i]) == 0)
                        return src->map_pos[j];
        return src->field_pos[i];
}

/* An explicitly listed field of an aggregated topic, by output name. */
typedef struct out_s {
        const char *name;
        size_t seq; /* config order within the aggregated topic */
        const ka_config_source_t *src;
        size_t field;
} out_t;

static int out_cmp(const void *a, const void *b)
{
        const out_t *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        if (c)
                return c;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Output names of explicitly listed fields must be distinct within the
 * aggregated topic: `<op>_<name>` would otherwise repeat in the record.
 * Fields chosen by default are only known with the schema (the generator).
 * Sorting keeps this O(n log n) for topics listing thousands of fields; the
 * error names the earliest field whose name was already taken.
 */
static bool check_out_names(loader_t *ld, const ka_config_topic_t *topic,
                            const yaml_node_t *node)
{
        const out_t *dup = NULL, *first = NULL;
        size_t i, s, f, n = 0;
        ka_config_pos_t pos, first_pos;
        out_t *outs;

        for (s = 0; s < topic->nsources; s++)
                n += topic->sources[s].nfields;
        if (n < 2)
                return true;
        outs = calloc(n, sizeof(*outs));
        if (!outs)
                return fail(ld, node, "out of memory");
        n = 0;
        for (s = 0; s < topic->nsources; s++) {
                const ka_config_source_t *src = &topic->sources[s];

                for (f = 0; f < src->nfields; f++, n++) {
                        outs[n].name =
                                ka_config_source_out_name(src, src->fields[f]);
                        outs[n].seq = n;
                        outs[n].src = src;
                        outs[n].field = f;
                }
        }
        qsort(outs, n, sizeof(*outs), out_cmp);
        /* The second of each run of equal names is the one in the way. */
        for (i = 1; i < n; i++) {
                if (strcmp(outs[i].name, outs[i - 1].name) != 0 ||
                    (i >= 2 && strcmp(outs[i - 1].name, outs[i - 2].name) == 0))
                        continue;
                if (!dup || outs[i].seq < dup->seq) {
                        dup = &outs[i];
                        first = &outs[i - 1];
                }
        }
        if (dup) {
                pos = out_pos(dup->src, dup->field);
                first_pos = out_pos(first->src, first->field);
                fail_at(ld, pos,
                        "output name '%s' of field '%s' of '%s' is already "
                        "used by field '%s' of '%s' at %d:%d",
                        dup->name, dup->src->fields[dup->field],
                        label(dup->src), first->src->fields[first->field],
                        label(first->src), first_pos.line, first_pos.col);
        }
        free(outs);
        return dup == NULL;
}

static bool parse_sources(loader_t *ld, const yaml_node_t *node,
                          ka_config_topic_t *topic)
{
        size_t i, j, n;

        if (vtype(node) != V_SEQ)
                return type_error(ld, node, "a sequence of source topics",
                                  "'source_topics'");
        n = seq_len(node);
        if (n == 0)
                return fail(ld, node,
                            "'source_topics' of aggregated topic '%s' is "
                            "empty",
                            topic->name);
        topic->sources = calloc(n, sizeof(*topic->sources));
        if (!topic->sources)
                return fail(ld, node, "out of memory");
        for (i = 0; i < n; i++) {
                ka_config_source_t *src = &topic->sources[i];

                topic->nsources++;
                if (!parse_source(ld, seq_item(ld, node, i), src))
                        return false;
                if (src->regex) {
                        if (n > 1)
                                return fail_at(ld, src->pos,
                                               "a pattern must be the only "
                                               "source topic of its "
                                               "aggregated topic '%s'",
                                               topic->name);
                        topic->pattern = true;
                        continue;
                }
                if (strcmp(src->name, topic->name) == 0)
                        return fail_at(ld, src->pos,
                                       "aggregated topic '%s' cannot be its "
                                       "own source topic",
                                       topic->name);
                for (j = 0; j < i; j++)
                        if (strcmp(topic->sources[j].name, src->name) == 0)
                                return fail_at(
                                        ld, src->pos,
                                        "source topic '%s' is listed twice in "
                                        "aggregated topic '%s' (first at "
                                        "%d:%d)",
                                        src->name, topic->name,
                                        topic->sources[j].pos.line,
                                        topic->sources[j].pos.col);
        }
        if (topic->pattern &&
            !count_placeholders(topic->name, strlen(topic->name)))
                return fail_at(ld, topic->pos,
                               "aggregated topic '%s' has a pattern source: "
                               "its name must hold %s (one topic per match)",
                               topic->name, KA_CONFIG_SOURCE_TOPIC_NAME);
        if (!topic->pattern &&
            count_placeholders(topic->name, strlen(topic->name)))
                return fail_at(ld, topic->pos,
                               "%s in aggregated topic '%s' needs a pattern "
                               "source ('regex' instead of 'name')",
                               KA_CONFIG_SOURCE_TOPIC_NAME, topic->name);
        return check_out_names(ld, topic, node);
}

enum { T_NAME, T_WINDOW, T_FILTER, T__COUNT };

static bool parse_topic(loader_t *ld, const yaml_node_t *node,
                        ka_config_topic_t *topic)
{
        static const char *const keys[T__COUNT] = {
                [T_NAME] = "name",
                [T_WINDOW] = "window_aggregation",
                [T_FILTER] = "filter",
        };
        static const char *const filter_keys[1] = {"source_topics"};
        static const ka_op_t default_ops[] = {
                KA_OP_MIN,   KA_OP_Q1, KA_OP_MEAN, KA_OP_MEDIAN,
                KA_OP_STDEV, KA_OP_Q3, KA_OP_MAX};
        yaml_node_t *vals[T__COUNT], *sources, *v;
        bool idle_given = false;

        if (vtype(node) != V_MAP)
                return type_error(ld, node, "a mapping",
                                  "an item of 'aggregated_topics'");
        if (!get_mapping(ld, node, "an aggregated topic", keys, T__COUNT, vals))
                return false;
        if (!vals[T_NAME])
                return fail(ld, node,
                            "missing key 'name' in an aggregated topic");
        if (!get_aggregated_name(ld, vals[T_NAME], &topic->name))
                return false;
        topic->pos = pos_of(vals[T_NAME]);
        /* SPEC §8 names the aggregated record after the topic, every
         * character outside [A-Za-z0-9_] as '_'; that much of an Avro
         * name it is, but for a leading digit. */
        if (is_digit(topic->name[0])) {
                char *record = ka_names_record_name(topic->name);

                fail(ld, vals[T_NAME],
                     "aggregated topic '%s' would name its Avro record '%s', "
                     "and an Avro name cannot begin with a digit",
                     topic->name, record ? record : topic->name);
                free(record);
                return false;
        }

        topic->window_ms = 1000;
        topic->expiration_ms = 0;
        topic->min_sample_size = 2;
        topic->max_future_ms = KA_CONFIG_MAX_FUTURE_MS;
        topic->ops = malloc(sizeof(default_ops));
        if (!topic->ops)
                return fail(ld, node, "out of memory");
        memcpy(topic->ops, default_ops, sizeof(default_ops));
        topic->nops = KA_ARRAY_SIZE(default_ops);
        if ((v = vals[T_WINDOW]) && vtype(v) != V_NULL) {
                if (vtype(v) != V_MAP)
                        return type_error(ld, v, "a mapping",
                                          "'window_aggregation'");
                if (!parse_window(ld, v, topic, &idle_given))
                        return false;
        }
        if (!idle_given)
                topic->idle_timeout_ms =
                        topic->window_ms + topic->expiration_ms + 1000;

        if (!(v = vals[T_FILTER]))
                return fail(ld, node,
                            "missing key 'filter' in aggregated topic '%s'",
                            topic->name);
        if (vtype(v) != V_MAP)
                return type_error(ld, v, "a mapping", "'filter'");
        if (!get_mapping(ld, v, "'filter'", filter_keys, 1, &sources))
                return false;
        if (!sources)
                return fail(ld, v,
                            "missing key 'source_topics' in 'filter' of "
                            "aggregated topic '%s'",
                            topic->name);
        return parse_sources(ld, sources, topic);
}

static bool parse_root(loader_t *ld, const yaml_node_t *root, ka_config_t *cfg)
{
        static const char *const keys[1] = {"aggregated_topics"};
        yaml_node_t *topics;
        size_t i, j, n;

        if (vtype(root) != V_MAP)
                return type_error(ld, root, "a mapping", "the configuration");
        if (!get_mapping(ld, root, "the configuration", keys, 1, &topics))
                return false;
        if (!topics)
                return fail(ld, root, "missing key 'aggregated_topics'");
        if (vtype(topics) != V_SEQ)
                return type_error(ld, topics, "a sequence of aggregated topics",
                                  "'aggregated_topics'");
        n = seq_len(topics);
        if (n == 0)
                return true;
        cfg->topics = calloc(n, sizeof(*cfg->topics));
        if (!cfg->topics)
                return fail(ld, topics, "out of memory");
        for (i = 0; i < n; i++) {
                ka_config_topic_t *topic = &cfg->topics[cfg->ntopics];
                bool ok;

                cfg->ntopics++;
                ok = parse_topic(ld, seq_item(ld, topics, i), topic);
                /* Templates may share a name (their regexes may not
                 * overlap): their expansions are checked. */
                for (j = 0; ok && !topic->pattern && j + 1 < cfg->ntopics; j++)
                        if (strcmp(cfg->topics[j].name, topic->name) == 0)
                                ok = fail_at(ld, topic->pos,
                                             "duplicate aggregated topic "
                                             "'%s' (first "
                                             "at %d:%d)",
                                             topic->name,
                                             cfg->topics[j].pos.line,
                                             cfg->topics[j].pos.col);
                if (!ok && !ld->errors)
                        return false;
                if (!ok) {
                        /* Reported; the other topics are still checked. */
                        ka_config_errors_add(ld->errors, KA_ERR_INVALID,
                                             ld->errstr);
                        topic_release(topic);
                        memset(topic, 0, sizeof(*topic));
                        cfg->ntopics--;
                        continue;
                }
                cfg->npatterns += topic->pattern;
        }
        return true;
}

/* Only the default tags: a config has no use for others. */
static bool check_tags(loader_t *ld)
{
        yaml_node_t *node;
        char buf[72];

        for (node = ld->doc->nodes.start; node < ld->doc->nodes.top; node++) {
                const char *tag = (const char *)node->tag;
                const char *want = node->type == YAML_SCALAR_NODE
                                           ? YAML_DEFAULT_SCALAR_TAG
                                   : node->type == YAML_SEQUENCE_NODE
                                           ? YAML_DEFAULT_SEQUENCE_TAG
                                           : YAML_DEFAULT_MAPPING_TAG;

                if (tag && strcmp(tag, want) != 0)
                        return fail(ld, node, "unsupported tag '%s'",
                                    shown(tag, strlen(tag), buf));
        }
        return true;
}

/* Where a reader error's byte offset falls, as a position. */
static ka_config_pos_t pos_of_offset(const char *buf, size_t len, size_t offset)
{
        ka_config_pos_t pos = {1, 1};
        size_t i;

        for (i = 0; i < offset && i < len; i++) {
                if (buf[i] == '\n') {
                        pos.line++;
                        pos.col = 1;
                } else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
                        pos.col++;
                }
        }
        return pos;
}

static bool yaml_error(loader_t *ld, const yaml_parser_t *parser,
                       const char *buf, size_t len)
{
        ka_config_pos_t ctx;

        switch (parser->error) {
        case YAML_MEMORY_ERROR:
                return fail_at(ld, (ka_config_pos_t){0, 0}, "out of memory");
        case YAML_READER_ERROR:
                if (parser->problem_value != -1)
                        return fail_at(
                                ld,
                                pos_of_offset(buf, len, parser->problem_offset),
                                "invalid YAML: %s (byte 0x%02x)",
                                parser->problem,
                                (unsigned)parser->problem_value);
                return fail_at(ld,
                               pos_of_offset(buf, len, parser->problem_offset),
                               "invalid YAML: %s", parser->problem);
        default:
                break;
        }
        if (!parser->problem)
                return fail_at(ld, (ka_config_pos_t){0, 0}, "invalid YAML");
        if (!parser->context)
                return fail_at(ld, pos_of_mark(parser->problem_mark),
                               "invalid YAML: %s", parser->problem);
        ctx = pos_of_mark(parser->context_mark);
        return fail_at(ld, pos_of_mark(parser->problem_mark),
                       "invalid YAML: %s %s at %d:%d", parser->problem,
                       parser->context, ctx.line, ctx.col);
}

/* The whole file in a malloc'd buffer, or NULL with errno set. */
static char *read_file(const char *path, size_t *len)
{
        size_t cap = 4096, n = 0;
        char *buf = NULL, *tmp;
        FILE *fp;
        int err = 0;

        fp = fopen(path, "rb");
        if (!fp)
                return NULL;
        for (;;) {
                if (n == cap || !buf) {
                        if (buf)
                                cap *= 2;
                        if (cap > MAX_FILE_SIZE) {
                                err = EFBIG;
                                break;
                        }
                        tmp = realloc(buf, cap);
                        if (!tmp) {
                                err = ENOMEM;
                                break;
                        }
                        buf = tmp;
                }
                n += fread(buf + n, 1, cap - n, fp);
                if (ferror(fp)) {
                        err = errno ? errno : EIO;
                        break;
                }
                if (feof(fp))
                        break;
        }
        fclose(fp);
        if (err) {
                free(buf);
                errno = err;
                return NULL;
        }
        *len = n;
        return buf;
}

static ka_config_t *load_text(const char *path, const char *buf, size_t len,
                              ka_config_errors_t *errors, char *errstr,
                              size_t errstr_size);

ka_config_t *ka_config_load(const char *path, char *errstr, size_t errstr_size)
{
        return ka_config_load_each(path, NULL, errstr, errstr_size);
}

ka_config_t *ka_config_load_each(const char *path, ka_config_errors_t *errors,
                                 char *errstr, size_t errstr_size)
{
        loader_t ld = {path, NULL, errstr, errstr_size, errors};
        ka_config_t *cfg;
        size_t len = 0;
        char *buf;

        buf = read_file(path, &len);
        if (!buf) {
                fail_at(&ld, (ka_config_pos_t){0, 0},
                        "cannot read the file: %s", strerror(errno));
                return NULL;
        }
        cfg = load_text(path, buf, len, errors, errstr, errstr_size);
        free(buf);
        return cfg;
}

ka_config_t *ka_config_load_buffer(const char *path, const char *buf,
                                   size_t len, char *errstr, size_t errstr_size)
{
        return load_text(path, buf, len, NULL, errstr, errstr_size);
}

static ka_config_t *load_text(const char *path, const char *buf, size_t len,
                              ka_config_errors_t *errors, char *errstr,
                              size_t errstr_size)
{
        loader_t ld = {path, NULL, errstr, errstr_size, errors};
        yaml_document_t doc, extra;
        bool have_doc = false, ok = false;
        yaml_parser_t parser;
        ka_config_t *cfg;
        yaml_node_t *root;

        cfg = calloc(1, sizeof(*cfg));
        if (!cfg || !(cfg->path = strdup(path))) {
                fail_at(&ld, (ka_config_pos_t){0, 0}, "out of memory");
                free(cfg);
                return NULL;
        }
        if (!yaml_parser_initialize(&parser)) {
                fail_at(&ld, (ka_config_pos_t){0, 0}, "out of memory");
                goto out_cfg;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        if (!yaml_parser_load(&parser, &doc)) {
                yaml_error(&ld, &parser, buf, len);
                goto out;
        }
        have_doc = true;
        ld.doc = &doc;
        root = yaml_document_get_root_node(&doc);
        if (!root) {
                fail_at(&ld, (ka_config_pos_t){1, 1},
                        "empty configuration (expected a mapping with "
                        "'aggregated_topics')");
                goto out;
        }
        /* A second document would be silently ignored: refuse it. */
        if (!yaml_parser_load(&parser, &extra)) {
                yaml_error(&ld, &parser, buf, len);
                goto out;
        }
        if (yaml_document_get_root_node(&extra)) {
                fail_at(&ld, pos_of_mark(extra.start_mark),
                        "more than one YAML document");
                yaml_document_delete(&extra);
                goto out;
        }
        yaml_document_delete(&extra);
        ok = check_tags(&ld) && parse_root(&ld, root, cfg);
out:
        if (have_doc)
                yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
out_cfg:
        if (!ok) {
                ka_config_destroy(cfg);
                return NULL;
        }
        return cfg;
}

static void source_release(ka_config_source_t *src)
{
        size_t i;

        free(src->name);
        free(src->regex);
        if (src->regex_re)
                regfree(src->regex_re);
        free(src->regex_re);
        for (i = 0; i < src->nexclude; i++) {
                free(src->exclude[i]);
                regfree(&src->exclude_re[i]);
        }
        free(src->exclude);
        free(src->exclude_re);
        free(src->exclude_pos);
        for (i = 0; i < src->nfields; i++)
                free(src->fields[i]);
        free(src->fields);
        free(src->field_pos);
        for (i = 0; i < src->nmap; i++) {
                free(src->map_from[i]);
                free(src->map_to[i]);
        }
        free(src->map_from);
        free(src->map_to);
        free(src->map_pos);
}

void ka_config_destroy(ka_config_t *cfg)
{
        size_t i;

        if (!cfg)
                return;
        for (i = 0; i < cfg->ntopics; i++)
                topic_release(&cfg->topics[i]);
        free(cfg->topics);
        free(cfg->path);
        free(cfg);
}

const char *ka_config_source_out_name(const ka_config_source_t *src,
                                      const char *field)
{
        size_t i;

        for (i = 0; i < src->nmap; i++)
                if (strcmp(src->map_from[i], field) == 0)
                        return src->map_to[i];
        return field;
}

/* ---- topic patterns ---------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool sorted_has(const char *const *v, size_t n, const char *s)
{
        return n && bsearch(&s, v, n, sizeof(*v), cmp_str) != NULL;
}

static bool matches(const regex_t *re, const char *topic)
{
        return regexec(re, topic, 0, NULL, 0) == 0;
}

/* The template's name with every placeholder replaced by topic. */
static char *expand_name(const char *tmpl, const char *topic)
{
        const char *ph = KA_CONFIG_SOURCE_TOPIC_NAME;
        size_t k = strlen(ph), len = 0, cap = strlen(tmpl) + 1;
        char *out;

        cap += count_placeholders(tmpl, strlen(tmpl)) * strlen(topic);
        if (!(out = malloc(cap)))
                return NULL;
        for (const char *p = tmpl; *p;) {
                if (strncmp(p, ph, k) == 0) {
                        memcpy(out + len, topic, strlen(topic));
                        len += strlen(topic);
                        p += k;
                } else {
                        out[len++] = *p++;
                }
        }
        out[len] = '\0';
        return out;
}

static char **dup_strings(char *const *v, size_t n, bool *ok)
{
        char **out = calloc(n + 1, sizeof(*out));

        if (!out) {
                *ok = false;
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                if (!(out[i] = strdup(v[i])))
                        *ok = false;
        return out;
}

static ka_config_pos_t *dup_pos(const ka_config_pos_t *v, size_t n, bool *ok)
{
        ka_config_pos_t *out = calloc(n + 1, sizeof(*out));

        if (!out)
                *ok = false;
        else if (n)
                memcpy(out, v, n * sizeof(*v));
        return out;
}

/* A topic made by a template for one matching source topic (name and
 * source name taken over). false when out of memory; to is then safe to
 * release. */
static bool copy_template(const ka_config_topic_t *tmpl, size_t index,
                          char *name, char *source, ka_config_topic_t *to)
{
        const ka_config_source_t *from = &tmpl->sources[0];
        ka_config_source_t *src;
        bool ok = true;

        memset(to, 0, sizeof(*to));
        to->name = name;
        to->pos = tmpl->pos;
        to->window_ms = tmpl->window_ms;
        to->expiration_ms = tmpl->expiration_ms;
        to->idle_timeout_ms = tmpl->idle_timeout_ms;
        to->max_future_ms = tmpl->max_future_ms;
        to->min_sample_size = tmpl->min_sample_size;
        to->group_by_key = tmpl->group_by_key;
        to->time_field_pos = tmpl->time_field_pos;
        to->from_pattern = true;
        to->template_index = index;
        to->ops = calloc(tmpl->nops, sizeof(*to->ops));
        to->sources = calloc(1, sizeof(*to->sources));
        if (!to->ops || !to->sources) {
                free(source);
                return false;
        }
        memcpy(to->ops, tmpl->ops, tmpl->nops * sizeof(*to->ops));
        to->nops = tmpl->nops;
        if (tmpl->time_field && !(to->time_field = strdup(tmpl->time_field)))
                ok = false;
        to->nsources = 1;
        src = &to->sources[0];
        src->name = source;
        src->pos = from->pos;
        src->fields_given = from->fields_given;
        src->fields = dup_strings(from->fields, from->nfields, &ok);
        src->field_pos = dup_pos(from->field_pos, from->nfields, &ok);
        src->nfields = from->nfields;
        src->map_from = dup_strings(from->map_from, from->nmap, &ok);
        src->map_to = dup_strings(from->map_to, from->nmap, &ok);
        src->map_pos = dup_pos(from->map_pos, from->nmap, &ok);
        src->nmap = from->nmap;
        return ok;
}

static void topic_release(ka_config_topic_t *topic)
{
        for (size_t j = 0; j < topic->nsources; j++)
                source_release(&topic->sources[j]);
        free(topic->sources);
        free(topic->name);
        free(topic->ops);
        free(topic->time_field);
}

/* What one template matched. */
typedef struct match_s {
        const char **topics; /* sorted, after excludes and skips */
        size_t n;
        size_t excluded, skipped;
} match_t;

/* An aggregated topic of the expanded config, for the duplicate check. */
typedef struct named_s {
        const char *name;
        size_t topic; /* index in the expanded config */
} named_t;

static int cmp_named(const void *a, const void *b)
{
        const named_t *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        return c ? c : (x->topic > y->topic) - (x->topic < y->topic);
}

/* Whether name, made by template tmpl for source topic source, is an
 * aggregated topic name as one written out would be (parse_topic); else
 * the diagnostic in errstr. */
static bool expanded_name_ok(const ka_config_t *cfg,
                             const ka_config_topic_t *tmpl, const char *name,
                             const char *source, char *errstr,
                             size_t errstr_size)
{
        char *record;

        if (!valid_topic_name(name, strlen(name))) {
                ka_config_errorf(cfg, tmpl->pos, errstr, errstr_size,
                                 "aggregated topic name '%.300s' for '%s' is "
                                 "longer than 249 characters",
                                 name, source);
                return false;
        }
        if (!is_digit(name[0]))
                return true;
        record = ka_names_record_name(name);
        ka_config_errorf(cfg, tmpl->pos, errstr, errstr_size,
                         "aggregated topic '%s' for '%s' would name its Avro "
                         "record '%s', and an Avro name cannot begin with a "
                         "digit",
                         name, source, record ? record : name);
        free(record);
        return false;
}

ka_err_t ka_config_expand(ka_config_t *cfg, const char *const *topics,
                          size_t ntopics, const char *where, FILE *report,
                          ka_config_errors_t *errors, char *errstr,
                          size_t errstr_size)
{
        const char **sorted = NULL, **outputs = NULL;
        char **expanded = NULL; /* the names templates make, owned */
        size_t nexpanded = 0;
        match_t *m = NULL;
        ka_config_topic_t *out = NULL;
        named_t *named = NULL;
        bool *dropped = NULL; /* per topic of out, with errors */
        size_t nsorted = 0, noutputs = 0, nout = 0, cap = 0, t, i;
        size_t nold = cfg->ntopics; /* m[] is per topic of the template */
        ka_err_t err = KA_ERR_NOMEM;

        if (!cfg->npatterns)
                return KA_OK;
        sorted = calloc(ntopics + 1, sizeof(*sorted));
        m = calloc(cfg->ntopics, sizeof(*m));
        if (!sorted || !m)
                goto nomem;
        memcpy(sorted, topics, ntopics * sizeof(*sorted));
        qsort(sorted, ntopics, sizeof(*sorted), cmp_str);
        for (i = 0; i < ntopics; i++)
                if (!nsorted || strcmp(sorted[nsorted - 1], sorted[i]))
                        sorted[nsorted++] = sorted[i];

        /* What each template matches, and every aggregated topic name the
         * config would write to with those matches. */
        cap = cfg->ntopics;
        for (t = 0; t < cfg->ntopics; t++) {
                const ka_config_source_t *src = &cfg->topics[t].sources[0];

                if (!cfg->topics[t].pattern)
                        continue;
                if (!(m[t].topics = calloc(nsorted + 1, sizeof(char *))))
                        goto nomem;
                for (i = 0; i < nsorted; i++) {
                        bool out_ = false;

                        if (!matches(src->regex_re, sorted[i]))
                                continue;
                        for (size_t e = 0; e < src->nexclude && !out_; e++)
                                out_ = matches(&src->exclude_re[e], sorted[i]);
                        if (out_)
                                m[t].excluded++;
                        else
                                m[t].topics[m[t].n++] = sorted[i];
                }
                cap += m[t].n;
        }
        if (!(outputs = calloc(cap + 1, sizeof(*outputs))) ||
            !(expanded = calloc(cap + 1, sizeof(*expanded))))
                goto nomem;
        for (t = 0; t < cfg->ntopics; t++) {
                if (!cfg->topics[t].pattern) {
                        outputs[noutputs++] = cfg->topics[t].name;
                        continue;
                }
                for (i = 0; i < m[t].n; i++) {
                        if (!(expanded[nexpanded] = expand_name(
                                      cfg->topics[t].name, m[t].topics[i])))
                                goto nomem;
                        outputs[noutputs++] = expanded[nexpanded++];
                }
        }
        qsort(outputs, noutputs, sizeof(*outputs), cmp_str);

        /* A topic this config writes to is no pattern's source. */
        for (t = 0; t < cfg->ntopics; t++) {
                const ka_config_topic_t *tmpl = &cfg->topics[t];
                size_t keep = 0;

                if (!tmpl->pattern)
                        continue;
                for (i = 0; i < m[t].n; i++) {
                        if (sorted_has(outputs, noutputs, m[t].topics[i]))
                                m[t].skipped++;
                        else
                                m[t].topics[keep++] = m[t].topics[i];
                }
                m[t].n = keep;
                if (keep == 0) {
                        ka_config_errorf(
                                cfg, tmpl->sources[0].pos, errstr, errstr_size,
                                "regex '%s' matches no topic among the %zu "
                                "of %s%s",
                                tmpl->sources[0].regex, nsorted, where,
                                m[t].excluded || m[t].skipped
                                        ? " once excluded topics and "
                                          "aggregated topics of this config "
                                          "are left out"
                                        : "");
                        err = KA_ERR_INVALID;
                        if (!errors)
                                goto out;
                        /* Reported; the template makes no topic. */
                        ka_config_errors_add(errors, err, errstr);
                }
        }

        /* The expanded config. */
        cap = 0;
        for (t = 0; t < cfg->ntopics; t++)
                cap += cfg->topics[t].pattern ? m[t].n : 1;
        if (!(out = calloc(cap + 1, sizeof(*out))) ||
            !(named = calloc(cap + 1, sizeof(*named))) ||
            !(dropped = calloc(cap + 1, sizeof(*dropped))))
                goto nomem;
        for (t = 0; t < cfg->ntopics; t++) {
                const ka_config_topic_t *tmpl = &cfg->topics[t];

                if (!tmpl->pattern) {
                        out[nout++] = *tmpl; /* moved below, on success */
                        continue;
                }
                for (i = 0; i < m[t].n; i++) {
                        char *name = expand_name(tmpl->name, m[t].topics[i]);
                        char *source = strdup(m[t].topics[i]);

                        if (!name || !source) {
                                free(name);
                                free(source);
                                goto nomem;
                        }
                        if (!expanded_name_ok(cfg, tmpl, name, source, errstr,
                                              errstr_size)) {
                                free(name);
                                free(source);
                                err = KA_ERR_INVALID;
                                if (!errors)
                                        goto out;
                                ka_config_errors_add(errors, err, errstr);
                                continue;
                        }
                        if (!copy_template(tmpl, t, name, source, &out[nout++]))
                                goto nomem;
                }
        }
        for (i = 0; i < nout; i++)
                named[i] = (named_t){out[i].name, i};
        qsort(named, nout, sizeof(*named), cmp_named);
        for (i = 1; i < nout; i++) {
                const ka_config_topic_t *a = &out[named[i - 1].topic];
                const ka_config_topic_t *b = &out[named[i].topic];

                if (strcmp(a->name, b->name))
                        continue;
                ka_config_errorf(cfg, b->pos, errstr, errstr_size,
                                 "aggregated topic '%s' (from source topic "
                                 "'%s') is also made at %d:%d (from source "
                                 "topic '%s')",
                                 b->name, b->sources[0].name, a->pos.line,
                                 a->pos.col, a->sources[0].name);
                err = KA_ERR_INVALID;
                if (!errors)
                        goto out;
                ka_config_errors_add(errors, err, errstr);
                /* The first of the name stays; named[] keeps sorting the
                 * others after it. */
                dropped[named[i].topic] = true;
                named[i].topic = named[i - 1].topic;
        }
        /* Only with errors: what was reported goes. */
        for (i = 0, t = 0; i < nout; i++) {
                if (dropped[i])
                        topic_release(&out[i]);
                else
                        out[t++] = out[i];
        }
        nout = t;

        for (t = 0; report && t < cfg->ntopics; t++) {
                const ka_config_topic_t *tmpl = &cfg->topics[t];

                if (!tmpl->pattern)
                        continue;
                fprintf(report,
                        "%s:%d:%d: regex '%s' matched %zu of %zu topics "
                        "(%zu excluded, %zu aggregated topics of this config "
                        "skipped)\n",
                        cfg->path, tmpl->sources[0].pos.line,
                        tmpl->sources[0].pos.col, tmpl->sources[0].regex,
                        m[t].n, nsorted, m[t].excluded, m[t].skipped);
                for (i = 0; i < nout; i++)
                        if (out[i].from_pattern && out[i].template_index == t)
                                fprintf(report, "  %s -> %s\n",
                                        out[i].sources[0].name, out[i].name);
        }

        /* Success: the templates go, the named topics move. */
        for (t = 0; t < cfg->ntopics; t++)
                if (cfg->topics[t].pattern)
                        topic_release(&cfg->topics[t]);
        free(cfg->topics);
        cfg->topics = out;
        cfg->ntopics = nout;
        cfg->npatterns = 0;
        out = NULL;
        err = KA_OK;
        goto out;

nomem:
        ka_config_errorf(cfg, (ka_config_pos_t){0, 0}, errstr, errstr_size,
                         "out of memory");
        err = KA_ERR_NOMEM;
out:
        for (i = 0; out && i < nout; i++)
                if (out[i].from_pattern)
                        topic_release(&out[i]);
        free(out);
        free(named);
        free(dropped);
        for (i = 0; i < nexpanded; i++)
                free(expanded[i]);
        free(expanded);
        free(outputs);
        for (t = 0; m && t < nold; t++)
                free(m[t].topics);
        free(m);
        free(sorted);
        return err;
}
