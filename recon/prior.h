/*
 * The prior interface of the proximal solvers (STYLE.md "Core types"; ggml-backend's iface +
 * context): recon defines it, implementations live where their code lives — the L1-wavelet
 * soft threshold in recon/wavelet.c, a learned proximal network (LPN) in networks/.
 *
 *   prox(ctx, λ, dst, src):  dst = argmin_u  λ R(u) + ½ ||u - src||²
 *
 * dst and src are (H, W) CF32 images of the shape the prior was made for; dst may equal src.
 * prox cannot fail: everything it needs is allocated when the prior is made. A prior keeps
 * mutable scratch (and, for random shifts, RNG state), so one prior is used by one thread.
 */
#ifndef MR_RECON_PRIOR_H
#define MR_RECON_PRIOR_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "recon/array.h"

struct mr_prior_ops {
    const char *name;
    /* dst = argmin_u  lambda * R(u) + 0.5 ||u - src||^2 ; dst may equal src */
    void (*prox)(void *ctx, float lambda, struct mr_array *dst, const struct mr_array *src);
    void (*free)(void *ctx); /* optional */
    /* optional: R at the output of the last prox (up to R's additive constant), for reports;
     * NULL when the prior cannot evaluate it cheaply */
    double (*last_value)(const void *ctx);
    /* true: prox ignores lambda, it is the prox of R with unit weight (a learned proximal
     * network); the solvers' objectives then weight R as that unit step implies */
    bool unit_prox;
};

/* A value type: { ops, ctx }; the prior owns ctx. Zero-initialised = no prior. */
struct mr_prior {
    const struct mr_prior_ops *ops;
    void *ctx;
};

/* dst = prox_{λR}(src). */
static inline void mr_prior_prox(const struct mr_prior *prior, float lambda, struct mr_array *dst,
                                 const struct mr_array *src)
{
    prior->ops->prox(prior->ctx, lambda, dst, src);
}

/* R at the last prox output, or NaN when the prior does not say (last_value NULL). */
static inline double mr_prior_last_value(const struct mr_prior *prior)
{
    return prior->ops->last_value != NULL ? prior->ops->last_value(prior->ctx) : (double)NAN;
}

/* Frees the context and resets the prior (safe on a zeroed or cleaned prior). */
static inline void mr_prior_cleanup(struct mr_prior *prior)
{
    if (prior->ops != NULL && prior->ops->free != NULL)
        prior->ops->free(prior->ctx);
    prior->ops = NULL;
    prior->ctx = NULL;
}

#endif
