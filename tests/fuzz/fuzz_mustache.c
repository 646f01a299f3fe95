/*
 * The generator's Mustache engine: a template from the fuzz bytes (up to
 * the first NUL), then optionally a context and partials as JSON texts
 * (each up to the next NUL); without them, or when they do not parse, a
 * fixed context and partials that exercise every kind of tag. Rendered
 * with and without HTML escaping. Invariant: a failure always says why.
 */
#include "fuzz.h"

#include "mustache.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char default_ctx[] =
        "{\"a\":\"x\",\"n\":null,\"t\":true,\"f\":false,\"zero\":0,"
        "\"r\":1.5,\"s\":\"<&\\\">'\",\"e\":[],\"o\":{\"p\":{\"q\":\"deep\"}},"
        "\"list\":[{\"b\":1},{\"b\":2,\"c\":[3,4]}],\"text\":\"l1\\nl2\\n\"}";
static const char default_partials[] =
        "{\"p\":\"{{a}}\\n\",\"self\":\"{{>self}}\",\"l\":\"  {{#list}}{{b}}"
        "{{/list}}\\n\",\"bad\":\"{{#x}}\",\"num\":3}";

/* The next NUL-terminated piece of [*p, end), as a new string. */
static char *piece(const uint8_t **p, const uint8_t *end)
{
        const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
        size_t len = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
        char *s = (char *)fuzz_copy(*p, len, true);

        *p += len + (nul != NULL);
        return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *p = data, *end = data + size;
        char *text = piece(&p, end), *ctx_text = NULL, *par_text = NULL;
        json_t *ctx = NULL, *partials = NULL;
        char errstr[512], *out;
        ka_mustache_t *tpl;

        if (p < end)
                ctx_text = piece(&p, end);
        if (p < end)
                par_text = piece(&p, end);
        if (ctx_text)
                ctx = json_loads(ctx_text, JSON_DECODE_ANY, NULL);
        if (!ctx)
                ctx = json_loads(default_ctx, 0, NULL);
        if (par_text)
                partials = json_loads(par_text, JSON_DECODE_ANY, NULL);
        if (!partials)
                partials = json_loads(default_partials, 0, NULL);
        if (!ctx || !partials)
                abort();

        errstr[0] = '\0';
        tpl = ka_mustache_parse("fuzz", text, errstr, sizeof(errstr));
        if (!tpl && !*errstr)
                abort();
        for (unsigned flags = 0; tpl && flags < 2; flags++) {
                errstr[0] = '\0';
                out = ka_mustache_render(tpl, ctx, partials,
                                         flags ? KA_MUSTACHE_ESCAPE_HTML : 0,
                                         errstr, sizeof(errstr));
                if (!out && !*errstr)
                        abort();
                free(out);
        }
        ka_mustache_destroy(tpl);
        json_decref(ctx);
        json_decref(partials);
        free(text);
        free(ctx_text);
        free(par_text);
        return 0;
}
