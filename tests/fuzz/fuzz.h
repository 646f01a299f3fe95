/*
 * Shared by the fuzz targets (tests/fuzz/fuzz_*.c): the golden agents to
 * decode with, a reader that turns fuzz bytes into choices, and a
 * generator of hostile Avro schemas (huge, deep, recursive) driven by
 * those choices. Each target is a libFuzzer LLVMFuzzerTestOneInput; the
 * same objects link with replay.c for the replay of `make check`.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include "agent.h"
#include "row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every agent of tests/golden/ once (tests/fuzz/golden-agents.sh). */
extern const ka_agent_t *const fuzz_agents[];
extern const size_t fuzz_nagents;

/* The sources of every golden agent, numbered across agents; n is taken
 * modulo their count. */
const ka_agent_source_t *fuzz_source(size_t n);
size_t fuzz_nsources(void);

/*
 * The schema source n was generated from, as written (with logical types,
 * which its Parsing Canonical Form drops): the file
 * tests/golden/<case>/schemas/<topic>.avsc under the working directory, or
 * the canonical form when there is none. Read once.
 */
const char *fuzz_source_schema(size_t n);

/*
 * A row for src's agent (its slices and some room on either side), every
 * value outside src's slices a guard value that fuzz_row_check() finds
 * untouched. fuzz_row_same() compares src's slices bit for bit.
 */
bool fuzz_row_new(const ka_agent_source_t *src, ka_row_t *row);
void fuzz_row_check(const ka_agent_source_t *src, const ka_row_t *row);
bool fuzz_row_same(const ka_agent_source_t *src, const ka_row_t *a,
                   const ka_row_t *b);
void fuzz_row_free(ka_row_t *row);

/*
 * Choices drawn from the front of the input; an exhausted input gives
 * zeros, so that every input is a complete program of choices.
 */
typedef struct fuzz_in_s {
        const uint8_t *p, *end;
} fuzz_in_t;

uint8_t fuzz_u8(fuzz_in_t *in);
uint16_t fuzz_u16(fuzz_in_t *in);
/* A value in [0, n) (0 when n is 0). */
size_t fuzz_below(fuzz_in_t *in, size_t n);
/* true with probability about 1 / n. */
bool fuzz_one_in(fuzz_in_t *in, unsigned n);
size_t fuzz_left(const fuzz_in_t *in);

/* An exactly sized heap copy of data (so that ASan sees overreads),
 * NUL-terminated one byte past len when nul is true. */
uint8_t *fuzz_copy(const void *data, size_t len, bool nul);

/*
 * Every check a schema text must pass: refused with a reason, or parsed
 * with a canonical form that parses to itself, a normalized form with the
 * same canonical form, compatible with itself, skip-compiled, and through
 * the generator's field model. Aborts on a violation; returns the parsed
 * schema (the caller destroys it), or NULL when the text was refused.
 */
typedef struct ka_avro_schema_s ka_avro_schema_t;
ka_avro_schema_t *fuzz_check_schema(const char *text);

/*
 * An Avro schema text built from choices in `in`: records, enums, fixed,
 * arrays, maps, unions, primitives with logical types, namespaces,
 * aliases, defaults; with small probabilities huge ones (up to 1000
 * fields or symbols), deep ones (thousands of levels),
 * recursive and repeatedly used named types, and mistakes (duplicate
 * names, bad defaults, unknown references). Field names are drawn from
 * names[0..nnames) half of the time when nnames > 0. The top level is a
 * record when record_root. malloc'd.
 */
char *fuzz_schema_gen(fuzz_in_t *in, const char *const *names, size_t nnames,
                      bool record_root);

#endif
