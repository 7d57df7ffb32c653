/*
 * ESPIRiT coil maps (Uecker et al., MRM 71:990, 2014), the computation of BART 0.8's
 * `bart ecalib -m1` (src/calib/calib.c, calmat.c, cc.c; see espirit.h for the steps).
 *
 * Where we differ from BART in how, not what:
 *   - the per-pixel matrices M(x) are evaluated exactly from their Fourier coefficients (the
 *     diagonal sums of the signal-space projector) instead of an FFT to a 2·kernel grid,
 *     Gram matrices there and sinc interpolation to full size: same numbers, no FFT plans
 *     and no (C(C+1)/2, H, W) intermediate;
 *   - the calibration matrix's singular vectors come from a Hermitian eigen solver written
 *     here (Householder tridiagonalisation + implicit QL, double precision) applied to the
 *     smaller of A^H A and A A^H, instead of LAPACK's cheev on A^H A;
 *   - the calibration block is always centred (BART also slides it along its first axis to
 *     the position of most energy, which is the centre for centred, ACS-sampled data).
 *
 * This file checks the arguments and runs the steps; espirit_internal.h names the file of
 * each concern.
 */
#include "recon/espirit.h"

#include <complex.h>
#include <stdlib.h>
#include <string.h>

#include "recon/espirit_internal.h"

const struct mr_espirit_config mr_espirit_config_default = {
    .calib = { 24, 24 },
    .kernel = { 6, 6 },
    .threshold = 0.001f,
    .crop = 0.8f,
    .soft_crop = false,
    .iters = 30,
    .rotate_phase = true,
};

static mr_status check_args(const struct mr_espirit_config *cfg, const struct mr_array *ksp,
                            const struct mr_array *sens)
{
    char b1[96];
    char b2[96];

    if (ksp->dtype != MR_DTYPE_CF32 || ksp->ndim != 3 || ksp->dims[0] < 1)
        return MR_FAIL(MR_ERR_SHAPE, "ESPIRiT k-space must be complex64 (coils, H, W), got %s",
                       mr_array_shape_str(ksp, b1, sizeof(b1)));
    if (!mr_array_same_shape(ksp, sens))
        return MR_FAIL(MR_ERR_SHAPE, "ESPIRiT maps %s do not match k-space %s",
                       mr_array_shape_str(sens, b1, sizeof(b1)),
                       mr_array_shape_str(ksp, b2, sizeof(b2)));
    for (int i = 0; i < 2; i++) {
        if (cfg->kernel[i] < 1 || cfg->calib[i] < cfg->kernel[i])
            return MR_FAIL(MR_ERR_ARG,
                           "ESPIRiT kernel %lldx%lld and calibration size %lldx%lld: need "
                           "1 <= kernel <= calibration size",
                           (long long)cfg->kernel[0], (long long)cfg->kernel[1],
                           (long long)cfg->calib[0], (long long)cfg->calib[1]);
        if (cfg->kernel[i] > ksp->dims[1 + i])
            return MR_FAIL(MR_ERR_SHAPE, "ESPIRiT kernel %lldx%lld is larger than k-space %s",
                           (long long)cfg->kernel[0], (long long)cfg->kernel[1],
                           mr_array_shape_str(ksp, b1, sizeof(b1)));
    }
    if (!(cfg->threshold >= 0.0f && cfg->threshold <= 1.0f))
        return MR_FAIL(MR_ERR_ARG, "ESPIRiT threshold %g is outside [0, 1]",
                       (double)cfg->threshold);
    if (!(cfg->crop >= 0.0f && cfg->crop < 1.0f))
        return MR_FAIL(MR_ERR_ARG, "ESPIRiT crop %g is outside [0, 1)", (double)cfg->crop);
    if (cfg->iters < 1)
        return MR_FAIL(MR_ERR_ARG, "ESPIRiT needs at least one power iteration, got %d",
                       cfg->iters);
    return MR_OK;
}

mr_status mr_espirit_maps(const struct mr_espirit_config *cfg, const struct mr_array *ksp,
                          struct mr_array *sens)
{
    mr_status st = MR_OK;
    float complex *cal = NULL;
    double complex *proj = NULL;
    float complex *ref = NULL;

    MR_CHECK(check_args(cfg, ksp, sens));
    MR_CHECK(mr_array_check_finite(ksp, "ESPIRiT k-space"));

    const int64_t nc = ksp->dims[0];
    const int64_t h = ksp->dims[1];
    const int64_t w = ksp->dims[2];
    const int64_t nn = nc * cfg->kernel[0] * cfg->kernel[1];
    int64_t pos[2] = { 0, 0 };
    int64_t size[2] = { 1, 1 };

    MR_CHECK(mr_espirit_find_calib(cfg, ksp, pos, size));
    cal = malloc(sizeof(*cal) * (size_t)(nc * size[0] * size[1]));
    proj = malloc(sizeof(*proj) * (size_t)(nn * nn));
    ref = malloc(sizeof(*ref) * (size_t)nc);
    if (cal == NULL || proj == NULL || ref == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ESPIRiT work arrays for %lld coils", (long long)nc);
        goto out;
    }
    const float complex *k = mr_array_cf32(ksp);
    for (int64_t c = 0; c < nc; c++)
        for (int64_t y = 0; y < size[0]; y++)
            memcpy(cal + (c * size[0] + y) * size[1],
                   k + (c * h + pos[0] + y) * w + pos[1], sizeof(*cal) * (size_t)size[1]);

    MR_CHECK(mr_espirit_signal_projector(cfg, cal, nc, size, proj));
    if (cfg->rotate_phase) {
        MR_CHECK(mr_espirit_principal_coil(cal, nc, size[0] * size[1], ref));
    } else {
        for (int64_t c = 0; c < nc; c++)
            ref[c] = c == 0 ? 1.0f : 0.0f;
    }
    MR_CHECK(mr_espirit_maps_from_projector(cfg, proj, ref, sens));
out:
    free(cal);
    free(proj);
    free(ref);
    return st;
}
