/*
 * Commit tracking (worker/tracker.h): scripted sequences of emits, acks
 * and snapshots, and a randomized property test against a model that
 * checks, after every step, that a snapshot handed out never covers an
 * unacknowledged record and that the newest safe one is handed out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ka_test.h"
#include "tracker.h"

/* Progress objects in these tests: heap ints that count their frees. */
static int freed;

static void free_int(void *p)
{
        freed++;
        free(p);
}

static int *progress(int v)
{
        int *p = malloc(sizeof(*p));

        assert_non_null(p);
        *p = v;
        return p;
}

/* The value of a handed-out snapshot (freed here), or -1 for none. */
static int take(ka_tracker_t *t)
{
        int *p = ka_tracker_committable(t);
        int v;

        if (!p)
                return -1;
        v = *p;
        free(p);
        return v;
}

static void nothing_in_flight(void **state)
{
        ka_tracker_t *t = ka_tracker_new(free_int);

        assert_int_equal(take(t), -1);
        ka_tracker_snapshot(t, progress(1));
        ka_tracker_snapshot(t, progress(2)); /* supersedes 1 */
        assert_int_equal(ka_tracker_snapshots(t), 1);
        assert_int_equal(take(t), 2);
        assert_int_equal(take(t), -1);
        ka_tracker_destroy(t);
        ka_tracker_destroy(NULL);
}

static void waits_for_acks(void **state)
{
        ka_tracker_t *t = ka_tracker_new(free_int);
        uint64_t a, b, c;

        freed = 0;
        a = ka_tracker_emitted(t);
        ka_tracker_snapshot(t, progress(10)); /* needs a */
        b = ka_tracker_emitted(t);
        c = ka_tracker_emitted(t);
        ka_tracker_snapshot(t, progress(20)); /* needs a, b, c */
        assert_int_equal(ka_tracker_unacked(t), 3);
        assert_int_equal(take(t), -1);

        ka_tracker_acked(t, c); /* out of order: nothing yet */
        assert_int_equal(take(t), -1);
        ka_tracker_acked(t, a);
        assert_int_equal(take(t), 10);
        ka_tracker_acked(t, a);   /* repeated: ignored */
        ka_tracker_acked(t, 999); /* unknown: ignored */
        assert_int_equal(ka_tracker_unacked(t), 1);
        ka_tracker_acked(t, b);
        assert_int_equal(ka_tracker_unacked(t), 0);
        assert_int_equal(take(t), 20);
        assert_int_equal(freed, 0);
        ka_tracker_destroy(t);
}

static void newest_safe_wins(void **state)
{
        ka_tracker_t *t = ka_tracker_new(free_int);
        uint64_t a, b;

        freed = 0;
        a = ka_tracker_emitted(t);
        ka_tracker_snapshot(t, progress(1));
        b = ka_tracker_emitted(t);
        ka_tracker_snapshot(t, progress(2));
        ka_tracker_emitted(t); /* never acknowledged */
        ka_tracker_snapshot(t, progress(3));
        ka_tracker_acked(t, a);
        ka_tracker_acked(t, b);
        /* 1 and 2 are safe: 2 is handed out, 1 freed as superseded. */
        assert_int_equal(take(t), 2);
        assert_int_equal(freed, 1);
        assert_int_equal(ka_tracker_snapshots(t), 1);
        ka_tracker_clear(t); /* a rebalance drops 3 */
        assert_int_equal(freed, 2);
        assert_int_equal(take(t), -1);
        ka_tracker_destroy(t);
}

static void bounded_while_stuck(void **state)
{
        ka_tracker_t *t = ka_tracker_new(free_int);
        uint64_t stuck = ka_tracker_emitted(t), seq[1000];

        for (int i = 0; i < 1000; i++) {
                seq[i] = ka_tracker_emitted(t);
                ka_tracker_snapshot(t, progress(i));
                assert_true(ka_tracker_snapshots(t) <=
                            KA_TRACKER_MAX_SNAPSHOTS);
        }
        for (int i = 0; i < 1000; i++)
                ka_tracker_acked(t, seq[i]);
        assert_int_equal(take(t), -1);
        ka_tracker_acked(t, stuck);
        /* The newest snapshot survives superseding. */
        assert_int_equal(take(t), 999);
        ka_tracker_destroy(t);
}

/*
 * Random emits, acks (in any order), snapshots and takes. Safety: a
 * handed-out snapshot has every record emitted before it acknowledged,
 * and snapshots come out in the order taken. Liveness: once everything is
 * acknowledged, the newest snapshot comes out.
 */
#define NREC  4000
#define STEPS 40000
static void random_property(void **state)
{
        static bool acked[NREC];
        static uint64_t pending[NREC];
        static int snap_at[STEPS];
        ka_tracker_t *t = ka_tracker_new(free_int);
        int emitted = 0, npending = 0, nsnaps = 0, last_taken = -1, v;

        ka_test_seed(7);
        for (int step = 0; step < STEPS; step++) {
                switch (ka_test_rnd_below(4)) {
                case 0:
                        if (emitted < NREC) {
                                uint64_t seq = ka_tracker_emitted(t);

                                assert_int_equal(seq, (uint64_t)emitted);
                                pending[npending++] = seq;
                                emitted++;
                        }
                        break;
                case 1:
                        if (npending) {
                                size_t k = ka_test_rnd_below((size_t)npending);

                                acked[pending[k]] = true;
                                ka_tracker_acked(t, pending[k]);
                                pending[k] = pending[--npending];
                        }
                        break;
                case 2:
                        /* The progress value is the snapshot's index; its
                         * records are those emitted before it. */
                        snap_at[nsnaps] = emitted;
                        ka_tracker_snapshot(t, progress(nsnaps++));
                        break;
                default:
                        if ((v = take(t)) < 0)
                                break;
                        for (int r = 0; r < snap_at[v]; r++)
                                assert_true(acked[r]);
                        assert_true(v > last_taken);
                        last_taken = v;
                        break;
                }
                assert_int_equal(ka_tracker_unacked(t), (size_t)npending);
                assert_true(ka_tracker_snapshots(t) <=
                            KA_TRACKER_MAX_SNAPSHOTS);
        }
        while (npending) {
                acked[pending[npending - 1]] = true;
                ka_tracker_acked(t, pending[--npending]);
        }
        v = take(t);
        assert_int_equal(v, nsnaps - 1 > last_taken ? nsnaps - 1 : -1);
        ka_tracker_destroy(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(nothing_in_flight),
                cmocka_unit_test(waits_for_acks),
                cmocka_unit_test(newest_safe_wins),
                cmocka_unit_test(bounded_while_stuck),
                cmocka_unit_test(random_property),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
