/*
 * Probes: named intermediate arrays that a computation (every network of networks/, the PnP
 * solvers of recon/pnp.h) reports to an optional observer while it runs, for tests that
 * localise a mismatch against a golden's /intermediate group and for per-reconstruction
 * diagnostics (e.g. data-consistency residuals of each cascade's estimate).
 *
 *   fn(ctx, name, index, a)   name: as the computation's header documents it (the golden's
 *                             /intermediate path, e.g. "cascade_0_kspace" or
 *                             "cascade_0/time_step_3/prediction"); index: −1 for a whole array,
 *                             or i for entry i along the golden's first axis (one coil of a
 *                             per-coil batch); a: borrowed, valid only during the call.
 *
 * A NULL probe (or one with fn NULL) costs nothing: computations check before they format a
 * name or form an array only for the probe.
 */
#ifndef MR_RECON_PROBE_H
#define MR_RECON_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"

struct mr_probe {
    void (*fn)(void *ctx, const char *name, int64_t index, const struct mr_array *a);
    void *ctx;
    /* optional: numbers (mr_probe_emit_value), e.g. the per-reconstruction report's
     * "dc_residual" of estimate `index` (pipeline/trust.h); fn may be NULL when only these are
     * wanted, so computations skip forming intermediate arrays */
    void (*value)(void *ctx, const char *name, int64_t index, double v);
};

/* True if probe is not NULL and wants intermediate arrays (has fn). */
static inline bool mr_probe_active(const struct mr_probe *probe)
{
    return probe != NULL && probe->fn != NULL;
}

/* True if probe is not NULL and wants mr_probe_emit_value's numbers (has value). */
static inline bool mr_probe_wants_values(const struct mr_probe *probe)
{
    return probe != NULL && probe->value != NULL;
}

/* Calls probe->fn(ctx, name, index, a) when the probe is active. */
void mr_probe_emit(const struct mr_probe *probe, const char *name, int64_t index,
                   const struct mr_array *a);

/* The same with the name formatted printf-style (at most 127 characters are kept). */
void mr_probe_emitf(const struct mr_probe *probe, int64_t index, const struct mr_array *a,
                    const char *fmt, ...) MR_PRINTF_LIKE(4, 5);

/* Calls probe->value(ctx, name, index, v) when the probe wants values. */
void mr_probe_emit_value(const struct mr_probe *probe, const char *name, int64_t index,
                         double value);

/* A probe that forwards to another under a prefixed name ("step_3/" + "kspace"), for a
 * computation that runs a part which names its own arrays. */
struct mr_probe_prefix {
    struct mr_probe probe;
    const struct mr_probe *inner;
    char prefix[64];
};

/* Sets p up to forward arrays and numbers to inner with the formatted prefix and returns
 * &p->probe, or NULL when inner wants neither (so the part runs without a probe). */
const struct mr_probe *mr_probe_prefix(struct mr_probe_prefix *p, const struct mr_probe *inner,
                                       const char *fmt, ...) MR_PRINTF_LIKE(3, 4);

#endif
