/*
 * Avro and topic names to C identifiers. The mapping is injective except
 * for names that differ only where the mapping folds them ("a.b" and "a_b");
 * callers detect such collisions and report them.
 */
#include "names.h"
#include "ka.h"

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

/*
 * Object-like macros that the headers of generated code may define: every
 * one of the C11 standard headers on glibc with _GNU_SOURCE (as the
 * Makefile compiles agents), names beginning with '_' left out (they get
 * an "f" anyway). A field called NULL, EOF or M_PI would otherwise expand
 * inside the generated struct. Listed once here, so that the mapping is
 * the same on every machine; made with
 *   for h in assert complex ctype errno fenv float inttypes iso646 limits \
 *           locale math setjmp signal stdalign stdarg stdatomic stdbool \
 *           stddef stdint stdio stdlib stdnoreturn string tgmath threads \
 *           time uchar wchar wctype; do echo "#include <$h.h>"; done |
 *   CC -std=c11 -D_GNU_SOURCE -dM -E -x c - |
 *   awk '$2 !~ /^_/ && $2 !~ /\(/ {print $2}'
 * for CC gcc and clang, merged and sorted (LC_ALL=C).
 * tests/it/0013-macro-names.sh checks it against the compiler at hand.
 */
/* One sorted list, packed: clang-format would put a name a line. */
/* clang-format off */
static const char *const c_macros[] = {
        "ADJ_ESTERROR", "ADJ_FREQUENCY", "ADJ_MAXERROR", "ADJ_MICRO",
        "ADJ_NANO", "ADJ_OFFSET", "ADJ_OFFSET_SINGLESHOT", "ADJ_OFFSET_SS_READ",
        "ADJ_SETOFFSET", "ADJ_STATUS", "ADJ_TAI", "ADJ_TICK", "ADJ_TIMECONST",
        "AIO_PRIO_DELTA_MAX", "ATOMIC_BOOL_LOCK_FREE",
        "ATOMIC_CHAR16_T_LOCK_FREE", "ATOMIC_CHAR32_T_LOCK_FREE",
        "ATOMIC_CHAR_LOCK_FREE", "ATOMIC_FLAG_INIT", "ATOMIC_INT_LOCK_FREE",
        "ATOMIC_LLONG_LOCK_FREE", "ATOMIC_LONG_LOCK_FREE",
        "ATOMIC_POINTER_LOCK_FREE", "ATOMIC_SHORT_LOCK_FREE",
        "ATOMIC_WCHAR_T_LOCK_FREE", "BC_BASE_MAX", "BC_DIM_MAX", "BC_SCALE_MAX",
        "BC_STRING_MAX", "BIG_ENDIAN", "BOOL_MAX", "BOOL_WIDTH", "BUFSIZ",
        "BUS_ADRALN", "BUS_ADRERR", "BUS_MCEERR_AO", "BUS_MCEERR_AR",
        "BUS_OBJERR", "BYTE_ORDER", "CHARCLASS_NAME_MAX", "CHAR_BIT",
        "CHAR_MAX", "CHAR_MIN", "CHAR_WIDTH", "CLD_CONTINUED", "CLD_DUMPED",
        "CLD_EXITED", "CLD_KILLED", "CLD_STOPPED", "CLD_TRAPPED",
        "CLOCKS_PER_SEC", "CLOCK_BOOTTIME", "CLOCK_BOOTTIME_ALARM",
        "CLOCK_MONOTONIC", "CLOCK_MONOTONIC_COARSE", "CLOCK_MONOTONIC_RAW",
        "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_REALTIME", "CLOCK_REALTIME_ALARM",
        "CLOCK_REALTIME_COARSE", "CLOCK_TAI", "CLOCK_THREAD_CPUTIME_ID",
        "CLOSE_RANGE_CLOEXEC", "CLOSE_RANGE_UNSHARE", "COLL_WEIGHTS_MAX",
        "DBL_DECIMAL_DIG", "DBL_DIG", "DBL_EPSILON", "DBL_HAS_SUBNORM",
        "DBL_MANT_DIG", "DBL_MAX", "DBL_MAX_10_EXP", "DBL_MAX_EXP", "DBL_MIN",
        "DBL_MIN_10_EXP", "DBL_MIN_EXP", "DBL_TRUE_MIN", "DECIMAL_DIG",
        "DELAYTIMER_MAX", "E2BIG", "EACCES", "EADDRINUSE", "EADDRNOTAVAIL",
        "EADV", "EAFNOSUPPORT", "EAGAIN", "EALREADY", "EBADE", "EBADF",
        "EBADFD", "EBADMSG", "EBADR", "EBADRQC", "EBADSLT", "EBFONT", "EBUSY",
        "ECANCELED", "ECHILD", "ECHRNG", "ECOMM", "ECONNABORTED",
        "ECONNREFUSED", "ECONNRESET", "EDEADLK", "EDEADLOCK", "EDESTADDRREQ",
        "EDOM", "EDOTDOT", "EDQUOT", "EEXIST", "EFAULT", "EFBIG", "EHOSTDOWN",
        "EHOSTUNREACH", "EHWPOISON", "EIDRM", "EILSEQ", "EINPROGRESS", "EINTR",
        "EINVAL", "EIO", "EISCONN", "EISDIR", "EISNAM", "EKEYEXPIRED",
        "EKEYREJECTED", "EKEYREVOKED", "EL2HLT", "EL2NSYNC", "EL3HLT", "EL3RST",
        "ELIBACC", "ELIBBAD", "ELIBEXEC", "ELIBMAX", "ELIBSCN", "ELNRNG",
        "ELOOP", "EMEDIUMTYPE", "EMFILE", "EMLINK", "EMSGSIZE", "EMULTIHOP",
        "ENAMETOOLONG", "ENAVAIL", "ENETDOWN", "ENETRESET", "ENETUNREACH",
        "ENFILE", "ENOANO", "ENOBUFS", "ENOCSI", "ENODATA", "ENODEV", "ENOENT",
        "ENOEXEC", "ENOKEY", "ENOLCK", "ENOLINK", "ENOMEDIUM", "ENOMEM",
        "ENOMSG", "ENONET", "ENOPKG", "ENOPROTOOPT", "ENOSPC", "ENOSR",
        "ENOSTR", "ENOSYS", "ENOTBLK", "ENOTCONN", "ENOTDIR", "ENOTEMPTY",
        "ENOTNAM", "ENOTRECOVERABLE", "ENOTSOCK", "ENOTSUP", "ENOTTY",
        "ENOTUNIQ", "ENXIO", "EOF", "EOPNOTSUPP", "EOVERFLOW", "EOWNERDEAD",
        "EPERM", "EPFNOSUPPORT", "EPIPE", "EPROTO", "EPROTONOSUPPORT",
        "EPROTOTYPE", "ERANGE", "EREMCHG", "EREMOTE", "EREMOTEIO", "ERESTART",
        "ERFKILL", "EROFS", "ESHUTDOWN", "ESOCKTNOSUPPORT", "ESPIPE", "ESRCH",
        "ESRMNT", "ESTALE", "ESTRPIPE", "ETIME", "ETIMEDOUT", "ETOOMANYREFS",
        "ETXTBSY", "EUCLEAN", "EUNATCH", "EUSERS", "EWOULDBLOCK", "EXDEV",
        "EXFULL", "EXIT_FAILURE", "EXIT_SUCCESS", "EXPR_NEST_MAX", "FD_SETSIZE",
        "FE_ALL_EXCEPT", "FE_DFL_ENV", "FE_DFL_MODE", "FE_DIVBYZERO",
        "FE_DOWNWARD", "FE_INEXACT", "FE_INVALID", "FE_NOMASK_ENV",
        "FE_OVERFLOW", "FE_TONEAREST", "FE_TOWARDZERO", "FE_UNDERFLOW",
        "FE_UPWARD", "FILENAME_MAX", "FLT_DECIMAL_DIG", "FLT_DIG",
        "FLT_EPSILON", "FLT_EVAL_METHOD", "FLT_HAS_SUBNORM", "FLT_MANT_DIG",
        "FLT_MAX", "FLT_MAX_10_EXP", "FLT_MAX_EXP", "FLT_MIN", "FLT_MIN_10_EXP",
        "FLT_MIN_EXP", "FLT_RADIX", "FLT_ROUNDS", "FLT_TRUE_MIN", "FOPEN_MAX",
        "FPE_CONDTRAP", "FPE_FLTDIV", "FPE_FLTINV", "FPE_FLTOVF", "FPE_FLTRES",
        "FPE_FLTSUB", "FPE_FLTUND", "FPE_FLTUNK", "FPE_INTDIV", "FPE_INTOVF",
        "FP_ILOGB0", "FP_ILOGBNAN", "FP_INFINITE", "FP_INT_DOWNWARD",
        "FP_INT_TONEAREST", "FP_INT_TONEARESTFROMZERO", "FP_INT_TOWARDZERO",
        "FP_INT_UPWARD", "FP_LLOGB0", "FP_LLOGBNAN", "FP_NAN", "FP_NORMAL",
        "FP_SUBNORMAL", "FP_XSTATE_MAGIC1", "FP_XSTATE_MAGIC2",
        "FP_XSTATE_MAGIC2_SIZE", "FP_ZERO", "F_LOCK", "F_OK", "F_TEST",
        "F_TLOCK", "F_ULOCK", "HOST_NAME_MAX", "HUGE_VAL", "HUGE_VALF",
        "HUGE_VALL", "HUGE_VAL_F128", "HUGE_VAL_F32", "HUGE_VAL_F32X",
        "HUGE_VAL_F64", "HUGE_VAL_F64X", "I", "ILL_BADIADDR", "ILL_BADSTK",
        "ILL_COPROC", "ILL_ILLADR", "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLTRP",
        "ILL_PRVOPC", "ILL_PRVREG", "INFINITY", "INT16_MAX", "INT16_MIN",
        "INT16_WIDTH", "INT32_MAX", "INT32_MIN", "INT32_WIDTH", "INT64_MAX",
        "INT64_MIN", "INT64_WIDTH", "INT8_MAX", "INT8_MIN", "INT8_WIDTH",
        "INTMAX_MAX", "INTMAX_MIN", "INTMAX_WIDTH", "INTPTR_MAX", "INTPTR_MIN",
        "INTPTR_WIDTH", "INT_FAST16_MAX", "INT_FAST16_MIN", "INT_FAST16_WIDTH",
        "INT_FAST32_MAX", "INT_FAST32_MIN", "INT_FAST32_WIDTH",
        "INT_FAST64_MAX", "INT_FAST64_MIN", "INT_FAST64_WIDTH", "INT_FAST8_MAX",
        "INT_FAST8_MIN", "INT_FAST8_WIDTH", "INT_LEAST16_MAX",
        "INT_LEAST16_MIN", "INT_LEAST16_WIDTH", "INT_LEAST32_MAX",
        "INT_LEAST32_MIN", "INT_LEAST32_WIDTH", "INT_LEAST64_MAX",
        "INT_LEAST64_MIN", "INT_LEAST64_WIDTH", "INT_LEAST8_MAX",
        "INT_LEAST8_MIN", "INT_LEAST8_WIDTH", "INT_MAX", "INT_MIN", "INT_WIDTH",
        "IOV_MAX", "LC_ADDRESS", "LC_ADDRESS_MASK", "LC_ALL", "LC_ALL_MASK",
        "LC_COLLATE", "LC_COLLATE_MASK", "LC_CTYPE", "LC_CTYPE_MASK",
        "LC_GLOBAL_LOCALE", "LC_IDENTIFICATION", "LC_IDENTIFICATION_MASK",
        "LC_MEASUREMENT", "LC_MEASUREMENT_MASK", "LC_MESSAGES",
        "LC_MESSAGES_MASK", "LC_MONETARY", "LC_MONETARY_MASK", "LC_NAME",
        "LC_NAME_MASK", "LC_NUMERIC", "LC_NUMERIC_MASK", "LC_PAPER",
        "LC_PAPER_MASK", "LC_TELEPHONE", "LC_TELEPHONE_MASK", "LC_TIME",
        "LC_TIME_MASK", "LDBL_DECIMAL_DIG", "LDBL_DIG", "LDBL_EPSILON",
        "LDBL_HAS_SUBNORM", "LDBL_MANT_DIG", "LDBL_MAX", "LDBL_MAX_10_EXP",
        "LDBL_MAX_EXP", "LDBL_MIN", "LDBL_MIN_10_EXP", "LDBL_MIN_EXP",
        "LDBL_TRUE_MIN", "LINE_MAX", "LITTLE_ENDIAN", "LLONG_MAX", "LLONG_MIN",
        "LLONG_WIDTH", "LOGIN_NAME_MAX", "LONG_BIT", "LONG_LONG_MAX",
        "LONG_LONG_MIN", "LONG_MAX", "LONG_MIN", "LONG_WIDTH", "L_INCR",
        "L_SET", "L_XTND", "L_ctermid", "L_cuserid", "L_tmpnam",
        "MATH_ERREXCEPT", "MATH_ERRNO", "MAXFLOAT", "MAX_CANON", "MAX_INPUT",
        "MB_CUR_MAX", "MB_LEN_MAX", "MINSIGSTKSZ", "MOD_CLKA", "MOD_CLKB",
        "MOD_ESTERROR", "MOD_FREQUENCY", "MOD_MAXERROR", "MOD_MICRO",
        "MOD_NANO", "MOD_OFFSET", "MOD_STATUS", "MOD_TAI", "MOD_TIMECONST",
        "MQ_PRIO_MAX", "M_1_PI", "M_1_PIf", "M_1_PIf128", "M_1_PIf32",
        "M_1_PIf32x", "M_1_PIf64", "M_1_PIf64x", "M_1_PIl", "M_2_PI", "M_2_PIf",
        "M_2_PIf128", "M_2_PIf32", "M_2_PIf32x", "M_2_PIf64", "M_2_PIf64x",
        "M_2_PIl", "M_2_SQRTPI", "M_2_SQRTPIf", "M_2_SQRTPIf128",
        "M_2_SQRTPIf32", "M_2_SQRTPIf32x", "M_2_SQRTPIf64", "M_2_SQRTPIf64x",
        "M_2_SQRTPIl", "M_E", "M_Ef", "M_Ef128", "M_Ef32", "M_Ef32x", "M_Ef64",
        "M_Ef64x", "M_El", "M_LN10", "M_LN10f", "M_LN10f128", "M_LN10f32",
        "M_LN10f32x", "M_LN10f64", "M_LN10f64x", "M_LN10l", "M_LN2", "M_LN2f",
        "M_LN2f128", "M_LN2f32", "M_LN2f32x", "M_LN2f64", "M_LN2f64x", "M_LN2l",
        "M_LOG10E", "M_LOG10Ef", "M_LOG10Ef128", "M_LOG10Ef32", "M_LOG10Ef32x",
        "M_LOG10Ef64", "M_LOG10Ef64x", "M_LOG10El", "M_LOG2E", "M_LOG2Ef",
        "M_LOG2Ef128", "M_LOG2Ef32", "M_LOG2Ef32x", "M_LOG2Ef64", "M_LOG2Ef64x",
        "M_LOG2El", "M_PI", "M_PI_2", "M_PI_2f", "M_PI_2f128", "M_PI_2f32",
        "M_PI_2f32x", "M_PI_2f64", "M_PI_2f64x", "M_PI_2l", "M_PI_4", "M_PI_4f",
        "M_PI_4f128", "M_PI_4f32", "M_PI_4f32x", "M_PI_4f64", "M_PI_4f64x",
        "M_PI_4l", "M_PIf", "M_PIf128", "M_PIf32", "M_PIf32x", "M_PIf64",
        "M_PIf64x", "M_PIl", "M_SQRT1_2", "M_SQRT1_2f", "M_SQRT1_2f128",
        "M_SQRT1_2f32", "M_SQRT1_2f32x", "M_SQRT1_2f64", "M_SQRT1_2f64x",
        "M_SQRT1_2l", "M_SQRT2", "M_SQRT2f", "M_SQRT2f128", "M_SQRT2f32",
        "M_SQRT2f32x", "M_SQRT2f64", "M_SQRT2f64x", "M_SQRT2l", "NAME_MAX",
        "NAN", "NFDBITS", "NGREG", "NGROUPS_MAX", "NL_ARGMAX", "NL_LANGMAX",
        "NL_MSGMAX", "NL_NMAX", "NL_SETMAX", "NL_TEXTMAX", "NSIG", "NULL",
        "NZERO", "ONCE_FLAG_INIT", "PATH_MAX", "PDP_ENDIAN", "PIPE_BUF",
        "POLL_ERR", "POLL_HUP", "POLL_IN", "POLL_MSG", "POLL_OUT", "POLL_PRI",
        "PRIX16", "PRIX32", "PRIX64", "PRIX8", "PRIXFAST16", "PRIXFAST32",
        "PRIXFAST64", "PRIXFAST8", "PRIXLEAST16", "PRIXLEAST32", "PRIXLEAST64",
        "PRIXLEAST8", "PRIXMAX", "PRIXPTR", "PRId16", "PRId32", "PRId64",
        "PRId8", "PRIdFAST16", "PRIdFAST32", "PRIdFAST64", "PRIdFAST8",
        "PRIdLEAST16", "PRIdLEAST32", "PRIdLEAST64", "PRIdLEAST8", "PRIdMAX",
        "PRIdPTR", "PRIi16", "PRIi32", "PRIi64", "PRIi8", "PRIiFAST16",
        "PRIiFAST32", "PRIiFAST64", "PRIiFAST8", "PRIiLEAST16", "PRIiLEAST32",
        "PRIiLEAST64", "PRIiLEAST8", "PRIiMAX", "PRIiPTR", "PRIo16", "PRIo32",
        "PRIo64", "PRIo8", "PRIoFAST16", "PRIoFAST32", "PRIoFAST64",
        "PRIoFAST8", "PRIoLEAST16", "PRIoLEAST32", "PRIoLEAST64", "PRIoLEAST8",
        "PRIoMAX", "PRIoPTR", "PRIu16", "PRIu32", "PRIu64", "PRIu8",
        "PRIuFAST16", "PRIuFAST32", "PRIuFAST64", "PRIuFAST8", "PRIuLEAST16",
        "PRIuLEAST32", "PRIuLEAST64", "PRIuLEAST8", "PRIuMAX", "PRIuPTR",
        "PRIx16", "PRIx32", "PRIx64", "PRIx8", "PRIxFAST16", "PRIxFAST32",
        "PRIxFAST64", "PRIxFAST8", "PRIxLEAST16", "PRIxLEAST32", "PRIxLEAST64",
        "PRIxLEAST8", "PRIxMAX", "PRIxPTR", "PTHREAD_DESTRUCTOR_ITERATIONS",
        "PTHREAD_KEYS_MAX", "PTHREAD_STACK_MIN", "PTRDIFF_MAX", "PTRDIFF_MIN",
        "PTRDIFF_WIDTH", "P_tmpdir", "RAND_MAX", "REG_CR2", "REG_CSGSFS",
        "REG_EFL", "REG_ERR", "REG_OLDMASK", "REG_R10", "REG_R11", "REG_R12",
        "REG_R13", "REG_R14", "REG_R15", "REG_R8", "REG_R9", "REG_RAX",
        "REG_RBP", "REG_RBX", "REG_RCX", "REG_RDI", "REG_RDX", "REG_RIP",
        "REG_RSI", "REG_RSP", "REG_TRAPNO", "RENAME_EXCHANGE",
        "RENAME_NOREPLACE", "RENAME_WHITEOUT", "RE_DUP_MAX", "RTSIG_MAX",
        "R_OK", "SA_INTERRUPT", "SA_NOCLDSTOP", "SA_NOCLDWAIT", "SA_NODEFER",
        "SA_NOMASK", "SA_ONESHOT", "SA_ONSTACK", "SA_RESETHAND", "SA_RESTART",
        "SA_SIGINFO", "SA_STACK", "SCHAR_MAX", "SCHAR_MIN", "SCHAR_WIDTH",
        "SCNd16", "SCNd32", "SCNd64", "SCNd8", "SCNdFAST16", "SCNdFAST32",
        "SCNdFAST64", "SCNdFAST8", "SCNdLEAST16", "SCNdLEAST32", "SCNdLEAST64",
        "SCNdLEAST8", "SCNdMAX", "SCNdPTR", "SCNi16", "SCNi32", "SCNi64",
        "SCNi8", "SCNiFAST16", "SCNiFAST32", "SCNiFAST64", "SCNiFAST8",
        "SCNiLEAST16", "SCNiLEAST32", "SCNiLEAST64", "SCNiLEAST8", "SCNiMAX",
        "SCNiPTR", "SCNo16", "SCNo32", "SCNo64", "SCNo8", "SCNoFAST16",
        "SCNoFAST32", "SCNoFAST64", "SCNoFAST8", "SCNoLEAST16", "SCNoLEAST32",
        "SCNoLEAST64", "SCNoLEAST8", "SCNoMAX", "SCNoPTR", "SCNu16", "SCNu32",
        "SCNu64", "SCNu8", "SCNuFAST16", "SCNuFAST32", "SCNuFAST64",
        "SCNuFAST8", "SCNuLEAST16", "SCNuLEAST32", "SCNuLEAST64", "SCNuLEAST8",
        "SCNuMAX", "SCNuPTR", "SCNx16", "SCNx32", "SCNx64", "SCNx8",
        "SCNxFAST16", "SCNxFAST32", "SCNxFAST64", "SCNxFAST8", "SCNxLEAST16",
        "SCNxLEAST32", "SCNxLEAST64", "SCNxLEAST8", "SCNxMAX", "SCNxPTR",
        "SEEK_CUR", "SEEK_DATA", "SEEK_END", "SEEK_HOLE", "SEEK_SET",
        "SEGV_ACCADI", "SEGV_ACCERR", "SEGV_ADIDERR", "SEGV_ADIPERR",
        "SEGV_BNDERR", "SEGV_MAPERR", "SEGV_MTEAERR", "SEGV_MTESERR",
        "SEGV_PKUERR", "SEM_VALUE_MAX", "SHRT_MAX", "SHRT_MIN", "SHRT_WIDTH",
        "SIGABRT", "SIGALRM", "SIGBUS", "SIGCHLD", "SIGCLD", "SIGCONT",
        "SIGEV_NONE", "SIGEV_SIGNAL", "SIGEV_THREAD", "SIGEV_THREAD_ID",
        "SIGFPE", "SIGHUP", "SIGILL", "SIGINT", "SIGIO", "SIGIOT", "SIGKILL",
        "SIGPIPE", "SIGPOLL", "SIGPROF", "SIGPWR", "SIGQUIT", "SIGRTMAX",
        "SIGRTMIN", "SIGSEGV", "SIGSTKFLT", "SIGSTKSZ", "SIGSTOP", "SIGSYS",
        "SIGTERM", "SIGTRAP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGWINCH", "SIGXCPU", "SIGXFSZ",
        "SIG_ATOMIC_MAX", "SIG_ATOMIC_MIN", "SIG_ATOMIC_WIDTH", "SIG_BLOCK",
        "SIG_DFL", "SIG_ERR", "SIG_HOLD", "SIG_IGN", "SIG_SETMASK",
        "SIG_UNBLOCK", "SIZE_MAX", "SIZE_WIDTH", "SI_ASYNCIO", "SI_ASYNCNL",
        "SI_DETHREAD", "SI_KERNEL", "SI_MESGQ", "SI_QUEUE", "SI_SIGIO",
        "SI_TIMER", "SI_TKILL", "SI_USER", "SNAN", "SNANF", "SNANF128",
        "SNANF32", "SNANF32X", "SNANF64", "SNANF64X", "SNANL", "SSIZE_MAX",
        "SS_DISABLE", "SS_ONSTACK", "STA_CLK", "STA_CLOCKERR", "STA_DEL",
        "STA_FLL", "STA_FREQHOLD", "STA_INS", "STA_MODE", "STA_NANO", "STA_PLL",
        "STA_PPSERROR", "STA_PPSFREQ", "STA_PPSJITTER", "STA_PPSSIGNAL",
        "STA_PPSTIME", "STA_PPSWANDER", "STA_RONLY", "STA_UNSYNC",
        "STDERR_FILENO", "STDIN_FILENO", "STDOUT_FILENO", "TIMER_ABSTIME",
        "TIME_UTC", "TMP_MAX", "TRAP_BRANCH", "TRAP_BRKPT", "TRAP_HWBKPT",
        "TRAP_TRACE", "TRAP_UNK", "TSS_DTOR_ITERATIONS", "TTY_NAME_MAX",
        "UCHAR_MAX", "UCHAR_WIDTH", "UINT16_MAX", "UINT16_WIDTH", "UINT32_MAX",
        "UINT32_WIDTH", "UINT64_MAX", "UINT64_WIDTH", "UINT8_MAX",
        "UINT8_WIDTH", "UINTMAX_MAX", "UINTMAX_WIDTH", "UINTPTR_MAX",
        "UINTPTR_WIDTH", "UINT_FAST16_MAX", "UINT_FAST16_WIDTH",
        "UINT_FAST32_MAX", "UINT_FAST32_WIDTH", "UINT_FAST64_MAX",
        "UINT_FAST64_WIDTH", "UINT_FAST8_MAX", "UINT_FAST8_WIDTH",
        "UINT_LEAST16_MAX", "UINT_LEAST16_WIDTH", "UINT_LEAST32_MAX",
        "UINT_LEAST32_WIDTH", "UINT_LEAST64_MAX", "UINT_LEAST64_WIDTH",
        "UINT_LEAST8_MAX", "UINT_LEAST8_WIDTH", "UINT_MAX", "UINT_WIDTH",
        "ULLONG_MAX", "ULLONG_WIDTH", "ULONG_LONG_MAX", "ULONG_MAX",
        "ULONG_WIDTH", "USHRT_MAX", "USHRT_WIDTH", "WCHAR_MAX", "WCHAR_MIN",
        "WCHAR_WIDTH", "WCONTINUED", "WEOF", "WEXITED", "WINT_MAX", "WINT_MIN",
        "WINT_WIDTH", "WNOHANG", "WNOWAIT", "WORD_BIT", "WSTOPPED", "WUNTRACED",
        "W_OK", "XATTR_LIST_MAX", "XATTR_NAME_MAX", "XATTR_SIZE_MAX", "X_OK",
        "alignas", "alignof", "and", "and_eq",
        "atomic_compare_exchange_strong_explicit",
        "atomic_compare_exchange_weak_explicit", "atomic_exchange_explicit",
        "atomic_fetch_add_explicit", "atomic_fetch_and_explicit",
        "atomic_fetch_or_explicit", "atomic_fetch_sub_explicit",
        "atomic_fetch_xor_explicit", "atomic_init", "atomic_load_explicit",
        "atomic_store_explicit", "bitand", "bitor", "bool", "compl", "complex",
        "errno", "false", "math_errhandling", "noreturn", "not", "not_eq", "or",
        "or_eq", "sa_handler", "sa_sigaction", "si_addr", "si_addr_lsb",
        "si_arch", "si_band", "si_call_addr", "si_fd", "si_int", "si_lower",
        "si_overrun", "si_pid", "si_pkey", "si_ptr", "si_status", "si_stime",
        "si_syscall", "si_timerid", "si_uid", "si_upper", "si_utime",
        "si_value", "sigev_notify_attributes", "sigev_notify_function",
        "static_assert", "stderr", "stdin", "stdout", "thread_local", "true",
        "xor", "xor_eq",
};
/* clang-format on */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool ka_names_is_c_macro(const char *s)
{
        /* The runtime's own macros all begin with KA_. */
        if (!strncmp(s, "KA_", 3))
                return true;
        return bsearch(&s, c_macros, KA_ARRAY_SIZE(c_macros),
                       sizeof(c_macros[0]), cmp_str) != NULL;
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
                     ka_names_is_c_keyword(name) || ka_names_is_c_macro(name)
                             ? "_"
                             : "") < 0)
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
