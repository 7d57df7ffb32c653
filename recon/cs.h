/*
 * Compressed sensing with a proximal prior (Lustig et al., MRM 58:1182, 2007), solved by FISTA
 * (Beck & Teboulle, SIAM J. Imaging Sci. 2:183, 2009):
 *
 *     min_x  ½ ||A x - y||² + λ R(x)
 *
 *     g_k     = A^H A z_k - A^H y
 *     x_{k+1} = prox_{τR}(z_k - s g_k),          τ = s λ, step s = 1/L, L >= ||A^H A||
 *     t_{k+1} = (1 + sqrt(1 + 4 t_k²)) / 2,      t_0 = 1
 *     z_{k+1} = x_{k+1} + ((t_k - 1)/t_{k+1}) (x_{k+1} - x_k)
 *
 * R is any recon/prior.h prior: the L1-wavelet prior (recon/wavelet.h: R = ||Ψ x||_1 with
 * random cycle-spinning shifts, like BART `pics -R W:...` with its default random shifts), or
 * a learned proximal network. L comes from the caller: mr_sense_lipschitz (an upper bound,
 * max Σ|S|² = 1 for an orthonormal FFT and normalised maps) or mr_linop_normal_max_eig.
 *
 * λ scaling (mr_cs_solve): the configured λ is relative, so one default works for every data
 * scale, FFT normalisation and map scaling. The threshold applied per iteration is
 *     τ = λ_rel · ref(|A^H y|) / L
 * with BART's data-scaling reference (pics normalises the data by it, then thresholds by
 * -r λ, so BART's λ values carry over): ref = p90 if max - p90 < 2 (p90 - median) else max,
 * percentiles of |A^H y| over all pixels (the 90th percentile, robust to a few bright pixels,
 * unless the distribution is so spread that the maximum is the better scale).
 */
#ifndef MR_RECON_CS_H
#define MR_RECON_CS_H

#include <stdint.h>

#include "recon/array.h"
#include "recon/linop.h"
#include "recon/prior.h"
#include "recon/wavelet.h"

/* ---- generic FISTA --------------------------------------------------------------------- */

struct mr_fista_config {
    int iters;
    float step;   /* s = 1/L */
    float lambda; /* absolute λ: the prox is called with τ = step · lambda */
    /* optional (H, W) F32, borrowed: after every prox x is set to 0 where support == 0. Pass
     * mr_sense_sos for maps cropped to the object: there A has a null space that the data never
     * constrain and the prior would otherwise fill with values smeared from the object edge.
     * NULL: no constraint. */
    const struct mr_array *support;
};

/* Work vectors (3 images) for one image shape. */
struct mr_fista;

/* Errors: MR_ERR_ARG (invalid shape), MR_ERR_NOMEM. */
mr_status mr_fista_create(int ndim, const int64_t *dims, struct mr_fista **out);
void mr_fista_free(struct mr_fista *f);

/*
 * Runs FISTA from the initial guess in x, with aty = A^H y precomputed (input shape of op).
 * Uses op's normal and the prior's prox; never allocates. Errors: MR_ERR_ARG (iters < 0,
 * step <= 0, λ < 0), MR_ERR_DATA (iterates stop being finite).
 */
mr_status mr_fista_solve(struct mr_fista *f, const struct mr_fista_config *cfg,
                         const struct mr_linop *op, const struct mr_prior *prior,
                         const struct mr_array *aty, struct mr_array *x);

/* ---- L1-wavelet compressed sensing ------------------------------------------------------- */

struct mr_cs_config {
    int iters;
    float lambda; /* relative λ (see above) */
    struct mr_wavelet_config wavelet;
};
/*
 * 50 iterations, λ_rel 0.01, Haar wavelet with 4 levels and random shifts. Chosen on the
 * bundled 8-coil brain (data/sample/brain8_full.h5, every 4th column + 8 centre columns, BART
 * ESPIRiT maps), NMSE vs the fully sampled RSS after least-squares scaling, 30 iterations:
 * Haar 0.0142, db2 0.0148, db4 0.0158 (BART pics -l1 -r 0.01: 0.0148); λ 0.005 / 0.02 are
 * worse for every filter; 50 -> 100 iterations gains < 3 %. Levels 3/4/5: 0.0150/0.0142/0.0140.
 */
extern const struct mr_cs_config mr_cs_config_default;

/* A CS solver for h×w images: the wavelet prior, FISTA work vectors, and scratch for A^H y. */
struct mr_cs;

/* Errors: MR_ERR_ARG (size, iterations < 0, λ < 0, wavelet settings), MR_ERR_NOMEM. */
mr_status mr_cs_create(int64_t h, int64_t w, const struct mr_cs_config *cfg, struct mr_cs **out);
void mr_cs_free(struct mr_cs *cs);

/*
 * x (H, W) = argmin ½||A x - y||² + λ ||Ψ x||_1 (x = 0 outside `support`) by FISTA from x = 0,
 * with A: (H, W) -> Y a linear operator (typically mr_sense_linop_create), y in Y,
 * L >= ||A^H A||, and support as in mr_fista_config (NULL: none). Errors: MR_ERR_ARG (L not
 * positive), MR_ERR_DATA (y gives a zero or non-finite A^H y, or the iterates diverge).
 */
mr_status mr_cs_solve(struct mr_cs *cs, const struct mr_linop *op, double lipschitz,
                      const struct mr_array *support, const struct mr_array *y,
                      struct mr_array *x);

/* The q-quantile (0..1, nearest rank) of |x| over all elements (scratch: numel(x) floats;
 * x CF32). */
double mr_cs_quantile_abs(const struct mr_array *x, double q, float *scratch);

/* BART's scale reference of an image: p90 if max - p90 < 2 (p90 - median), else max, of |x|
 * (scratch: numel(x) floats). */
double mr_cs_scale_reference(const struct mr_array *x, float *scratch);

#endif
