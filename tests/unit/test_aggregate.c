/*
 * One agent's aggregation without Kafka: rows with a scalar and an array
 * field go into windows, and each closed window comes out as an encoded
 * record that avro-c reads back. Expected statistics are computed here from
 * the messages, element by element, with plain sorting and summing of
 * integers (exact in doubles), independently of runtime/stats.c: element i
 * over the messages whose array has one, NaN skipped, the first-value rule
 * of min_sample_size by the window's message count, an array output as
 * long as the window's longest array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <avro.h>
#include <math.h>

#include "aggregate.h"
#include "ka_test.h"

#define B INT64_C(1700000000000)

static const ka_op_t ops[] = {KA_OP_MIN, KA_OP_MAX, KA_OP_SUM, KA_OP_MEDIAN};
#define NOPS 4

static const char record_schema[] =
        "{\"type\":\"record\",\"name\":\"agg\",\"namespace\":"
        "\"kafkaaggregator\",\"fields\":["
        "{\"name\":\"time\",\"type\":\"double\"},"
        "{\"name\":\"window_size\",\"type\":\"double\"},"
        "{\"name\":\"count\",\"type\":\"long\"},"
        "{\"name\":\"min_x\",\"type\":\"double\"},"
        "{\"name\":\"max_x\",\"type\":\"double\"},"
        "{\"name\":\"sum_x\",\"type\":\"double\"},"
        "{\"name\":\"median_x\",\"type\":\"double\"},"
        "{\"name\":\"min_v\",\"type\":{\"type\":\"array\",\"items\":\"double\"}},"
        "{\"name\":\"max_v\",\"type\":{\"type\":\"array\",\"items\":\"double\"}},"
        "{\"name\":\"sum_v\",\"type\":{\"type\":\"array\",\"items\":\"double\"}},"
        "{\"name\":\"median_v\",\"type\":{\"type\":\"array\",\"items\":"
        "\"double\"}}]}";

/* What a generated encoder of this record does. */
static size_t encode(const ka_agent_result_t *res, uint8_t *buf, size_t cap)
{
        ka_avro_writer_t w;

        ka_avro_writer_init(&w, buf, cap);
        ka_avro_write_double(&w, res->time);
        ka_avro_write_double(&w, res->window_size);
        ka_avro_write_long(&w, res->count);
        for (size_t i = 0; i < NOPS; i++)
                ka_avro_write_double(&w, res->values[i]);
        ka_agent_write_array_stats(&w, &res->arrays[0], NOPS);
        return ka_avro_writer_len(&w);
}

static const ka_agent_t agent = {
        .name = "agg",
        .record_schema = record_schema,
        .window_ms = 1000,
        .expiration_ms = 0,
        .idle_timeout_ms = 1000,
        .min_sample_size = 3,
        .nops = NOPS,
        .ops = ops,
        .nfields = 1,
        .narrays = 1,
        .encode = encode,
};

/* One message: the scalar x (NaN: null) and the array v. */
typedef struct msg_s {
        int64_t t;
        double x;
        size_t len;
        double v[4096];
} msg_t;

typedef struct check_s {
        const msg_t *msgs;
        size_t nmsgs;
        avro_value_iface_t *iface;
        size_t windows;
        size_t longest; /* the longest output array seen */
} check_t;

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* SPEC §7 over vals[0 .. n) of a window of count messages, for integers:
 * min, max, sum, median. first is the first non-NaN value. */
static void expect(double *vals, size_t n, size_t count, double first,
                   double out[NOPS])
{
        double sum = 0;

        if ((int)count < agent.min_sample_size) {
                for (int o = 0; o < NOPS; o++)
                        out[o] = first;
                return;
        }
        if (n == 0) {
                for (int o = 0; o < NOPS; o++)
                        out[o] = NAN;
                return;
        }
        qsort(vals, n, sizeof(*vals), cmp_double);
        for (size_t i = 0; i < n; i++)
                sum += vals[i];
        out[0] = vals[0];
        out[1] = vals[n - 1];
        out[2] = sum;
        out[3] = n % 2 ? vals[n / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2;
}

static void same(double got, double want, const char *what, size_t i)
{
        if (isnan(want) ? !isnan(got) : got != want)
                fail_msg("%s[%zu]: got %.17g, want %.17g", what, i, got, want);
}

static void on_emit(const ka_aggregate_out_t *out, void *opaque)
{
        check_t *c = opaque;
        int64_t start = ka_window_start_ms(out->win);
        const msg_t *in[64];
        size_t count = 0, longest = 0, n, got_len;
        double vals[64], want[NOPS], d, first;
        avro_reader_t reader;
        avro_value_t rec, fv, item;
        int32_t id;
        int64_t l;

        for (size_t m = 0; m < c->nmsgs; m++)
                if (c->msgs[m].t - c->msgs[m].t % 1000 == start) {
                        assert_true(count < 64);
                        in[count++] = &c->msgs[m];
                }
        assert_int_equal(ka_window_count(out->win), count);
        for (size_t m = 0; m < count; m++)
                if (in[m]->len > longest)
                        longest = in[m]->len;

        assert_int_equal(ka_avro_read_header(out->value, out->len, &id), KA_OK);
        assert_int_equal(id, 77);
        reader = avro_reader_memory((const char *)out->value + 5,
                                    (int64_t)out->len - 5);
        assert_int_equal(avro_generic_value_new(c->iface, &rec), 0);
        if (avro_value_read(reader, &rec))
                fail_msg("avro-c cannot read the record: %s", avro_strerror());
        assert_int_equal(avro_value_sizeof(&rec, &n), 0);
        assert_int_equal(n, out->len - 5);
        avro_reader_free(reader);

        avro_value_get_by_index(&rec, 0, &fv, NULL);
        avro_value_get_double(&fv, &d);
        assert_true(d == (double)(2 * start + 1000) / 2000.0);
        avro_value_get_by_index(&rec, 2, &fv, NULL);
        avro_value_get_long(&fv, &l);
        assert_int_equal(l, (int64_t)count);

        /* The scalar. */
        n = 0;
        first = NAN;
        for (size_t m = 0; m < count; m++) {
                if (isnan(in[m]->x))
                        continue;
                if (isnan(first))
                        first = in[m]->x;
                vals[n++] = in[m]->x;
        }
        expect(vals, n, count, first, want);
        for (int o = 0; o < NOPS; o++) {
                avro_value_get_by_index(&rec, 3 + (size_t)o, &fv, NULL);
                avro_value_get_double(&fv, &d);
                same(d, want[o], "x", (size_t)o);
        }

        /* The array, element by element. */
        for (int o = 0; o < NOPS; o++) {
                avro_value_get_by_index(&rec, 7 + (size_t)o, &fv, NULL);
                avro_value_get_size(&fv, &got_len);
                assert_int_equal(got_len, longest);
        }
        for (size_t i = 0; i < longest; i++) {
                n = 0;
                first = NAN;
                for (size_t m = 0; m < count; m++) {
                        if (i >= in[m]->len || isnan(in[m]->v[i]))
                                continue;
                        if (isnan(first))
                                first = in[m]->v[i];
                        vals[n++] = in[m]->v[i];
                }
                expect(vals, n, count, first, want);
                for (int o = 0; o < NOPS; o++) {
                        avro_value_get_by_index(&rec, 7 + (size_t)o, &fv, NULL);
                        avro_value_get_by_index(&fv, i, &item, NULL);
                        avro_value_get_double(&item, &d);
                        same(d, want[o], ka_op_name(ops[o]), i);
                        /* What the emit callback is given, too. */
                        same(out->arrays[0].values[(size_t)o * longest + i],
                             want[o], "out->arrays", i);
                }
        }
        if (longest > c->longest)
                c->longest = longest;
        avro_value_decref(&rec);
        c->windows++;
}

/* Adds the messages through the agent's row, as the worker does, and
 * closes every window. */
static void run(const msg_t *msgs, size_t nmsgs, check_t *c)
{
        ka_aggregate_t *agg = ka_aggregate_new(&agent, 1, 77);
        ka_windows_t *w;

        assert_non_null(agg);
        w = ka_aggregate_windows(agg);
        c->msgs = msgs;
        c->nmsgs = nmsgs;
        for (size_t m = 0; m < nmsgs; m++) {
                ka_row_t *row = ka_aggregate_row(agg, true);

                assert_int_equal(row->nvals, 1);
                assert_int_equal(row->narrays, 1);
                assert_true(isnan(row->vals[0]));
                assert_int_equal(row->arrays[0].len, 0);
                row->vals[0] = msgs[m].x;
                assert_int_equal(
                        ka_row_array_reserve(&row->arrays[0], msgs[m].len),
                        KA_OK);
                memcpy(row->arrays[0].vals, msgs[m].v,
                       msgs[m].len * sizeof(double));
                row->arrays[0].len = msgs[m].len;
                assert_int_equal(ka_windows_add(w, 0, (int64_t)m, msgs[m].t,
                                                NULL, 0,
                                                ka_aggregate_row(agg, false)),
                                 KA_WINDOW_ADDED);
        }
        ka_windows_partition_idle(w, 0, true, 0);
        ka_aggregate_close(agg, 10000, on_emit, c);
        ka_aggregate_destroy(agg);
}

static msg_t *message(msg_t *m, int64_t t, double x, size_t len)
{
        m->t = t;
        m->x = x;
        m->len = len;
        for (size_t i = 0; i < len; i++)
                m->v[i] = (double)((int64_t)(ka_test_rnd() % 2001) - 1000);
        return m;
}

/*
 * Arrays of differing lengths (null ones empty), NaN elements, a window
 * below min_sample_size (first values, element by element, from whichever
 * message has one first), a window of one empty array (empty outputs).
 */
static void element_wise_statistics(void **state)
{
        static msg_t msgs[12];
        check_t c = {0};
        avro_schema_t schema = ka_test_schema_parse(record_schema);

        c.iface = avro_generic_class_from_schema(schema);
        ka_test_seed(3);
        /* Window B: five messages, lengths 3, 0, 5, 2, 5. */
        message(&msgs[0], B + 10, 4, 3);
        message(&msgs[1], B + 20, NAN, 0);
        message(&msgs[2], B + 30, -2, 5);
        message(&msgs[3], B + 40, 9, 2);
        message(&msgs[4], B + 50, 4, 5);
        msgs[2].v[1] = NAN;
        msgs[4].v[4] = NAN;
        /* Window B + 1 s: two messages, below min_sample_size 3; element
         * 0 of the first is NaN, so the second's counts first. */
        message(&msgs[5], B + 1100, 1, 2);
        message(&msgs[6], B + 1200, NAN, 4);
        msgs[5].v[0] = NAN;
        /* Window B + 2 s: one message, no elements. */
        message(&msgs[7], B + 2500, 3, 0);
        /* Window B + 3 s: four messages, even count: medians of two. */
        message(&msgs[8], B + 3001, 1, 6);
        message(&msgs[9], B + 3002, 2, 6);
        message(&msgs[10], B + 3003, 3, 6);
        message(&msgs[11], B + 3004, 5, 6);
        run(msgs, 12, &c);
        assert_int_equal(c.windows, 4);
        avro_value_iface_decref(c.iface);
        avro_schema_decref(schema);
}

/* Rubin's longest array (3024 elements) at 50 Hz, then a longer one: the
 * statistics and record buffers grow past their initial size. */
static void long_arrays(void **state)
{
        static msg_t msgs[60];
        check_t c = {0};
        avro_schema_t schema = ka_test_schema_parse(record_schema);

        c.iface = avro_generic_class_from_schema(schema);
        ka_test_seed(4);
        for (size_t m = 0; m < 50; m++)
                message(&msgs[m], B + (int64_t)m * 20, (double)m, 3024);
        for (size_t m = 50; m < 60; m++)
                message(&msgs[m], B + 1000 + (int64_t)m, (double)m,
                        m == 55 ? 4096 : 100);
        run(msgs, 60, &c);
        assert_int_equal(c.windows, 2);
        assert_int_equal(c.longest, 4096);
        avro_value_iface_decref(c.iface);
        avro_schema_decref(schema);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(element_wise_statistics),
                cmocka_unit_test(long_arrays),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
