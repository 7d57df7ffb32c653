/*
 * Linear operator plumbing (linop.h), modelled on BART src/linops/linop.c: shape checks at the
 * boundary, a default normal operator through one scratch array, and a power iteration for
 * the Lipschitz constant of the data term.
 */
#include "recon/linop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recon/vec.h"

static bool valid_shape(int ndim, const int64_t *dims)
{
    if (ndim < 1 || ndim > MR_MAX_DIMS)
        return false;
    for (int d = 0; d < ndim; d++)
        if (dims[d] < 1)
            return false;
    return true;
}

mr_status mr_linop_create(const struct mr_linop_ops *ops, void *ctx, int in_ndim,
                          const int64_t *in_dims, int out_ndim, const int64_t *out_dims,
                          struct mr_linop **out)
{
    mr_status st = MR_OK;
    struct mr_linop *op = NULL;
    char buf[2][128];

    *out = NULL;
    if (ops == NULL || ops->forward == NULL || ops->adjoint == NULL)
        return MR_FAIL(MR_ERR_ARG, "linear operator '%s' lacks forward or adjoint",
                       ops != NULL && ops->name != NULL ? ops->name : "?");
    if (!valid_shape(in_ndim, in_dims) || !valid_shape(out_ndim, out_dims))
        return MR_FAIL(MR_ERR_ARG, "linear operator '%s': invalid shapes %s -> %s", ops->name,
                       mr_dims_str(in_ndim, in_dims, buf[0], sizeof(buf[0])),
                       mr_dims_str(out_ndim, out_dims, buf[1], sizeof(buf[1])));
    op = calloc(1, sizeof(*op));
    if (op == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "linear operator '%s'", ops->name);
    op->ops = ops;
    op->in_ndim = in_ndim;
    op->out_ndim = out_ndim;
    for (int d = 0; d < MR_MAX_DIMS; d++) {
        op->in_dims[d] = d < in_ndim ? in_dims[d] : 1;
        op->out_dims[d] = d < out_ndim ? out_dims[d] : 1;
    }
    if (ops->normal == NULL) {
        op->tmp = calloc(1, sizeof(*op->tmp));
        if (op->tmp == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "linear operator '%s' scratch", ops->name);
            goto out;
        }
        MR_CHECK(mr_array_init(op->tmp, MR_DTYPE_CF32, out_ndim, out_dims));
    }
    op->ctx = ctx; /* owned from here on */
    *out = op;
    op = NULL;
out:
    mr_linop_free(op);
    return st;
}

void mr_linop_free(struct mr_linop *op)
{
    if (op == NULL)
        return;
    if (op->ops->free != NULL && op->ctx != NULL)
        op->ops->free(op->ctx);
    if (op->tmp != NULL) {
        mr_array_cleanup(op->tmp);
        free(op->tmp);
    }
    free(op);
}

static void check_shape(const struct mr_array *a, int ndim, const int64_t *dims)
{
    MR_ASSERT(a->dtype == MR_DTYPE_CF32);
    MR_ASSERT(mr_array_numel(a) == mr_dims_numel(ndim, dims));
}

void mr_linop_forward(const struct mr_linop *op, struct mr_array *dst, const struct mr_array *src)
{
    check_shape(src, op->in_ndim, op->in_dims);
    check_shape(dst, op->out_ndim, op->out_dims);
    op->ops->forward(op->ctx, dst, src);
}

void mr_linop_adjoint(const struct mr_linop *op, struct mr_array *dst, const struct mr_array *src)
{
    check_shape(src, op->out_ndim, op->out_dims);
    check_shape(dst, op->in_ndim, op->in_dims);
    op->ops->adjoint(op->ctx, dst, src);
}

void mr_linop_normal(const struct mr_linop *op, struct mr_array *dst, const struct mr_array *src)
{
    check_shape(src, op->in_ndim, op->in_dims);
    check_shape(dst, op->in_ndim, op->in_dims);
    if (op->ops->normal != NULL) {
        op->ops->normal(op->ctx, dst, src);
        return;
    }
    op->ops->forward(op->ctx, op->tmp, src);
    op->ops->adjoint(op->ctx, dst, op->tmp);
}

int64_t mr_linop_in_numel(const struct mr_linop *op)
{
    return mr_dims_numel(op->in_ndim, op->in_dims);
}

int64_t mr_linop_out_numel(const struct mr_linop *op)
{
    return mr_dims_numel(op->out_ndim, op->out_dims);
}

/* xorshift64*: a seeded start vector independent of libc */
static double rng_uniform(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545F4914F6CDD1Dull) >> 11) * (1.0 / 9007199254740992.0);
}

mr_status mr_linop_normal_max_eig(const struct mr_linop *op, int iters, uint64_t seed,
                                  double *out)
{
    mr_status st = MR_OK;
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1u;
    double eig = 0.0;

    MR_CHECK(mr_array_init(&x, MR_DTYPE_CF32, op->in_ndim, op->in_dims));
    MR_CHECK(mr_array_init(&y, MR_DTYPE_CF32, op->in_ndim, op->in_dims));
    float complex *px = mr_array_cf32(&x);
    for (int64_t i = 0; i < mr_array_numel(&x); i++)
        px[i] = (float)(rng_uniform(&s) - 0.5) + I * (float)(rng_uniform(&s) - 0.5);
    for (int it = 0; it < iters; it++) {
        double nx = mr_vec_norm(&x);
        if (nx == 0.0)
            break;
        mr_vec_scale(&x, (float)(1.0 / nx));
        mr_linop_normal(op, &y, &x);
        eig = mr_vec_dot_real(&x, &y); /* Rayleigh quotient, ||x|| = 1 */
        struct mr_array t = x;
        x = y;
        y = t;
    }
    *out = eig;
out:
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    return st;
}
