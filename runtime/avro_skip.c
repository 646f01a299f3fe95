/*
 * Skip programs: the compiler from resolved schema types and the
 * interpreter. Programs come from the generator or from a writer schema
 * met at run time, but a damaged one must not crash the worker either:
 * the interpreter checks every operand against the program's length.
 */
#include "avro_skip.h"
#include "avro_schema.h"

#include <stdlib.h>

/* ---- compiler --------------------------------------------------------- */

typedef struct compiler_s {
        /* the records enclosing the node being compiled, outermost first,
         * and where each one's node starts, for recursive references */
        const ka_avro_node_t *records[KA_SKIP_MAX_DEPTH + 1];
        size_t record_pos[KA_SKIP_MAX_DEPTH + 1];
        size_t nrecords;
        int32_t *prog;
        size_t len, cap;
        ka_err_t err;
} compiler_t;

static void emit(compiler_t *c, size_t v)
{
        if (c->err)
                return;
        if (v > INT32_MAX || c->len == KA_SKIP_MAX_PROG) {
                c->err = KA_ERR_INVALID;
                return;
        }
        if (c->len == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                int32_t *p = realloc(c->prog, cap * sizeof(*p));

                if (!p) {
                        c->err = KA_ERR_NOMEM;
                        return;
                }
                c->prog = p;
                c->cap = cap;
        }
        c->prog[c->len++] = (int32_t)v;
}

/* Appends the program of t, depth levels below the compiled type. */
static void compile(compiler_t *c, const ka_avro_node_t *t, int depth)
{
        static const int32_t prim_ops[] = {
                [KA_AVRO_NULL] = KA_SKIP_NULL,
                [KA_AVRO_BOOLEAN] = KA_SKIP_BOOLEAN,
                [KA_AVRO_INT] = KA_SKIP_INT,
                [KA_AVRO_LONG] = KA_SKIP_LONG,
                [KA_AVRO_FLOAT] = KA_SKIP_FLOAT,
                [KA_AVRO_DOUBLE] = KA_SKIP_DOUBLE,
                [KA_AVRO_BYTES] = KA_SKIP_BYTES,
                [KA_AVRO_STRING] = KA_SKIP_STRING,
        };

        if (c->err)
                return;
        if (depth > KA_SKIP_MAX_DEPTH) {
                c->err = KA_ERR_INVALID;
                return;
        }
        switch (t->type) {
        case KA_AVRO_FIXED:
                emit(c, KA_SKIP_FIXED);
                emit(c, t->size);
                break;
        case KA_AVRO_ENUM:
                emit(c, KA_SKIP_ENUM);
                emit(c, t->nsymbols);
                break;
        case KA_AVRO_ARRAY:
        case KA_AVRO_MAP:
                emit(c, t->type == KA_AVRO_ARRAY ? KA_SKIP_ARRAY : KA_SKIP_MAP);
                compile(c, t->items, depth + 1);
                break;
        case KA_AVRO_UNION:
                emit(c, KA_SKIP_UNION);
                emit(c, t->nbranches);
                for (size_t i = 0; i < t->nbranches; i++)
                        compile(c, t->branches[i], depth + 1);
                break;
        case KA_AVRO_RECORD:
                for (size_t i = 0; i < c->nrecords; i++) {
                        if (c->records[i] == t) {
                                emit(c, KA_SKIP_REF);
                                emit(c, c->record_pos[i]);
                                return;
                        }
                }
                /* depth <= KA_SKIP_MAX_DEPTH bounds the records enclosing
                 * this one. */
                c->records[c->nrecords] = t;
                c->record_pos[c->nrecords++] = c->len;
                emit(c, KA_SKIP_RECORD);
                emit(c, t->nfields);
                for (size_t i = 0; i < t->nfields; i++)
                        compile(c, t->fields[i].type, depth + 1);
                c->nrecords--;
                break;
        default:
                if (t->type < 0 || t->type > KA_AVRO_STRING) {
                        c->err = KA_ERR_INVALID;
                        return;
                }
                emit(c, (size_t)prim_ops[t->type]);
                break;
        }
}

ka_err_t ka_avro_skip_compile(const ka_avro_node_t *type, int32_t **prog,
                              size_t *len)
{
        compiler_t c = {.err = KA_OK};

        compile(&c, type, 0);
        if (c.err) {
                free(c.prog);
                *prog = NULL;
                *len = 0;
                return c.err;
        }
        *prog = c.prog;
        *len = c.len;
        return KA_OK;
}

/* ---- interpreter ------------------------------------------------------ */

typedef struct vm_s {
        const int32_t *prog;
        size_t len;
} vm_t;

/* Position just past the node at pc, or len + 1 when malformed. */
static size_t node_end(const vm_t *vm, size_t pc, int depth)
{
        size_t n, i;

        if (pc >= vm->len || depth > KA_SKIP_MAX_DEPTH)
                return vm->len + 1;
        switch (vm->prog[pc]) {
        case KA_SKIP_FIXED:
        case KA_SKIP_ENUM:
        case KA_SKIP_REF:
                return pc + 2;
        case KA_SKIP_ARRAY:
        case KA_SKIP_MAP:
                return node_end(vm, pc + 1, depth + 1);
        case KA_SKIP_UNION:
        case KA_SKIP_RECORD:
                if (pc + 1 >= vm->len || vm->prog[pc + 1] < 0)
                        return vm->len + 1;
                n = (size_t)vm->prog[pc + 1];
                pc += 2;
                for (i = 0; i < n && pc <= vm->len; i++)
                        pc = node_end(vm, pc, depth + 1);
                return pc;
        default:
                return pc + 1;
        }
}

/*
 * Whether every value of the node at pc encodes to the same number of
 * bytes, and that number. Arrays of such items are jumped over block by
 * block: for zero-width items (null, fixed of size 0, records of those)
 * this is also what keeps a huge count, which the input does not bound,
 * from being iterated.
 */
static bool const_width(const vm_t *vm, size_t pc, int depth, size_t *width)
{
        size_t w = 0, fw;
        int32_t arg;

        if (pc >= vm->len || depth > KA_SKIP_MAX_DEPTH)
                return false;
        arg = pc + 1 < vm->len ? vm->prog[pc + 1] : -1;
        switch (vm->prog[pc]) {
        case KA_SKIP_NULL:
                break;
        case KA_SKIP_FLOAT:
                w = 4;
                break;
        case KA_SKIP_DOUBLE:
                w = 8;
                break;
        case KA_SKIP_FIXED:
                if (arg < 0)
                        return false;
                w = (size_t)arg;
                break;
        case KA_SKIP_RECORD:
                if (arg < 0)
                        return false;
                pc += 2;
                for (int32_t i = 0; i < arg; i++) {
                        if (!const_width(vm, pc, depth + 1, &fw) ||
                            fw > SIZE_MAX - w)
                                return false;
                        w += fw;
                        pc = node_end(vm, pc, depth + 1);
                }
                break;
        default:
                return false;
        }
        *width = w;
        return true;
}

static ka_err_t skip(const vm_t *vm, ka_avro_reader_t *r, size_t pc, int depth);

static ka_err_t skip_items(const vm_t *vm, ka_avro_reader_t *r, size_t pc,
                           int depth, bool map)
{
        int64_t count, bytes;
        size_t width;
        bool fixed = !map && const_width(vm, pc, depth + 1, &width);
        ka_err_t err;

        for (;;) {
                err = ka_avro_read_block(r, &count, &bytes);
                if (err || count == 0)
                        return err;
                if (bytes >= 0) {
                        /* The writer told the block's size: jump over it. */
                        r->p += bytes;
                        continue;
                }
                if (fixed) {
                        if (width &&
                            (uint64_t)count > ka_avro_reader_left(r) / width)
                                return KA_ERR_TRUNCATED;
                        r->p += (size_t)count * width;
                        continue;
                }
                for (int64_t i = 0; i < count; i++) {
                        if (map && (err = ka_avro_skip_string(r)))
                                return err;
                        if ((err = skip(vm, r, pc, depth + 1)))
                                return err;
                }
        }
}

static ka_err_t skip(const vm_t *vm, ka_avro_reader_t *r, size_t pc, int depth)
{
        int32_t op, arg, index;
        ka_err_t err;

        if (pc >= vm->len || depth > KA_SKIP_MAX_DEPTH)
                return KA_ERR_INVALID;
        op = vm->prog[pc];
        arg = pc + 1 < vm->len ? vm->prog[pc + 1] : -1;
        switch (op) {
        case KA_SKIP_NULL:
                return KA_OK;
        case KA_SKIP_BOOLEAN:
                return ka_avro_skip_boolean(r);
        case KA_SKIP_INT:
                return ka_avro_skip_int(r);
        case KA_SKIP_LONG:
                return ka_avro_skip_long(r);
        case KA_SKIP_FLOAT:
                return ka_avro_skip_float(r);
        case KA_SKIP_DOUBLE:
                return ka_avro_skip_double(r);
        case KA_SKIP_BYTES:
                return ka_avro_skip_bytes(r);
        case KA_SKIP_STRING:
                return ka_avro_skip_string(r);
        case KA_SKIP_FIXED:
                return arg < 0 ? KA_ERR_INVALID
                               : ka_avro_skip_fixed(r, (size_t)arg);
        case KA_SKIP_ENUM:
                return arg < 0 ? KA_ERR_INVALID : ka_avro_skip_enum(r, arg);
        case KA_SKIP_ARRAY:
        case KA_SKIP_MAP:
                return skip_items(vm, r, pc + 1, depth, op == KA_SKIP_MAP);
        case KA_SKIP_UNION:
                if (arg < 0)
                        return KA_ERR_INVALID;
                if ((err = ka_avro_read_union_index(r, arg, &index)))
                        return err;
                pc += 2;
                while (index-- > 0 && pc < vm->len)
                        pc = node_end(vm, pc, depth + 1);
                return skip(vm, r, pc, depth + 1);
        case KA_SKIP_RECORD:
                if (arg < 0)
                        return KA_ERR_INVALID;
                pc += 2;
                for (int32_t i = 0; i < arg; i++) {
                        if ((err = skip(vm, r, pc, depth + 1)))
                                return err;
                        pc = node_end(vm, pc, depth + 1);
                }
                return KA_OK;
        case KA_SKIP_REF:
                /* Only backwards: a forward reference could loop without
                 * consuming input. */
                if (arg < 0 || (size_t)arg >= pc)
                        return KA_ERR_INVALID;
                return skip(vm, r, (size_t)arg, depth + 1);
        default:
                return KA_ERR_INVALID;
        }
}

ka_err_t ka_avro_skip_program(ka_avro_reader_t *r, const int32_t *prog,
                              size_t prog_len)
{
        vm_t vm = {prog, prog_len};

        return skip(&vm, r, 0, 0);
}

bool ka_avro_skip_width(const int32_t *prog, size_t prog_len, size_t *width)
{
        vm_t vm = {prog, prog_len};

        return const_width(&vm, 0, 0, width);
}
