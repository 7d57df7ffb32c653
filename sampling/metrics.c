/*
 * NMSE, PSNR and SSIM as fastMRI and ATOMMIC report them (see metrics.h). SSIM follows
 * Wang, Bovik, Sheikh, Simoncelli, "Image quality assessment: from error visibility to
 * structural similarity", IEEE TIP 13:600-612, 2004, with scikit-image's defaults; only the
 * pixels whose 7x7 window lies inside the image are averaged, so no border mode is needed.
 */
#include "sampling/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SSIM_WIN 7
#define SSIM_PAD 3

double mr_metric_nmse(const float *target, const float *pred, int64_t n)
{
    double num = 0.0;
    double den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)target[i] - (double)pred[i];
        num += d * d;
        den += (double)target[i] * (double)target[i];
    }
    return num / den;
}

double mr_metric_psnr(const float *target, const float *pred, int64_t n, double data_range)
{
    double mse = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)target[i] - (double)pred[i];
        mse += d * d;
    }
    mse /= (double)n;
    return 10.0 * log10(data_range * data_range / mse);
}

double mr_metric_ssim(const float *x, const float *y, int64_t h, int64_t w, double data_range)
{
    MR_ASSERT(h >= SSIM_WIN && w >= SSIM_WIN);
    const double np = SSIM_WIN * SSIM_WIN;
    const double cov_norm = np / (np - 1.0);
    const double c1 = (0.01 * data_range) * (0.01 * data_range);
    const double c2 = (0.03 * data_range) * (0.03 * data_range);
    double total = 0.0;

    for (int64_t r = SSIM_PAD; r < h - SSIM_PAD; r++)
        for (int64_t c = SSIM_PAD; c < w - SSIM_PAD; c++) {
            double sx = 0.0;
            double sy = 0.0;
            double sxx = 0.0;
            double syy = 0.0;
            double sxy = 0.0;
            for (int64_t i = r - SSIM_PAD; i <= r + SSIM_PAD; i++)
                for (int64_t j = c - SSIM_PAD; j <= c + SSIM_PAD; j++) {
                    double a = (double)x[i * w + j];
                    double b = (double)y[i * w + j];
                    sx += a;
                    sy += b;
                    sxx += a * a;
                    syy += b * b;
                    sxy += a * b;
                }
            double ux = sx / np;
            double uy = sy / np;
            double vx = cov_norm * (sxx / np - ux * ux);
            double vy = cov_norm * (syy / np - uy * uy);
            double vxy = cov_norm * (sxy / np - ux * uy);
            double a1 = 2.0 * ux * uy + c1;
            double a2 = 2.0 * vxy + c2;
            double b1 = ux * ux + uy * uy + c1;
            double b2 = vx + vy + c2;
            total += (a1 * a2) / (b1 * b2);
        }
    return total / (double)((h - 2 * SSIM_PAD) * (w - 2 * SSIM_PAD));
}

/* The shape of a checked (slices, H, W) volume pair: ns slices of h x w, n values. */
struct vol_dims {
    int64_t ns;
    int64_t h;
    int64_t w;
    int64_t n;
};

static mr_status check_volumes(const struct mr_array *t, const struct mr_array *p,
                               struct vol_dims *d)
{
    char bt[96];
    char bp[96];
    if (t->dtype != MR_DTYPE_F32 || (t->ndim != 2 && t->ndim != 3) ||
        !mr_array_same_shape(t, p))
        return MR_FAIL(MR_ERR_SHAPE, "metrics need two float32 volumes (slices, H, W) of the "
                       "same shape, got target %s and prediction %s",
                       mr_array_shape_str(t, bt, sizeof(bt)),
                       mr_array_shape_str(p, bp, sizeof(bp)));
    d->h = t->dims[t->ndim - 2];
    d->w = t->dims[t->ndim - 1];
    d->ns = t->ndim == 3 ? t->dims[0] : 1;
    d->n = mr_array_numel(t);
    if (d->h < SSIM_WIN || d->w < SSIM_WIN || d->ns < 1)
        return MR_FAIL(MR_ERR_SHAPE, "metrics: images of %s are smaller than the %dx%d SSIM "
                       "window", mr_array_shape_str(t, bt, sizeof(bt)), SSIM_WIN, SSIM_WIN);
    return MR_OK;
}

mr_status mr_metrics_fastmri(const struct mr_array *target, const struct mr_array *pred,
                             struct mr_metrics *out)
{
    struct vol_dims d;
    mr_status st = check_volumes(target, pred, &d);
    if (st != MR_OK)
        return st;
    const float *x = mr_array_f32(target);
    const float *y = mr_array_f32(pred);

    double maxval = -INFINITY;
    double energy = 0.0;
    for (int64_t i = 0; i < d.n; i++) {
        maxval = fmax(maxval, (double)x[i]);
        energy += (double)x[i] * (double)x[i];
    }
    if (energy == 0.0)
        return MR_FAIL(MR_ERR_DATA, "metrics: the target volume is all zero");
    out->nmse = mr_metric_nmse(x, y, d.n);
    out->psnr = mr_metric_psnr(x, y, d.n, maxval);
    double s = 0.0;
    for (int64_t k = 0; k < d.ns; k++)
        s += mr_metric_ssim(x + k * d.h * d.w, y + k * d.h * d.w, d.h, d.w, maxval);
    out->ssim = s / (double)d.ns;
    return MR_OK;
}

/* dst = |src / max|src||, per slice; returns false for an all-zero slice */
static bool normalise_slice(float *dst, const float *src, int64_t n)
{
    float m = 0.0f;
    for (int64_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(src[i]));
    if (m == 0.0f)
        return false;
    for (int64_t i = 0; i < n; i++)
        dst[i] = fabsf(src[i] / m);
    return true;
}

mr_status mr_metrics_atommic(const struct mr_array *target, const struct mr_array *pred,
                             struct mr_metrics *per_slice)
{
    struct vol_dims d;
    mr_status st = check_volumes(target, pred, &d);
    if (st != MR_OK)
        return st;
    const int64_t hw = d.h * d.w;
    float *x = malloc(sizeof(float) * (size_t)d.n);
    float *y = malloc(sizeof(float) * (size_t)d.n);
    if (x == NULL || y == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "metrics: normalised copies of %lld values", (long long)d.n);
        goto out;
    }
    for (int64_t k = 0; k < d.ns; k++) {
        if (!normalise_slice(x + k * hw, mr_array_f32(target) + k * hw, hw) ||
            !normalise_slice(y + k * hw, mr_array_f32(pred) + k * hw, hw)) {
            st = MR_FAIL(MR_ERR_DATA, "metrics: slice %lld is all zero and cannot be "
                         "normalised by its maximum", (long long)k);
            goto out;
        }
    }
    float xmin = x[0];
    float xmax = x[0];
    float ymin = y[0];
    float ymax = y[0];
    for (int64_t i = 0; i < d.n; i++) {
        xmin = fminf(xmin, x[i]);
        xmax = fmaxf(xmax, x[i]);
        ymin = fminf(ymin, y[i]);
        ymax = fmaxf(ymax, y[i]);
    }
    double maxval = fmax((double)(xmax - xmin), (double)(ymax - ymin));
    for (int64_t k = 0; k < d.ns; k++) {
        per_slice[k].nmse = mr_metric_nmse(x + k * hw, y + k * hw, hw);
        per_slice[k].psnr = mr_metric_psnr(x + k * hw, y + k * hw, hw, maxval);
        per_slice[k].ssim = mr_metric_ssim(x + k * hw, y + k * hw, d.h, d.w, fmax(maxval, 1.0));
    }
out:
    free(x);
    free(y);
    return st;
}
