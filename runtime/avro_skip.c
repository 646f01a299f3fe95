/*
 * The skip-program interpreter. Programs come from the generator, but a
 * damaged one must not crash the worker either: every operand is checked
 * against the program's length.
 */
#include "avro_skip.h"

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

static ka_err_t skip(const vm_t *vm, ka_avro_reader_t *r, size_t pc, int depth);

/* Whether the node at pc encodes to no bytes at all (null, fixed of size
 * 0, records of those): a block of such items must not be iterated, since
 * its count is not bounded by the input. */
static bool zero_width(const vm_t *vm, size_t pc, int depth)
{
        if (pc >= vm->len || depth > KA_SKIP_MAX_DEPTH)
                return false;
        switch (vm->prog[pc]) {
        case KA_SKIP_NULL:
                return true;
        case KA_SKIP_FIXED:
                return pc + 1 < vm->len && vm->prog[pc + 1] == 0;
        case KA_SKIP_RECORD:
                if (pc + 1 >= vm->len || vm->prog[pc + 1] < 0)
                        return false;
                for (int32_t i = 0, n = vm->prog[pc + 1]; i < n; i++) {
                        pc = i ? node_end(vm, pc, depth + 1) : pc + 2;
                        if (!zero_width(vm, pc, depth + 1))
                                return false;
                }
                return true;
        default:
                return false;
        }
}

static ka_err_t skip_items(const vm_t *vm, ka_avro_reader_t *r, size_t pc,
                           int depth, bool map)
{
        int64_t count, bytes;
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
                if (!map && zero_width(vm, pc, depth + 1))
                        continue;
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
