/*
 * One entry point for the classical reconstructions (classic.h): zero-filled RSS, SENSE
 * combination, CG-SENSE (Pruessmann et al., MRM 2001) and L1-wavelet CS (Lustig et al., MRM
 * 2007), all on the plan-once SENSE operator of recon/sense.h.
 */
#include "recon/classic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recon/cg.h"
#include "recon/combine.h"
#include "recon/linop.h"
#include "recon/sense.h"

const struct mr_classic_config mr_classic_config_default = {
    .method = MR_CLASSIC_CG,
    .fft = { .centered = true, .norm = MR_FFT_NORM_ORTHO },
    .cg_iters = 30,
    .cg_lambda = 0.01f,
    .cg_tol = 1e-4f,
    .cs = {
        .iters = 50,
        .lambda = 0.01f,
        .wavelet = { .kind = MR_WAVELET_HAAR, .levels = 4, .randshift = true, .seed = 1 },
    },
    .coils = { .window = 0.25f, .threshold = 0.05f, .refine = 2, .refine_size = 24,
               .refine_window = 1.0f },
};

static const char *const method_names[] = { "zf", "sense", "cg", "cs" };

mr_status mr_classic_method_parse(const char *s, enum mr_classic_method *out)
{
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
        if (strcmp(s, method_names[i]) == 0) {
            *out = (enum mr_classic_method)i;
            return MR_OK;
        }
    return MR_FAIL(MR_ERR_ARG, "unknown classical method '%s' (expected zf, sense, cg or cs)", s);
}

const char *mr_classic_method_name(enum mr_classic_method method)
{
    if ((int)method >= 0 && (size_t)method < sizeof(method_names) / sizeof(method_names[0]))
        return method_names[method];
    return "?";
}

struct mr_classic {
    struct mr_classic_config cfg;
    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_sense *sense;  /* FFT plan + encoding operator */
    struct mr_linop *op;     /* A, borrowing sense */
    struct mr_coils *coils;  /* NULL for zf */
    struct mr_cg *cg;        /* NULL unless cg */
    struct mr_cs *cs;        /* NULL unless cs */
    struct mr_array coil;    /* (C, H, W) zero-filled coil images */
    struct mr_array maps;    /* (C, H, W) estimated maps */
    struct mr_array ones;    /* (H, W) F32 fully sampled mask */
    struct mr_array b;       /* (H, W) A^H y for CG */
    const struct mr_array *last_maps;
};

mr_status mr_classic_create(int64_t nc, int64_t h, int64_t w, const struct mr_classic_config *cfg,
                            struct mr_classic **out)
{
    mr_status st = MR_OK;
    struct mr_classic *c = NULL;
    const int64_t img_dims[2] = { h, w };

    *out = NULL;
    if (nc < 1 || h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "classical reconstruction size %lld coils x %lldx%lld is "
                       "empty", (long long)nc, (long long)h, (long long)w);
    if ((int)cfg->method < 0 || (int)cfg->method > (int)MR_CLASSIC_CS)
        return MR_FAIL(MR_ERR_ARG, "unknown classical method %d", (int)cfg->method);
    if (cfg->cg_iters < 0 || !(cfg->cg_lambda >= 0.0f) || !(cfg->cg_tol >= 0.0f))
        return MR_FAIL(MR_ERR_ARG, "CG iterations %d, lambda %g and tolerance %g must be "
                       "non-negative", cfg->cg_iters, (double)cfg->cg_lambda,
                       (double)cfg->cg_tol);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "classical reconstruction context");
    c->cfg = *cfg;
    c->nc = nc;
    c->h = h;
    c->w = w;
    MR_CHECK(mr_sense_create(nc, h, w, &cfg->fft, &c->sense));
    MR_CHECK(mr_sense_linop_create(c->sense, &c->op));
    MR_CHECK(mr_array_init_dims(&c->coil, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&c->ones, MR_DTYPE_F32, 2, h, w));
    for (int64_t i = 0; i < h * w; i++)
        mr_array_f32(&c->ones)[i] = 1.0f;
    if (cfg->method != MR_CLASSIC_ZF && !cfg->maps_always_given) {
        MR_CHECK(mr_coils_create(nc, h, w, &cfg->fft, &c->coils));
        MR_CHECK(mr_array_init_dims(&c->maps, MR_DTYPE_CF32, 3, nc, h, w));
    }
    if (cfg->method == MR_CLASSIC_CG || cfg->method == MR_CLASSIC_CS) { /* CS: map refinement */
        MR_CHECK(mr_cg_create(2, img_dims, &c->cg));
        MR_CHECK(mr_array_init(&c->b, MR_DTYPE_CF32, 2, img_dims));
    }
    if (cfg->method == MR_CLASSIC_CS)
        MR_CHECK(mr_cs_create(h, w, &cfg->cs, &c->cs));
    *out = c;
    c = NULL;
out:
    mr_classic_free(c);
    return st;
}

void mr_classic_free(struct mr_classic *c)
{
    if (c == NULL)
        return;
    mr_linop_free(c->op);
    mr_sense_free(c->sense);
    mr_coils_free(c->coils);
    mr_cg_free(c->cg);
    mr_cs_free(c->cs);
    mr_array_cleanup(&c->coil);
    mr_array_cleanup(&c->maps);
    mr_array_cleanup(&c->ones);
    mr_array_cleanup(&c->b);
    free(c);
}

const struct mr_array *mr_classic_maps(const struct mr_classic *c)
{
    return c->last_maps;
}

static mr_status check_shape(const struct mr_array *a, const struct mr_array *like,
                             const char *what)
{
    char buf[2][128];
    if (!mr_array_same_shape(a, like))
        return MR_FAIL(MR_ERR_SHAPE, "%s is %s, expected %s", what,
                       mr_array_shape_str(a, buf[0], sizeof(buf[0])),
                       mr_array_shape_str(like, buf[1], sizeof(buf[1])));
    return MR_OK;
}

/* x = CG-SENSE solution for the plan's current maps and mask */
static mr_status cg_sense(struct mr_classic *c, const struct mr_array *ksp, struct mr_array *x)
{
    const double lip = mr_sense_lipschitz(c->sense);
    if (!(lip > 0.0))
        return MR_FAIL(MR_ERR_DATA, "CG-SENSE: the coil maps are all zero");
    const struct mr_cg_config cg = {
        .iters = c->cfg.cg_iters,
        .lambda = (float)((double)c->cfg.cg_lambda * lip),
        .tol = c->cfg.cg_tol,
    };
    mr_linop_adjoint(c->op, &c->b, ksp);
    mr_array_zero(x);
    return mr_cg_solve(c->cg, &cg, c->op, &c->b, x, NULL);
}

mr_status mr_classic_run(struct mr_classic *c, const struct mr_array *ksp,
                         const struct mr_array *mask, const struct mr_array *sens,
                         struct mr_array *out_img)
{
    mr_status st = MR_OK;
    const enum mr_classic_method method = c->cfg.method;
    const struct mr_array *m = mask != NULL ? mask : &c->ones;
    char buf[128];

    MR_CHECK(check_shape(ksp, &c->coil, "k-space"));
    if (out_img->dtype != MR_DTYPE_CF32 || out_img->ndim != 2 || out_img->dims[0] != c->h ||
        out_img->dims[1] != c->w) {
        st = MR_FAIL(MR_ERR_SHAPE, "output image is %s, expected (%lld, %lld) complex64",
                     mr_array_shape_str(out_img, buf, sizeof(buf)), (long long)c->h,
                     (long long)c->w);
        goto out;
    }
    MR_CHECK(mr_sense_set_mask(c->sense, m)); /* also validates the mask's shape */
    MR_CHECK(mr_array_check_finite(ksp, "k-space"));

    if (method == MR_CLASSIC_ZF) {
        mr_sense_coil_images(c->sense, &c->coil, ksp);
        mr_coil_rss(out_img, &c->coil, MR_COIL_SUM_DOUBLE);
        c->last_maps = NULL;
        goto out;
    }

    if (sens != NULL) {
        MR_CHECK(check_shape(sens, &c->coil, "coil maps"));
        MR_CHECK(mr_sense_set_maps(c->sense, sens));
    } else if (c->coils == NULL) {
        st = MR_FAIL(MR_ERR_ARG, "%s: this context was created for given coil maps, and none "
                     "were given", mr_classic_method_name(method));
        goto out;
    } else {
        MR_CHECK(mr_coils_estimate(c->coils, &c->cfg.coils, ksp, m, NULL, &c->maps));
        MR_CHECK(mr_sense_set_maps(c->sense, &c->maps));
        for (int r = 0; r < c->cfg.coils.refine && c->cg != NULL; r++) {
            MR_CHECK(cg_sense(c, ksp, out_img));
            MR_CHECK(mr_coils_refine(c->coils, &c->cfg.coils, ksp, m, out_img, &c->maps));
            MR_CHECK(mr_sense_set_maps(c->sense, &c->maps));
        }
    }
    c->last_maps = mr_sense_maps(c->sense);
    const double lip = mr_sense_lipschitz(c->sense);

    switch (method) {
    case MR_CLASSIC_ZF:
        break;
    case MR_CLASSIC_SENSE:
        mr_sense_coil_images(c->sense, &c->coil, ksp);
        mr_coil_sense_combine(out_img, &c->coil, c->last_maps);
        break;
    case MR_CLASSIC_CG:
        MR_CHECK(cg_sense(c, ksp, out_img));
        break;
    case MR_CLASSIC_CS:
        if (!(lip > 0.0)) {
            st = MR_FAIL(MR_ERR_DATA, "CS: the coil maps are all zero");
            goto out;
        }
        MR_CHECK(mr_cs_solve(c->cs, c->op, lip, mr_sense_sos(c->sense), ksp, out_img));
        break;
    }
out:
    return st;
}
