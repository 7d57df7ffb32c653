/* Probes of intermediate arrays (probe.h). */
#include "recon/probe.h"

#include <stdarg.h>
#include <stdio.h>

void mr_probe_emit(const struct mr_probe *probe, const char *name, int64_t index,
                   const struct mr_array *a)
{
    if (mr_probe_active(probe))
        probe->fn(probe->ctx, name, index, a);
}

void mr_probe_emit_value(const struct mr_probe *probe, const char *name, int64_t index,
                         double value)
{
    if (mr_probe_wants_values(probe))
        probe->value(probe->ctx, name, index, value);
}

void mr_probe_emitf(const struct mr_probe *probe, int64_t index, const struct mr_array *a,
                    const char *fmt, ...)
{
    char name[128];
    va_list ap;

    if (!mr_probe_active(probe))
        return;
    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    probe->fn(probe->ctx, name, index, a);
}

static void prefixed(void *ctx, const char *name, int64_t index, const struct mr_array *a)
{
    const struct mr_probe_prefix *p = ctx;
    mr_probe_emitf(p->inner, index, a, "%s%s", p->prefix, name);
}

static void prefixed_value(void *ctx, const char *name, int64_t index, double v)
{
    const struct mr_probe_prefix *p = ctx;
    char full[128];
    snprintf(full, sizeof(full), "%s%s", p->prefix, name);
    mr_probe_emit_value(p->inner, full, index, v);
}

const struct mr_probe *mr_probe_prefix(struct mr_probe_prefix *p, const struct mr_probe *inner,
                                       const char *fmt, ...)
{
    va_list ap;

    if (!mr_probe_active(inner) && !mr_probe_wants_values(inner))
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p->prefix, sizeof(p->prefix), fmt, ap);
    va_end(ap);
    p->inner = inner;
    p->probe.fn = mr_probe_active(inner) ? prefixed : NULL;
    p->probe.value = mr_probe_wants_values(inner) ? prefixed_value : NULL;
    p->probe.ctx = p;
    return &p->probe;
}
