/* Thread-local error messages and the abort path for broken invariants. */
#include "recon/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MR_ERRMSG_LEN 1024

static _Thread_local char errmsg[MR_ERRMSG_LEN];

const char *mr_last_error(void)
{
    return errmsg;
}

const char *mr_status_name(mr_status st)
{
    switch (st) {
    case MR_OK: return "MR_OK";
    case MR_ERR_NOMEM: return "MR_ERR_NOMEM";
    case MR_ERR_IO: return "MR_ERR_IO";
    case MR_ERR_FORMAT: return "MR_ERR_FORMAT";
    case MR_ERR_SHAPE: return "MR_ERR_SHAPE";
    case MR_ERR_WEIGHTS: return "MR_ERR_WEIGHTS";
    case MR_ERR_ARG: return "MR_ERR_ARG";
    case MR_ERR_UNSUPPORTED: return "MR_ERR_UNSUPPORTED";
    case MR_ERR_DATA: return "MR_ERR_DATA";
    }
    return "MR_ERR_?";
}

mr_status mr_fail_at(const char *file, int line, mr_status st, const char *fmt, ...)
{
    const char *base = strrchr(file, '/');
    char msg[MR_ERRMSG_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (snprintf(errmsg, sizeof(errmsg), "%s:%d: %s", base != NULL ? base + 1 : file, line, msg) <
        0)
        errmsg[0] = '\0';
    return st;
}

mr_status mr_fail_context(mr_status st, const char *fmt, ...)
{
    char ctx[MR_ERRMSG_LEN];
    char old[MR_ERRMSG_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);
    memcpy(old, errmsg, sizeof(old));
    if (snprintf(errmsg, sizeof(errmsg), "%s: %s", ctx, old) < 0)
        errmsg[0] = '\0';
    return st;
}

_Noreturn void mr_abort_at(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: internal error: assertion '%s' failed\n", file, line, what);
    abort();
}
