/*
 * Windows with group_by_key keys from the fuzz bytes (the producers of a
 * source topic choose them): a window configuration, then a script of
 * adds (partition, offset, event time, key or the null key, values and
 * arrays), idleness reports and closes. A model of its own checks every
 * closed window: it holds exactly the messages added to its (start, key),
 * with their values and array elements (NaN where a message's array is
 * shorter than the longest) in arrival order and their lowest offsets,
 * closes come in (start, key) order, and every message added is closed
 * once by the end.
 */
#include "fuzz.h"

#include "row.h"
#include "window.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MSGS   512
#define MAX_KEY    24
#define MAX_FIELDS 3
#define MAX_ARRAYS 2
#define MAX_ELEMS  3
#define MAX_PARTS  4

typedef struct msg_s {
        int64_t start;
        size_t part;
        int64_t offset;
        bool null_key, closed;
        size_t keylen;
        uint8_t key[MAX_KEY];
        double row[MAX_FIELDS];
        size_t alen[MAX_ARRAYS];
        double arr[MAX_ARRAYS][MAX_ELEMS];
} msg_t;

typedef struct model_s {
        ka_window_config_t cfg;
        size_t npart;
        msg_t msgs[MAX_MSGS];
        size_t n;
        /* the last window closed by the current close call */
        bool have_last;
        int64_t last_start;
        bool last_null;
        size_t last_len;
        uint8_t last_key[MAX_KEY];
} model_t;

static int64_t floor_start(int64_t t, int64_t size)
{
        int64_t r = t % size;

        return r < 0 ? t - r - size : t - r;
}

static bool same_bits(double a, double b)
{
        return memcmp(&a, &b, sizeof(a)) == 0;
}

/* (start, key) order of ka_windows_close(): null key first, then bytes,
 * a prefix first. */
static int order(int64_t s1, bool n1, const uint8_t *k1, size_t l1, int64_t s2,
                 bool n2, const uint8_t *k2, size_t l2)
{
        size_t n = l1 < l2 ? l1 : l2;
        int c;

        if (s1 != s2)
                return s1 < s2 ? -1 : 1;
        if (n1 || n2)
                return (int)n2 - (int)n1;
        c = n ? memcmp(k1, k2, n) : 0;
        if (c)
                return c;
        return (l1 > l2) - (l1 < l2);
}

static void on_close(const ka_window_t *win, void *opaque)
{
        model_t *m = opaque;
        int64_t start = ka_window_start_ms(win);
        size_t keylen, count = ka_window_count(win), seen = 0;
        const uint8_t *key = ka_window_key(win, &keylen);
        bool null_key = key == NULL;
        int64_t low[MAX_PARTS];
        size_t alen[MAX_ARRAYS] = {0};

        if (!m->cfg.group_by_key && !null_key)
                abort();
        if (ka_window_end_ms(win) != start + m->cfg.size_ms || keylen > MAX_KEY)
                abort();
        if (m->have_last &&
            order(m->last_start, m->last_null, m->last_key, m->last_len, start,
                  null_key, key, keylen) >= 0) {
                fprintf(stderr, "windows closed out of order\n");
                abort();
        }
        m->have_last = true;
        m->last_start = start;
        m->last_null = null_key;
        m->last_len = keylen;
        if (keylen)
                memcpy(m->last_key, key, keylen);
        for (size_t p = 0; p < m->npart; p++)
                low[p] = -1;
        for (size_t i = 0; i < m->n; i++) {
                msg_t *msg = &m->msgs[i];

                if (msg->closed || msg->start != start ||
                    msg->null_key != null_key || msg->keylen != keylen ||
                    (keylen && memcmp(msg->key, key, keylen)))
                        continue;
                for (size_t f = 0; f < m->cfg.nfields; f++) {
                        size_t n;
                        const double *col = ka_window_column(win, f, &n);

                        if (n != count || seen >= n ||
                            !same_bits(col[seen], msg->row[f])) {
                                fprintf(stderr, "field %zu value %zu\n", f,
                                        seen);
                                abort();
                        }
                }
                for (size_t a = 0; a < m->cfg.narrays; a++) {
                        for (size_t e = 0; e < MAX_ELEMS; e++) {
                                size_t len;
                                const double *col =
                                        ka_window_array_column(win, a, e, &len);

                                if (e >= ka_window_array_len(win, a))
                                        break;
                                if (!col || len != count ||
                                    !same_bits(col[seen],
                                               e < msg->alen[a] ? msg->arr[a][e]
                                                                : NAN)) {
                                        fprintf(stderr, "array %zu[%zu]\n", a,
                                                e);
                                        abort();
                                }
                        }
                        if (msg->alen[a] > alen[a])
                                alen[a] = msg->alen[a];
                }
                if (low[msg->part] < 0 || msg->offset < low[msg->part])
                        low[msg->part] = msg->offset;
                msg->closed = true;
                seen++;
        }
        if (seen != count) {
                fprintf(stderr, "window of %zu messages, %zu added\n", count,
                        seen);
                abort();
        }
        for (size_t p = 0; p < m->npart; p++)
                if (ka_window_low_offset(win, p) != low[p])
                        abort();
        for (size_t a = 0; a < m->cfg.narrays; a++)
                if (ka_window_array_len(win, a) != alen[a])
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_in_t in = {data, data + size};
        model_t *m = calloc(1, sizeof(*m));
        ka_windows_t *w;
        int64_t now = 0;
        ka_row_t row;

        if (!m || !ka_row_init(&row, MAX_FIELDS, MAX_ARRAYS))
                abort();
        m->cfg.size_ms = 1 + fuzz_u16(&in) % 5000;
        m->cfg.expiration_ms = fuzz_u8(&in) % 4 ? 0 : fuzz_u16(&in);
        m->cfg.idle_timeout_ms = fuzz_u8(&in) % 2 ? -1 : fuzz_u16(&in);
        m->cfg.group_by_key = fuzz_u8(&in) % 4 != 0;
        m->cfg.nfields = fuzz_below(&in, MAX_FIELDS + 1);
        m->cfg.narrays = fuzz_below(&in, MAX_ARRAYS + 1);
        m->npart = 1 + fuzz_below(&in, MAX_PARTS);
        w = ka_windows_new(&m->cfg, m->npart);
        if (!w)
                abort();
        while (fuzz_left(&in)) {
                uint8_t op = fuzz_u8(&in);

                if (op < 200) {
                        msg_t *msg = &m->msgs[m->n];
                        uint8_t keybuf[MAX_KEY];
                        int64_t t = (int64_t)(int16_t)fuzz_u16(&in) * 7 +
                                    (int64_t)(op % 8) * 1000;
                        size_t part = fuzz_below(&in, m->npart + 1);
                        int64_t offset = fuzz_u16(&in);
                        bool null_key = fuzz_u8(&in) % 5 == 0;
                        size_t keylen = null_key ? 0 : fuzz_below(&in, 9);
                        ka_window_add_result_t res;

                        if (m->n == MAX_MSGS)
                                break;
                        for (size_t i = 0; i < keylen; i++)
                                keybuf[i] = fuzz_u8(&in) % 4;
                        for (size_t f = 0; f < m->cfg.nfields; f++)
                                row.vals[f] = msg->row[f] =
                                        fuzz_u8(&in) == 7
                                                ? NAN
                                                : (double)fuzz_u16(&in);
                        for (size_t a = 0; a < m->cfg.narrays; a++) {
                                msg->alen[a] = fuzz_below(&in, MAX_ELEMS + 1);
                                if (ka_row_array_reserve(&row.arrays[a],
                                                         MAX_ELEMS))
                                        abort();
                                row.arrays[a].len = msg->alen[a];
                                for (size_t i = 0; i < msg->alen[a]; i++)
                                        row.arrays[a].vals[i] = msg->arr[a][i] =
                                                fuzz_u8(&in) == 7
                                                        ? NAN
                                                        : fuzz_u8(&in);
                        }
                        res = ka_windows_add(w, part, offset, t,
                                             null_key ? NULL : keybuf, keylen,
                                             &row);
                        if (part >= m->npart) {
                                if (res != KA_WINDOW_INVALID)
                                        abort();
                                continue;
                        }
                        if (res == KA_WINDOW_NOMEM || res == KA_WINDOW_INVALID)
                                abort();
                        if (res != KA_WINDOW_ADDED)
                                continue;
                        msg->start = floor_start(t, m->cfg.size_ms);
                        msg->part = part;
                        msg->offset = offset;
                        /* Without group_by_key keys are ignored. */
                        msg->null_key = null_key || !m->cfg.group_by_key;
                        msg->keylen = msg->null_key ? 0 : keylen;
                        memcpy(msg->key, keybuf, msg->keylen);
                        m->n++;
                } else if (op < 230) {
                        size_t part = fuzz_below(&in, m->npart);

                        now += fuzz_u16(&in);
                        (void)ka_windows_partition_idle(w, part, op % 2, now);
                } else {
                        now += fuzz_u8(&in);
                        m->have_last = false;
                        (void)ka_windows_close(w, now, on_close, m);
                }
        }
        /* Every partition caught up and quiet for long enough: all
         * windows close. */
        for (int round = 0; round < 2; round++) {
                now += INT64_C(1) << 40;
                for (size_t p = 0; p < m->npart; p++)
                        (void)ka_windows_partition_idle(w, p, true, now);
        }
        m->have_last = false;
        (void)ka_windows_close(w, now, on_close, m);
        for (size_t i = 0; i < m->n; i++) {
                if (!m->msgs[i].closed) {
                        fprintf(stderr, "message %zu never closed\n", i);
                        abort();
                }
        }
        ka_windows_destroy(w);
        ka_row_release(&row);
        free(m);
        return 0;
}
