/*
 * Error reporting for the whole project (STYLE.md "Errors").
 *
 * Two tiers:
 *   - MR_FAIL(status, fmt, ...) for anything a file, a user or the OS can break: it records a
 *     thread-local message "file:line: message" and returns the status so a function can
 *     `return MR_FAIL(...)` or `st = MR_FAIL(...); goto out;`.
 *   - MR_ASSERT(cond) for the project's own invariants: always on, aborts with a message.
 *
 * MR_CHECK(expr) expects a local `mr_status st` and an `out:` label.
 */
#ifndef MR_RECON_STATUS_H
#define MR_RECON_STATUS_H

#if defined(__GNUC__) || defined(__clang__)
#define MR_PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define MR_PRINTF_LIKE(a, b)
#endif

typedef enum mr_status {
    MR_OK = 0,
    MR_ERR_NOMEM = -1,
    MR_ERR_IO = -2,
    MR_ERR_FORMAT = -3,
    MR_ERR_SHAPE = -4,
    MR_ERR_WEIGHTS = -5,
    MR_ERR_ARG = -6,
    MR_ERR_UNSUPPORTED = -7,
    MR_ERR_DATA = -8, /* values that cannot be reconstructed: NaN/Inf k-space, empty mask */
} mr_status;

/* The message of the last failure on this thread ("" if none). Valid until the next failure. */
const char *mr_last_error(void);

/* Name of a status value ("MR_ERR_IO"). */
const char *mr_status_name(mr_status st);

/* Records "file:line: message" as this thread's last error and returns st. */
mr_status mr_fail_at(const char *file, int line, mr_status st, const char *fmt, ...)
    MR_PRINTF_LIKE(4, 5);

/* Prefixes the current thread's last error with more context ("while reading 'x.h5': ...")
 * and returns st unchanged. */
mr_status mr_fail_context(mr_status st, const char *fmt, ...) MR_PRINTF_LIKE(2, 3);

_Noreturn void mr_abort_at(const char *file, int line, const char *what);

#define MR_FAIL(st, ...) mr_fail_at(__FILE__, __LINE__, (st), __VA_ARGS__)
#define MR_CHECK(expr)                                                                           \
    do {                                                                                         \
        st = (expr);                                                                             \
        if (st != MR_OK)                                                                         \
            goto out;                                                                            \
    } while (0)
#define MR_ASSERT(cond)                                                                          \
    do {                                                                                         \
        if (!(cond))                                                                             \
            mr_abort_at(__FILE__, __LINE__, #cond);                                              \
    } while (0)

#endif
