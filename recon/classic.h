/*
 * Classical (non-learned) reconstructions behind one entry point for the apps:
 *
 *   zf     root sum of squares of the zero-filled coil images, RSS_c(IFFT(ksp_c)), returned as
 *          CF32 with a zero imaginary part (no maps needed; sens is ignored)
 *   sense  SENSE (Roemer) combination of the zero-filled coil images,
 *          Σ conj(S_c) IFFT(ksp_c) / Σ |S_c|²   (complex)
 *   cg     CG-SENSE: (A^H A + λ_abs I) x = A^H y by conjugate gradients from x = 0
 *          (recon/cg.h), λ_abs = cg_lambda · L
 *   cs     L1-wavelet CS by FISTA (recon/cs.h), λ relative as documented there
 *
 * with A the SENSE operator of recon/sense.h for the configured FFT and the given mask, and
 * L = mr_sense_lipschitz (||A^H A||, = 1 for an orthonormal FFT and normalised maps). With
 * relative λs every method is invariant to the k-space scale: scaling ksp by a scales the
 * output by a. All outputs have the units of the zero-filled image (for an orthonormal FFT and
 * maps with Σ|S|² = 1, |x| ≈ RSS).
 *
 * Maps: (C, H, W) CF32 from anywhere (recon/coils.h, recon/espirit.h, a file); NULL makes the
 * context estimate them from the ACS with recon/coils.h (the `coils` config; not in a context
 * created with maps_always_given, where NULL maps are an MR_ERR_ARG), for every
 * method but zf; for cg and cs the estimate is then refined `coils.refine` times, each round
 * one CG-SENSE solve plus mr_coils_refine (so a run without maps costs refine + 1 solves).
 * Maps should be normalised (Σ_c |S_c|² = 1 inside the object, 0 outside).
 *
 * k-space is (C, H, W) CF32 and should be zero where the mask is zero: zf and sense use it
 * as given, cg and cs multiply it by the mask (A^H y). The mask is (H, W) F32 (or (W) / (1, W)
 * for a column pattern), nonzero = sampled; NULL means fully sampled.
 *
 * A context holds every plan and buffer for one (C, H, W) size and method, made once by
 * mr_classic_create; mr_classic_run never allocates. One context per thread.
 */
#ifndef MR_RECON_CLASSIC_H
#define MR_RECON_CLASSIC_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/coils.h"
#include "recon/cs.h"
#include "recon/fft.h"

enum mr_classic_method {
    MR_CLASSIC_ZF = 0,
    MR_CLASSIC_SENSE = 1,
    MR_CLASSIC_CG = 2,
    MR_CLASSIC_CS = 3,
};

/* Parses "zf" | "sense" | "cg" | "cs". Errors: MR_ERR_ARG. */
mr_status mr_classic_method_parse(const char *s, enum mr_classic_method *out);
const char *mr_classic_method_name(enum mr_classic_method method);

struct mr_classic_config {
    enum mr_classic_method method;
    struct mr_fft_config fft;
    int cg_iters;
    float cg_lambda; /* relative Tikhonov weight: λ_abs = cg_lambda · ||A^H A|| */
    float cg_tol;    /* relative residual at which CG stops early */
    struct mr_cs_config cs;
    struct mr_coils_config coils; /* used when maps are not given */
    bool maps_always_given; /* every run passes maps: no estimator buffers (3 coil-sized arrays) */
};
/*
 * cg, centred ortho FFT, CG 30 iterations / λ 0.01 / tol 1e-4, mr_cs_config_default (50
 * iterations, λ 0.01, Haar), mr_coils_config_default. CG λ: on the bundled 8-coil brain at 4x
 * (30 iterations, BART ESPIRiT maps) λ 0.003 / 0.01 / 0.03 / 0.1 give NMSE 0.032 / 0.0217 /
 * 0.025 / 0.040 (BART pics -l2 -r 0.01: 0.0218), and 30 iterations converge (tol 1e-4).
 */
extern const struct mr_classic_config mr_classic_config_default;

struct mr_classic;

/* Errors: MR_ERR_ARG (a size < 1, unknown method, invalid iterations/λ), MR_ERR_NOMEM. */
mr_status mr_classic_create(int64_t nc, int64_t h, int64_t w, const struct mr_classic_config *cfg,
                            struct mr_classic **out);
void mr_classic_free(struct mr_classic *ctx);

/*
 * out_img (H, W) CF32 = the configured reconstruction of ksp (C, H, W) CF32 with mask and
 * sens (either may be NULL, see above). Errors: MR_ERR_SHAPE (any array of the wrong shape or
 * dtype), MR_ERR_DATA (non-finite k-space or maps, no calibration region when maps must be
 * estimated, zero data), MR_ERR_ARG (as the solvers).
 */
mr_status mr_classic_run(struct mr_classic *ctx, const struct mr_array *ksp,
                         const struct mr_array *mask, const struct mr_array *sens,
                         struct mr_array *out_img);

/* The maps used by the last run (given or estimated), (C, H, W) CF32, borrowed. */
const struct mr_array *mr_classic_maps(const struct mr_classic *ctx);

#endif
