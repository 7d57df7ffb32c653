/*
 * Linear operators A: X -> Y between CF32 arrays of fixed shapes (STYLE.md "Core types"),
 * after BART's linop_s: a const vtable of callbacks plus a private context.
 *
 *   forward   dst = A src        src has the input shape, dst the output shape
 *   adjoint   dst = A^H src      src has the output shape, dst the input shape
 *   normal    dst = A^H A src    (optional in the vtable; by default adjoint(forward(src))
 *                                 through a scratch array the operator allocates at creation)
 *
 * Creating an operator may fail; applying one cannot (shapes and dtypes are MR_ASSERTed).
 * dst and src never alias in forward/adjoint (their shapes generally differ); normal allows
 * dst == src. An operator keeps mutable scratch (its own and usually its context's), so one
 * operator object is used by one thread at a time (STYLE.md "One object per thread").
 */
#ifndef MR_RECON_LINOP_H
#define MR_RECON_LINOP_H

#include <complex.h>
#include <stdint.h>

#include "recon/array.h"

struct mr_linop_ops {
    const char *name;
    void (*forward)(void *ctx, struct mr_array *dst, const struct mr_array *src);
    void (*adjoint)(void *ctx, struct mr_array *dst, const struct mr_array *src);
    void (*normal)(void *ctx, struct mr_array *dst, const struct mr_array *src); /* optional */
    void (*free)(void *ctx);                                                     /* optional */
};

struct mr_linop {
    const struct mr_linop_ops *ops;
    void *ctx;
    int in_ndim;
    int64_t in_dims[MR_MAX_DIMS];
    int out_ndim;
    int64_t out_dims[MR_MAX_DIMS];
    struct mr_array *tmp; /* output-shaped scratch for the default normal; NULL if ops->normal */
};

/*
 * Wraps ops + ctx into a new operator with the given input and output shapes (C order).
 * On success the operator owns ctx (ops->free(ctx) runs in mr_linop_free); on failure ctx is
 * still the caller's. Errors: MR_ERR_ARG (rank outside 1..MR_MAX_DIMS, a dim < 1, missing
 * forward/adjoint), MR_ERR_NOMEM.
 */
mr_status mr_linop_create(const struct mr_linop_ops *ops, void *ctx, int in_ndim,
                          const int64_t *in_dims, int out_ndim, const int64_t *out_dims,
                          struct mr_linop **out);

/* Frees the operator and its context. Accepts NULL. */
void mr_linop_free(struct mr_linop *op);

/* dst (output shape) = A src (input shape). */
void mr_linop_forward(const struct mr_linop *op, struct mr_array *dst, const struct mr_array *src);

/* dst (input shape) = A^H src (output shape). */
void mr_linop_adjoint(const struct mr_linop *op, struct mr_array *dst, const struct mr_array *src);

/* dst = A^H A src, both of the input shape; dst may equal src. */
void mr_linop_normal(const struct mr_linop *op, struct mr_array *dst, const struct mr_array *src);

/* Input / output element counts. */
int64_t mr_linop_in_numel(const struct mr_linop *op);
int64_t mr_linop_out_numel(const struct mr_linop *op);

/*
 * Largest eigenvalue of A^H A by `iters` power iterations from a seeded pseudo-random start
 * (a lower bound that converges from below; multiply by a safety factor such as 1.05 when used
 * as a step size bound). Allocates two input-shaped arrays. Errors: MR_ERR_NOMEM.
 */
mr_status mr_linop_normal_max_eig(const struct mr_linop *op, int iters, uint64_t seed,
                                  double *out);

#endif
