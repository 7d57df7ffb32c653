/*
 * fastMRI and ATOMMIC mask generators (../shared/specs/sampling.md §1, §2), re-implemented
 * from the specification so that, given the same numpy RandomState stream, they return the
 * same masks bit for bit:
 *   fastMRI: Zbontar et al., "fastMRI: An Open Dataset and Benchmarks for Accelerated MRI",
 *            arXiv:1811.08839 (random / equispaced column masks);
 *            Defazio, "Offset Sampling Improves Deep Learning based Accelerated MRI
 *            Reconstructions by Exploiting Symmetry", arXiv:1912.01101 (magic masks);
 *   ATOMMIC: Karkalousos et al., "ATOMMIC", arXiv:2404.19665 (Gaussian, Poisson-disc masks,
 *            the latter after SigPy's poisson(), Bridson 2007).
 * Every floating-point expression follows the reference's evaluation order (numpy/Python
 * doubles): these masks are decided by comparisons against random numbers, so the arithmetic
 * has to be the same, not just close.
 */
#include "sampling/mask.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recon/array.h"
#include "recon/fft.h"

const struct mr_poisson2d_config mr_poisson2d_config_default = {
    .center_scale = 0.02,
    .calib = { 0.0, 0.0 },
    .crop_corner = true,
    .max_attempts = 30,
    .tol = 0.3,
};

/* Python round() / numpy.around: half to even */
static double rhe(double x)
{
    return nearbyint(x);
}

/* numpy's pairwise summation of a contiguous float64 array (np.sum), bit for bit */
static double np_sum(const double *a, int64_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (int64_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        int64_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return np_sum(a, n2) + np_sum(a + n2, n - n2);
}

void mr_mask_choose(struct mr_rng *rng, int ncf, const double *cfs, int nacc, const double *accs,
                    bool any_combination, double *cf, double *acc)
{
    MR_ASSERT(ncf >= 1 && nacc >= 1);
    if (any_combination) {
        *cf = cfs[mr_rng_randint(rng, ncf)];
        *acc = accs[mr_rng_randint(rng, nacc)];
        return;
    }
    MR_ASSERT(ncf == nacc);
    int64_t i = mr_rng_randint(rng, ncf);
    *cf = cfs[i];
    *acc = accs[i];
}

static mr_status check_cf(const char *who, double cf)
{
    if (!(cf >= 0.0 && cf <= 1.0))
        return MR_FAIL(MR_ERR_ARG, "%s: centre fraction %g is outside [0, 1]", who, cf);
    return MR_OK;
}

/* centre block of nlow columns (fastMRI calculate_center_mask) */
static void center_block(float *mask, int64_t n, int64_t nlow)
{
    int64_t pad = (n - nlow + 1) / 2;
    for (int64_t j = pad; j < pad + nlow; j++)
        mask[j] = 1.0f;
}

mr_status mr_mask_center_1d(float *mask, int64_t n, double cf, int64_t *nlow)
{
    mr_status st = check_cf("centre mask", cf);
    if (st != MR_OK)
        return st;
    if (n < 1)
        return MR_FAIL(MR_ERR_ARG, "centre mask: %lld columns", (long long)n);
    int64_t nl = (int64_t)rhe((double)n * cf);
    memset(mask, 0, sizeof(float) * (size_t)n);
    center_block(mask, n, nl);
    if (nlow != NULL)
        *nlow = nl;
    return MR_OK;
}

mr_status mr_mask_fastmri_random(float *mask, int64_t n, double cf, double acc,
                                 struct mr_rng *rng, int64_t *nlow)
{
    int64_t nl;
    if (!(acc > 0.0))
        return MR_FAIL(MR_ERR_ARG, "random mask: acceleration %g must be > 0", acc);
    mr_status st = mr_mask_center_1d(mask, n, cf, &nl);
    if (st != MR_OK)
        return st;
    if (nl >= n)
        return MR_FAIL(MR_ERR_ARG, "random mask: the centre (%lld columns) covers all %lld",
                       (long long)nl, (long long)n);
    double prob = ((double)n / acc - (double)nl) / (double)(n - nl);
    for (int64_t j = 0; j < n; j++)
        if (mr_rng_uniform(rng) < prob)
            mask[j] = 1.0f; /* OR with the centre drawn before */
    if (nlow != NULL)
        *nlow = nl;
    return MR_OK;
}

static mr_status integer_accel(const char *who, double acc)
{
    if (!(acc >= 1.0 && acc == floor(acc) && acc < 1e9))
        return MR_FAIL(MR_ERR_ARG, "%s: acceleration %g must be a positive integer", who, acc);
    return MR_OK;
}

mr_status mr_mask_fastmri_equispaced(float *mask, int64_t n, double cf, double acc,
                                     int64_t offset, struct mr_rng *rng, int64_t *nlow)
{
    int64_t nl;
    mr_status st = integer_accel("equispaced mask", acc);
    if (st != MR_OK)
        return st;
    st = mr_mask_center_1d(mask, n, cf, &nl);
    if (st != MR_OK)
        return st;
    int64_t step = (int64_t)acc;
    if (offset < 0)
        offset = mr_rng_randint(rng, (int64_t)rhe(acc));
    for (int64_t j = offset; j < n; j += step)
        mask[j] = 1.0f;
    if (nlow != NULL)
        *nlow = nl;
    return MR_OK;
}

mr_status mr_mask_fastmri_equispaced_fraction(float *mask, int64_t n, double cf, double acc,
                                              int64_t offset, struct mr_rng *rng,
                                              int64_t *nlow)
{
    int64_t nl;
    if (n < 2)
        return MR_FAIL(MR_ERR_ARG, "equispaced-fraction mask: %lld columns", (long long)n);
    if (!(acc > 1.0))
        return MR_FAIL(MR_ERR_ARG, "equispaced-fraction mask: acceleration %g must be > 1", acc);
    mr_status st = mr_mask_center_1d(mask, n, cf, &nl);
    if (st != MR_OK)
        return st;
    if (!((double)nl * acc < (double)n))
        return MR_FAIL(MR_ERR_ARG, "equispaced-fraction mask: centre of %lld columns already "
                       "reaches acceleration %g on %lld columns", (long long)nl, acc,
                       (long long)n);
    /* Python: (acc * (nlow - n)) / (nlow * acc - n) */
    double adj = (acc * (double)(nl - n)) / ((double)nl * acc - (double)n);
    if (offset < 0) {
        double hi = rhe(adj);
        if (hi < 1.0)
            return MR_FAIL(MR_ERR_ARG, "equispaced-fraction mask: spacing %g rounds to 0", adj);
        offset = mr_rng_randint(rng, (int64_t)hi);
    }
    /* numpy.arange(offset, n - 1, adj): length ceil((stop - start) / step); element 0 =
     * start, element 1 = start + step, element i >= 2 = start + i * (element1 - element0) */
    double len = ceil((double)(n - 1 - offset) / adj);
    double start = (double)offset;
    double delta = (start + adj) - start;
    for (int64_t i = 0; i < (int64_t)len; i++) {
        double pos = i == 0 ? start : i == 1 ? start + adj : start + (double)i * delta;
        int64_t j = (int64_t)rhe(pos);
        if (j >= 0 && j < n)
            mask[j] = 1.0f;
    }
    if (nlow != NULL)
        *nlow = nl;
    return MR_OK;
}

/* MagicMaskFunc.calculate_acceleration_mask: OR-ed into mask */
static void magic_columns(float *mask, int64_t n, int64_t step, int64_t offset)
{
    int64_t off_pos = offset % 2 == 0 ? offset + 1 : offset + 2;
    int64_t off_neg = offset % 2 == 0 ? offset + 2 : offset - 1;
    int64_t poslen = (n + 1) / 2;
    int64_t neglen = n - poslen;

    /* concatenated vector v: v[j] = pos[j] (j < poslen), v[poslen + k] = neg[neglen - 1 - k] */
    for (int64_t j = off_pos; j < poslen; j += step)
        mask[mr_fft_centred_index(j, n)] = 1.0f; /* fftshift */
    for (int64_t m = off_neg; m < neglen; m += step) {
        int64_t j = poslen + (neglen - 1 - m);
        mask[mr_fft_centred_index(j, n)] = 1.0f; /* fftshift */
    }
}

mr_status mr_mask_fastmri_magic(float *mask, int64_t n, double cf, double acc, int64_t offset,
                                struct mr_rng *rng, int64_t *nlow)
{
    int64_t nl;
    mr_status st = integer_accel("magic mask", acc);
    if (st != MR_OK)
        return st;
    st = mr_mask_center_1d(mask, n, cf, &nl);
    if (st != MR_OK)
        return st;
    if (offset < 0)
        offset = mr_rng_randint(rng, (int64_t)acc);
    magic_columns(mask, n, (int64_t)acc, offset);
    if (nlow != NULL)
        *nlow = nl;
    return MR_OK;
}

mr_status mr_mask_fastmri_magic_fraction(float *mask, int64_t n, double cf, double acc,
                                         int64_t offset, struct mr_rng *rng, int64_t *nlow)
{
    mr_status st = check_cf("magic-fraction mask", cf);
    if (st != MR_OK)
        return st;
    if (n < 1 || !(acc > 0.0))
        return MR_FAIL(MR_ERR_ARG, "magic-fraction mask: %lld columns, acceleration %g",
                       (long long)n, acc);
    int64_t nl = (int64_t)rhe((double)n * cf);
    int64_t target = (int64_t)rhe((double)n / acc);
    if (nl > target)
        nl = target;
    if (nl < 1)
        nl = 1;
    int64_t rest = target - nl;
    if (rest <= 0)
        return MR_FAIL(MR_ERR_ARG, "magic-fraction mask: no columns left outside the centre "
                       "(%lld columns, acceleration %g)", (long long)n, acc);
    int64_t step = (int64_t)rhe((double)n / (double)rest);
    memset(mask, 0, sizeof(float) * (size_t)n);
    center_block(mask, n, nl);
    if (offset < 0)
        offset = mr_rng_randint(rng, step);
    magic_columns(mask, n, step, offset);
    if (nlow != NULL)
        *nlow = nl;
    return MR_OK;
}

mr_status mr_mask_atommic_equispaced_2d(float *mask, int64_t h, int64_t w, double cf, double acc,
                                        double *acc_out)
{
    mr_status st = check_cf("equispaced-2d mask", cf);
    if (st != MR_OK)
        return st;
    if (h < 1 || w < 1 || !(acc >= 2.0))
        return MR_FAIL(MR_ERR_ARG, "equispaced-2d mask: size %lldx%lld, acceleration %g (>= 2)",
                       (long long)h, (long long)w, acc);
    int64_t step = (int64_t)(acc / 2.0);
    double cf2 = cf / 2.0;
    int64_t ncl = (int64_t)rhe((double)w * cf2);
    int64_t nrl = (int64_t)rhe((double)h * cf2);
    int64_t pc = (w - ncl + 1) / 2;
    int64_t pr = (h - nrl + 1) / 2;

    memset(mask, 0, sizeof(float) * (size_t)(h * w));
    for (int64_t r = pr; r < pr + nrl; r++)
        for (int64_t c = pc; c < pc + ncl; c++)
            mask[r * w + c] = 1.0f;
    for (int64_t r = 0; r < h; r += step)
        for (int64_t c = 0; c < w; c += step)
            mask[r * w + c] = 1.0f;
    if (acc_out != NULL)
        *acc_out = (double)(2 * step);
    return MR_OK;
}

/* g_i = exp(-(x_i^2 / (2 sigma^2))), x = numpy.linspace(-1, 1, n) */
static void gaussian_profile(double *g, int64_t n, double fwhm)
{
    double sigma = fwhm / sqrt(8.0 * log(2.0));
    double two_s2 = 2.0 * (sigma * sigma);
    double step = 2.0 / (double)(n - 1);
    for (int64_t i = 0; i < n; i++) {
        double x = i == n - 1 ? 1.0 : (double)i * step + -1.0;
        g[i] = exp(-(x * x / two_s2));
    }
}

static mr_status gaussian_args(const char *who, int64_t h, int64_t w, double fwhm, double acc)
{
    if (h < 2 || w < 2 || !(fwhm > 0.0) || !(acc > 0.0))
        return MR_FAIL(MR_ERR_ARG, "%s: size %lldx%lld (>= 2), fwhm %g and acceleration %g "
                       "(> 0)", who, (long long)h, (long long)w, fwhm, acc);
    return MR_OK;
}

mr_status mr_mask_gaussian_1d(float *mask, int64_t w, double fwhm, double acc,
                              double center_scale, struct mr_rng *rng)
{
    mr_status st = gaussian_args("gaussian-1d mask", 2, w, fwhm, acc);
    double *p = NULL;
    int64_t *idx = NULL;
    float *tmp = NULL;

    if (st != MR_OK)
        return st;
    int64_t ns = (int64_t)((double)w / acc);
    p = malloc(sizeof(double) * (size_t)w);
    idx = malloc(sizeof(int64_t) * (size_t)(ns > 0 ? ns : 1));
    tmp = calloc((size_t)w, sizeof(float));
    if (p == NULL || idx == NULL || tmp == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "gaussian-1d mask of %lld columns", (long long)w);
        goto out;
    }
    gaussian_profile(p, w, fwhm);
    double sum = np_sum(p, w);
    for (int64_t i = 0; i < w; i++)
        p[i] = p[i] / sum;

    int64_t band = (int64_t)((double)w * center_scale);
    int64_t top = (w - band) / 2;
    for (int64_t i = top; i < top + band; i++)
        tmp[i] = 1.0f;
    MR_CHECK(mr_rng_choice_p(rng, w, p, ns, idx));
    for (int64_t k = 0; k < ns; k++)
        tmp[idx[k]] = 1.0f;
    /* three ifftshifts: ifftshift(x)[i] = x[mr_fft_centred_index(i, w)] */
    for (int64_t i = 0; i < w; i++) {
        const int64_t once = mr_fft_centred_index(i, w);
        mask[i] = tmp[mr_fft_centred_index(mr_fft_centred_index(once, w), w)];
    }
out:
    free(p);
    free(idx);
    free(tmp);
    return st;
}

mr_status mr_mask_gaussian_2d(float *mask, int64_t h, int64_t w, double fwhm, double acc,
                              double center_scale, struct mr_rng *rng)
{
    mr_status st = gaussian_args("gaussian-2d mask", h, w, fwhm, acc);
    double *gh = NULL;
    double *gw = NULL;
    double *k = NULL;
    int64_t *idx = NULL;

    if (st != MR_OK)
        return st;
    int64_t n = h * w;
    int64_t ns = (int64_t)((double)h * (double)w / acc);
    gh = malloc(sizeof(double) * (size_t)h);
    gw = malloc(sizeof(double) * (size_t)w);
    k = malloc(sizeof(double) * (size_t)n);
    idx = malloc(sizeof(int64_t) * (size_t)(ns > 0 ? ns : 1));
    if (gh == NULL || gw == NULL || k == NULL || idx == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "gaussian-2d mask of %lldx%lld", (long long)h, (long long)w);
        goto out;
    }
    gaussian_profile(gh, h, fwhm);
    gaussian_profile(gw, w, fwhm);
    for (int64_t r = 0; r < h; r++)
        for (int64_t c = 0; c < w; c++)
            k[r * w + c] = sqrt(gh[r] * gw[c]);
    double sum = np_sum(k, n);
    for (int64_t i = 0; i < n; i++)
        k[i] = k[i] / sum;

    double a = center_scale * (double)h;
    double b = center_scale * (double)w;
    double af = (double)h / 2.0;
    double bf = (double)w / 2.0;
    for (int64_t r = 0; r < h; r++)
        for (int64_t c = 0; c < w; c++) {
            double u = ((double)r - af) / a;
            double v = ((double)c - bf) / b;
            mask[r * w + c] = u * u + v * v < 1.0 ? 1.0f : 0.0f;
        }
    MR_CHECK(mr_rng_choice_p(rng, n, k, ns, idx));
    for (int64_t i = 0; i < ns; i++)
        mask[idx[i]] = 1.0f;
out:
    free(gh);
    free(gw);
    free(k);
    free(idx);
    return st;
}

/* One Poisson-disc pattern (ATOMMIC generate_poisson_mask): Bridson's dart throwing with an
 * anisotropic per-pixel radius; candidates at distance sqrt(1 + 3u) radii, angle 2πu. */
struct active_list {
    int32_t *x;
    int32_t *y;
    int64_t cap;
};

/* Accepted points are tested against sampled pixels, not against each other, so several can
 * land in one pixel: the list grows instead of assuming at most h*w entries. */
static mr_status active_push(struct active_list *a, int64_t i, int32_t x, int32_t y)
{
    if (i == a->cap) {
        int64_t cap = 2 * a->cap;
        int32_t *nx = realloc(a->x, sizeof(int32_t) * (size_t)cap);
        if (nx != NULL)
            a->x = nx;
        int32_t *ny = realloc(a->y, sizeof(int32_t) * (size_t)cap);
        if (ny != NULL)
            a->y = ny;
        if (nx == NULL || ny == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "poisson-2d active list of %lld points",
                           (long long)cap);
        a->cap = cap;
    }
    a->x[i] = x;
    a->y[i] = y;
    return MR_OK;
}

static mr_status poisson_pattern(float *mask, int64_t nx, int64_t ny, int max_attempts,
                                 const double *rad_x, const double *rad_y,
                                 const double calib[2], struct active_list *act,
                                 struct mr_rng *rng)
{
    memset(mask, 0, sizeof(float) * (size_t)(nx * ny));
    int64_t r0 = (int64_t)((double)ny / 2.0 - calib[0] / 2.0);
    int64_t r1 = (int64_t)((double)ny / 2.0 + calib[0] / 2.0);
    int64_t c0 = (int64_t)((double)nx / 2.0 - calib[1] / 2.0);
    int64_t c1 = (int64_t)((double)nx / 2.0 + calib[1] / 2.0);
    for (int64_t y = r0 > 0 ? r0 : 0; y < r1 && y < ny; y++)
        for (int64_t x = c0 > 0 ? c0 : 0; x < c1 && x < nx; x++)
            mask[y * nx + x] = 1.0f;

    int32_t *pxs = act->x;
    int32_t *pys = act->y;
    pxs[0] = (int32_t)mr_rng_randint(rng, nx);
    pys[0] = (int32_t)mr_rng_randint(rng, ny);
    int64_t nact = 1;
    while (nact > 0) {
        int64_t i = mr_rng_randint(rng, nact);
        int32_t px = pxs[i];
        int32_t py = pys[i];
        double rx = rad_x[py * nx + px];
        double ry = rad_y[py * nx + px];
        bool done = false;
        double qx = 0.0;
        double qy = 0.0;
        for (int k = 0; !done && k < max_attempts; k++) {
            double v = pow(mr_rng_uniform(rng) * 3.0 + 1.0, 0.5);
            double t = 2.0 * M_PI * mr_rng_uniform(rng);
            qx = (double)px + v * rx * cos(t);
            qy = (double)py + v * ry * sin(t);
            if (!(qx >= 0.0 && qx < (double)nx && qy >= 0.0 && qy < (double)ny))
                continue;
            int64_t sx = (int64_t)(qx - rx);
            int64_t ex = (int64_t)(qx + rx + 1.0);
            int64_t sy = (int64_t)(qy - ry);
            int64_t ey = (int64_t)(qy + ry + 1.0);
            sx = sx > 0 ? sx : 0;
            sy = sy > 0 ? sy : 0;
            ex = ex < nx ? ex : nx;
            ey = ey < ny ? ey : ny;
            done = true;
            for (int64_t x = sx; x < ex && done; x++)
                for (int64_t y = sy; y < ey; y++) {
                    if (mask[y * nx + x] != 1.0f)
                        continue;
                    double dx = (qx - (double)x) / rad_x[y * nx + x];
                    double dy = (qy - (double)y) / rad_y[y * nx + x];
                    if (dx * dx + dy * dy < 1.0) {
                        done = false;
                        break;
                    }
                }
        }
        if (done) {
            mr_status st = active_push(act, nact, (int32_t)qx, (int32_t)qy);
            if (st != MR_OK)
                return st;
            pxs = act->x;
            pys = act->y;
            mask[(int64_t)qy * nx + (int64_t)qx] = 1.0f;
            nact++;
        } else {
            pxs[i] = pxs[nact - 1];
            pys[i] = pys[nact - 1];
            nact--;
        }
    }
    return MR_OK;
}

mr_status mr_mask_poisson_2d(float *mask, int64_t h, int64_t w, double acc,
                             const struct mr_poisson2d_config *cfg, struct mr_rng *rng,
                             double *acc_out)
{
    mr_status st = MR_OK;
    const int64_t nx = w;
    const int64_t ny = h;
    double *r = NULL;
    double *rad_x = NULL;
    double *rad_y = NULL;
    struct active_list act = { .x = NULL, .y = NULL, .cap = 0 };

    if (h < 2 || w < 2 || !(acc > 1.0) || cfg->max_attempts < 1)
        return MR_FAIL(MR_ERR_ARG, "poisson-2d mask: size %lldx%lld (>= 2), acceleration %g "
                       "(> 1)", (long long)h, (long long)w, acc);
    int64_t n = h * w;
    r = malloc(sizeof(double) * (size_t)n);
    rad_x = malloc(sizeof(double) * (size_t)n);
    rad_y = malloc(sizeof(double) * (size_t)n);
    act.cap = n + 1;
    act.x = malloc(sizeof(int32_t) * (size_t)act.cap);
    act.y = malloc(sizeof(int32_t) * (size_t)act.cap);
    if (r == NULL || rad_x == NULL || rad_y == NULL || act.x == NULL || act.y == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "poisson-2d mask of %lldx%lld", (long long)h, (long long)w);
        goto out;
    }

    /* normalised radius: x = max(|x - nx/2| - calib_x/2, 0) / max(...), same for y */
    double xmax = 0.0;
    double ymax = 0.0;
    for (int64_t x = 0; x < nx; x++)
        xmax = fmax(xmax, fmax(fabs((double)x - (double)nx / 2.0) - cfg->calib[1] / 2.0, 0.0));
    for (int64_t y = 0; y < ny; y++)
        ymax = fmax(ymax, fmax(fabs((double)y - (double)ny / 2.0) - cfg->calib[0] / 2.0, 0.0));
    for (int64_t y = 0; y < ny; y++)
        for (int64_t x = 0; x < nx; x++) {
            double xv = fmax(fabs((double)x - (double)nx / 2.0) - cfg->calib[1] / 2.0, 0.0);
            double yv = fmax(fabs((double)y - (double)ny / 2.0) - cfg->calib[0] / 2.0, 0.0);
            r[y * nx + x] = hypot(xv / xmax, yv / ymax);
        }

    double smax = 40.0;
    double smin = 0.0;
    double d = (double)(nx > ny ? nx : ny);
    double actual = 0.0;
    while (smin < smax) {
        double slope = (smax + smin) / 2.0;
        for (int64_t i = 0; i < n; i++) {
            rad_x[i] = fmax((1.0 + r[i] * slope) * (double)nx / d, 1.0);
            rad_y[i] = fmax((1.0 + r[i] * slope) * (double)ny / d, 1.0);
        }
        MR_CHECK(poisson_pattern(mask, nx, ny, cfg->max_attempts, rad_x, rad_y, cfg->calib, &act,
                                 rng));
        double count = 0.0;
        for (int64_t i = 0; i < n; i++) {
            if (cfg->crop_corner && !(r[i] < 1.0))
                mask[i] = 0.0f;
            count += (double)mask[i];
        }
        actual = (double)n / count;
        if (fabs(actual - acc) < cfg->tol)
            break;
        if (actual < acc)
            smin = slope;
        else
            smax = slope;
    }
    if (!(fabs(actual - acc) < cfg->tol)) {
        st = MR_FAIL(MR_ERR_DATA, "poisson-2d mask: cannot reach acceleration %g on %lldx%lld "
                     "(closest %g, tolerance %g)", acc, (long long)h, (long long)w, actual,
                     cfg->tol);
        goto out;
    }
    /* centred disc of radius trunc(h * center_scale) around ((h-1)/2, (w-1)/2), strict < */
    int64_t cy = (h - 1) / 2;
    int64_t cx = (w - 1) / 2;
    int64_t rad = (int64_t)((double)h * cfg->center_scale);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            if ((y - cy) * (y - cy) + (x - cx) * (x - cx) < rad * rad)
                mask[y * w + x] = 1.0f;
    if (acc_out != NULL)
        *acc_out = actual;
out:
    free(r);
    free(rad_x);
    free(rad_y);
    free(act.x);
    free(act.y);
    return st;
}
