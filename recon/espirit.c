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
 */
#include "recon/espirit.h"

#include <complex.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

const struct mr_espirit_config mr_espirit_config_default = {
    .calib = { 24, 24 },
    .kernel = { 6, 6 },
    .threshold = 0.001f,
    .crop = 0.8f,
    .soft_crop = false,
    .iters = 30,
    .rotate_phase = true,
};

/* Work below this many complex multiply-adds runs on one thread. */
#define PAR_MIN_WORK (1 << 16)

/* ---------------------------------------------------------------------------------------- */
/* Hermitian eigen decomposition                                                             */
/* ---------------------------------------------------------------------------------------- */

/*
 * Implicit QL with Wilkinson shifts on the real symmetric tridiagonal (d, e), e[i] coupling
 * d[i] and d[i + 1] (e[n - 1] is scratch). Rotations are applied to the rows of zt, so row i
 * of zt ends as the eigenvector of eigenvalue d[i] when zt starts as the identity
 * (Numerical Recipes' tqli, with eigenvectors as rows). False if an eigenvalue needs more
 * than 60 iterations.
 */
static bool tridiag_ql(int64_t n, double *d, double *e, double *zt)
{
    /* An off-diagonal entry is negligible relative to its neighbours (NR's test) or to the
     * whole matrix: without the second test a block of exact zeros on the diagonal (a
     * rank-deficient Gram matrix, e.g. a calibration region of a noiseless phantom) holding
     * a denormal-sized e never deflates. */
    double anorm = 0.0;
    for (int64_t i = 0; i < n; i++)
        anorm = fmax(anorm, fabs(d[i]) + fabs(e[i]));
    const double tiny = DBL_EPSILON * DBL_EPSILON * anorm + DBL_MIN;
    /* iteration budget for the whole matrix, as LAPACK's steqr (30 per eigenvalue on
     * average): a few eigenvalues of a nearly singular Gram matrix need far more than the
     * 30 per eigenvalue of the textbook test */
    int64_t iter = 0;
    const int64_t max_iter = 30 * n + 60;
    e[n - 1] = 0.0;
    for (int64_t l = 0; l < n; l++) {
        int64_t m;
        do {
            for (m = l; m < n - 1; m++) {
                double dd = fabs(d[m]) + fabs(d[m + 1]);
                if (fabs(e[m]) <= DBL_EPSILON * dd || fabs(e[m]) <= tiny)
                    break;
            }
            if (m == l)
                break;
            if (iter++ == max_iter)
                return false;
            double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            double r = hypot(g, 1.0);
            g = d[m] - d[l] + e[l] / (g + copysign(r, g));
            double s = 1.0;
            double c = 1.0;
            double p = 0.0;
            int64_t i;
            for (i = m - 1; i >= l; i--) {
                double f = s * e[i];
                double b = c * e[i];
                r = hypot(f, g);
                e[i + 1] = r;
                if (r == 0.0) { /* underflow: split the matrix and start again */
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                double *zi = zt + i * n;
                double *zj = zt + (i + 1) * n;
                for (int64_t k = 0; k < n; k++) {
                    double t = zj[k];
                    zj[k] = s * zi[k] + c * t;
                    zi[k] = c * zi[k] - s * t;
                }
            }
            if (r == 0.0 && i >= l)
                continue;
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        } while (m != l);
    }
    return true;
}

/* a·b and conj(a)·b written out, so that loops vectorise (C99's complex product checks for
 * NaN and calls libgcc without -ffast-math, which this project never uses) */
static inline double complex cmul(double complex a, double complex b)
{
    return CMPLX(creal(a) * creal(b) - cimag(a) * cimag(b),
                 creal(a) * cimag(b) + cimag(a) * creal(b));
}

static inline double complex cmulc(double complex a, double complex b)
{
    return CMPLX(creal(a) * creal(b) + cimag(a) * cimag(b),
                 creal(a) * cimag(b) - cimag(a) * creal(b));
}

/*
 * Eigen decomposition of an n×n Hermitian matrix a (row-major, both triangles filled):
 * a = Σ_k w[k] u_k u_k^H, w descending.
 *
 * a = Q T Q^H by Householder reflections H_j = I - 2 v_j v_j^H (Q = H_0 H_1 ... H_{n-2}),
 * T = D R D^H with D a diagonal of phases that makes the off-diagonal real, R = Z Λ Z^T by
 * implicit QL; u_k = Q D z_k. herm_eig_init computes w and keeps what herm_eig_vector needs:
 * v_j in row j of a right of the diagonal (a is borrowed until cleanup), D and Z.
 */
struct herm_eig {
    int64_t n;
    double *w;               /* eigenvalues, descending */
    const double complex *a; /* v_j = a[j*n + j+1 .. j*n + n) */
    double complex *ph;      /* D */
    double *zt;              /* row i: eigenvector of R, unsorted */
    int64_t *order;          /* w[k] belongs to row order[k] of zt */
};

static void herm_eig_cleanup(struct herm_eig *h)
{
    free(h->w);
    free(h->ph);
    free(h->zt);
    free(h->order);
    memset(h, 0, sizeof(*h));
}

static mr_status herm_eig_init(struct herm_eig *h, int64_t n, double complex *a)
{
    mr_status st = MR_OK;
    double complex *x = malloc(sizeof(*x) * (size_t)n);
    double complex *pw = malloc(sizeof(*pw) * (size_t)n);
    double complex *offd = malloc(sizeof(*offd) * (size_t)n);
    double *d = malloc(sizeof(*d) * (size_t)n);
    double *e = malloc(sizeof(*e) * (size_t)n);

    memset(h, 0, sizeof(*h));
    h->n = n;
    h->a = a;
    h->w = malloc(sizeof(*h->w) * (size_t)n);
    h->ph = malloc(sizeof(*h->ph) * (size_t)n);
    h->zt = calloc((size_t)(n * n), sizeof(*h->zt));
    h->order = malloc(sizeof(*h->order) * (size_t)n);
    if (x == NULL || pw == NULL || offd == NULL || d == NULL || e == NULL || h->w == NULL ||
        h->ph == NULL || h->zt == NULL || h->order == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "eigen decomposition of a %lldx%lld matrix", (long long)n,
                     (long long)n);
        goto out;
    }

    /* Tridiagonalise. Step k maps column k below the diagonal, x, to alpha e_1 with
     * alpha = -phase(x_0) |x|, by v = (x - alpha e_1) / |x - alpha e_1|; then the trailing
     * block B (rows and columns k+1..) becomes H B H = B - 2 (v w^H + w v^H) with
     * p = B v, w = p - (v^H p) v. The upper triangle left of B is free for v. */
    for (int64_t k = 0; k < n - 1; k++) {
        const int64_t m = n - k - 1;
        double complex *v = a + k * n + k + 1;
        bool rest_zero = true;
        double nrm2 = 0.0;
        for (int64_t i = 0; i < m; i++) {
            x[i] = a[(k + 1 + i) * n + k];
            nrm2 += creal(x[i]) * creal(x[i]) + cimag(x[i]) * cimag(x[i]);
            if (i > 0 && x[i] != 0.0)
                rest_zero = false;
        }
        if (rest_zero) { /* nothing to do: H_k = I, marked by v = 0 */
            offd[k] = x[0];
            for (int64_t i = 0; i < m; i++)
                v[i] = 0.0;
            continue;
        }
        const double nrm = sqrt(nrm2);
        const double ax0 = cabs(x[0]);
        const double complex phase = ax0 > 0.0 ? x[0] / ax0 : 1.0;
        const double complex alpha = -phase * nrm;
        const double vn = sqrt(2.0 * (nrm2 + nrm * ax0)); /* |x - alpha e_1| */
        x[0] -= alpha;
        for (int64_t i = 0; i < m; i++)
            v[i] = x[i] / vn;
        offd[k] = alpha;

        double kk = 0.0;
        for (int64_t i = 0; i < m; i++) {
            const double complex *row = a + (k + 1 + i) * n + k + 1;
            double complex acc = 0.0;
            for (int64_t j = 0; j < m; j++)
                acc += cmul(row[j], v[j]);
            pw[i] = acc;
            kk += creal(cmulc(v[i], acc));
        }
        for (int64_t i = 0; i < m; i++)
            pw[i] -= kk * v[i];
        for (int64_t i = 0; i < m; i++) {
            double complex *row = a + (k + 1 + i) * n + k + 1;
            const double complex vi = 2.0 * v[i];
            const double complex wi = 2.0 * pw[i];
            for (int64_t j = 0; j < m; j++)
                row[j] -= cmulc(pw[j], vi) + cmulc(v[j], wi);
        }
    }
    for (int64_t i = 0; i < n; i++)
        d[i] = creal(a[i * n + i]);

    /* D_0 = 1, D_{i+1} = D_i phase(t_{i+1,i}); R has off-diagonal e_i = |t_{i+1,i}| */
    h->ph[0] = 1.0;
    for (int64_t i = 0; i < n - 1; i++) {
        const double mag = cabs(offd[i]);
        e[i] = mag;
        h->ph[i + 1] = mag > 0.0 ? h->ph[i] * (offd[i] / mag) : h->ph[i];
    }
    for (int64_t i = 0; i < n; i++)
        h->zt[i * n + i] = 1.0;
    if (!tridiag_ql(n, d, e, h->zt)) {
        st = MR_FAIL(MR_ERR_DATA, "eigen decomposition of a %lldx%lld matrix did not converge",
                     (long long)n, (long long)n);
        goto out;
    }

    /* sort descending (selection: n is a few hundred at most) */
    for (int64_t i = 0; i < n; i++)
        h->order[i] = i;
    for (int64_t i = 0; i < n; i++) {
        int64_t best = i;
        for (int64_t j = i + 1; j < n; j++)
            if (d[h->order[j]] > d[h->order[best]])
                best = j;
        const int64_t t = h->order[i];
        h->order[i] = h->order[best];
        h->order[best] = t;
        h->w[i] = d[h->order[i]];
    }
out:
    free(x);
    free(pw);
    free(offd);
    free(d);
    free(e);
    if (st != MR_OK)
        herm_eig_cleanup(h);
    return st;
}

/* u = eigenvector k (unit norm): D z, then H_{n-2} ... H_0 applied in turn */
static void herm_eig_vector(const struct herm_eig *h, int64_t k, double complex *u)
{
    const int64_t n = h->n;
    const double *z = h->zt + h->order[k] * n;

    for (int64_t i = 0; i < n; i++)
        u[i] = h->ph[i] * z[i];
    for (int64_t j = n - 2; j >= 0; j--) {
        const double complex *v = h->a + j * n + j + 1;
        double complex *y = u + j + 1;
        double complex dot = 0.0;
        for (int64_t i = 0; i < n - j - 1; i++)
            dot += cmulc(v[i], y[i]);
        dot *= 2.0;
        for (int64_t i = 0; i < n - j - 1; i++)
            y[i] -= cmul(v[i], dot);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Calibration                                                                               */
/* ---------------------------------------------------------------------------------------- */

static bool block_sampled(const bool *pat, int64_t w, const int64_t pos[2], const int64_t size[2])
{
    for (int64_t y = pos[0]; y < pos[0] + size[0]; y++)
        for (int64_t x = pos[1]; x < pos[1] + size[1]; x++)
            if (!pat[y * w + x])
                return false;
    return true;
}

/* BART's calib_geom: grow a centred block from 1×1, one column then one row per round, while
 * it stays fully sampled, up to cfg->calib. */
static mr_status find_calib(const struct mr_espirit_config *cfg, const struct mr_array *ksp,
                            int64_t pos[2], int64_t size[2])
{
    const int64_t nc = ksp->dims[0];
    const int64_t h = ksp->dims[1];
    const int64_t w = ksp->dims[2];
    const int64_t dims[2] = { h, w };
    const float complex *k = mr_array_cf32(ksp);
    const int64_t lim[2] = { cfg->calib[0] < h ? cfg->calib[0] : h,
                             cfg->calib[1] < w ? cfg->calib[1] : w };
    /* pattern of the centre lim[0] × lim[1]: sampled where any coil is nonzero */
    const int64_t off[2] = { (h - lim[0]) / 2, (w - lim[1]) / 2 };
    bool *pat = calloc((size_t)(h * w), sizeof(*pat));
    bool stop[2] = { false, false };

    if (pat == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "calibration pattern of %lldx%lld", (long long)h,
                       (long long)w);
    for (int64_t y = off[0]; y < off[0] + lim[0]; y++)
        for (int64_t x = off[1]; x < off[1] + lim[1]; x++)
            for (int64_t c = 0; c < nc && !pat[y * w + x]; c++)
                pat[y * w + x] = k[(c * h + y) * w + x] != 0.0f;

    size[0] = 1;
    size[1] = 1;
    while (!stop[0] || !stop[1]) {
        for (int i = 1; i >= 0; i--) { /* columns first: BART's first axis is ours last */
            if (size[i] >= lim[i])
                stop[i] = true;
            if (stop[i])
                continue;
            size[i]++;
            pos[0] = (dims[0] - size[0]) / 2;
            pos[1] = (dims[1] - size[1]) / 2;
            if (!block_sampled(pat, w, pos, size)) {
                size[i]--;
                stop[i] = true;
            }
        }
    }
    pos[0] = (dims[0] - size[0]) / 2;
    pos[1] = (dims[1] - size[1]) / 2;
    free(pat);
    if (size[0] < cfg->kernel[0] || size[1] < cfg->kernel[1])
        return MR_FAIL(MR_ERR_DATA,
                       "the fully sampled k-space centre is only %lldx%lld, smaller than the "
                       "%lldx%lld ESPIRiT kernel (is the calibration region sampled and the "
                       "k-space centred?)",
                       (long long)size[0], (long long)size[1], (long long)cfg->kernel[0],
                       (long long)cfg->kernel[1]);
    return MR_OK;
}

/*
 * Signal-space projector of the calibration matrix A (L × N, N = C·ky·kx): one row per
 * kernel position, column a = (c·ky + oy)·kx + ox. Writes P = Σ_{i<n} v_i v_i^H (N × N) for
 * the right singular vectors v_i with s_i / s_0 > sqrt(threshold), s_i^2 the eigenvalues of
 * the smaller of A^H A and A A^H = X X^H for X = A^H (N × L) or A; then v_i = A^H u_i / s_i.
 */
static mr_status signal_projector(const struct mr_espirit_config *cfg, const float complex *cal,
                                  int64_t nc, const int64_t size[2], double complex *proj)
{
    mr_status st = MR_OK;
    const int64_t ky = cfg->kernel[0];
    const int64_t kx = cfg->kernel[1];
    const int64_t py = size[0] - ky + 1;
    const int64_t px = size[1] - kx + 1;
    const int64_t nl = py * px;
    const int64_t nn = nc * ky * kx;
    const bool by_rows = nl < nn; /* X = A, eigenvectors u_i of A A^H */
    const int64_t ng = by_rows ? nl : nn;
    const int64_t nt = by_rows ? nn : nl;
    double complex *xm = malloc(sizeof(*xm) * (size_t)(nl * nn));
    double complex *g = malloc(sizeof(*g) * (size_t)(ng * ng));
    double complex *u = malloc(sizeof(*u) * (size_t)ng);
    double complex *v = NULL;
    struct herm_eig eig = { 0 };

    if (xm == NULL || g == NULL || u == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ESPIRiT calibration matrix %lldx%lld", (long long)nl,
                     (long long)nn);
        goto out;
    }
    for (int64_t y = 0; y < py; y++)
        for (int64_t x = 0; x < px; x++)
            for (int64_t c = 0; c < nc; c++)
                for (int64_t oy = 0; oy < ky; oy++)
                    for (int64_t ox = 0; ox < kx; ox++) {
                        const int64_t l = y * px + x;
                        const int64_t a = (c * ky + oy) * kx + ox;
                        const double complex val =
                            (double complex)cal[(c * size[0] + y + oy) * size[1] + x + ox];
                        if (by_rows)
                            xm[l * nn + a] = val;
                        else
                            xm[a * nl + l] = conj(val);
                    }

    /* g = X X^H, lower triangle computed, upper mirrored */
#pragma omp parallel for if (ng * ng * nt > PAR_MIN_WORK) schedule(dynamic, 8)
    for (int64_t i = 0; i < ng; i++) {
        const double complex *xi = xm + i * nt;
        for (int64_t j = 0; j <= i; j++) {
            const double complex *xj = xm + j * nt;
            double complex acc = 0.0;
            for (int64_t t = 0; t < nt; t++)
                acc += cmulc(xj[t], xi[t]);
            g[i * ng + j] = acc;
            g[j * ng + i] = conj(acc);
        }
    }
    MR_CHECK(herm_eig_init(&eig, ng, g));

    /* singular values s_i = sqrt(max(ev_i, 0)); keep s_i / s_0 > sqrt(threshold) */
    if (!(eig.w[0] > 0.0)) {
        st = MR_FAIL(MR_ERR_DATA, "the k-space calibration region has no signal");
        goto out;
    }
    const double s0 = sqrt(eig.w[0]);
    const double thr = sqrt((double)cfg->threshold);
    int64_t nk = 0;
    while (nk < ng && eig.w[nk] > 0.0 && sqrt(eig.w[nk]) / s0 > thr)
        nk++;

    v = malloc(sizeof(*v) * (size_t)((nk > 0 ? nk : 1) * nn));
    if (v == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ESPIRiT kernels (%lld x %lld)", (long long)nk,
                     (long long)nn);
        goto out;
    }
    for (int64_t i = 0; i < nk; i++) {
        double complex *vi = v + i * nn;
        if (!by_rows) {
            herm_eig_vector(&eig, i, vi);
            continue;
        }
        herm_eig_vector(&eig, i, u); /* v_i[a] = Σ_l conj(A[l][a]) u_i[l] / s_i */
        const double s = sqrt(eig.w[i]);
        for (int64_t a = 0; a < nn; a++)
            vi[a] = 0.0;
        for (int64_t l = 0; l < nl; l++) {
            const double complex ul = u[l] / s;
            const double complex *row = xm + l * nn;
            for (int64_t a = 0; a < nn; a++)
                vi[a] += cmulc(row[a], ul);
        }
    }

    /* P = Σ_i v_i v_i^H */
#pragma omp parallel for if (nn * nn * nk > PAR_MIN_WORK) schedule(static)
    for (int64_t a = 0; a < nn; a++) {
        double complex *pa = proj + a * nn;
        for (int64_t b = 0; b < nn; b++)
            pa[b] = 0.0;
        for (int64_t i = 0; i < nk; i++) {
            const double complex t = v[i * nn + a];
            const double complex *vi = v + i * nn;
            for (int64_t b = 0; b < nn; b++)
                pa[b] += cmulc(vi[b], t);
        }
    }
out:
    herm_eig_cleanup(&eig);
    free(xm);
    free(g);
    free(u);
    free(v);
    return st;
}

/* First principal component of the calibration block's coils (top eigenvector of
 * Σ_p k_c(p) conj(k_c'(p))), turned so that its last entry is real and positive. */
static mr_status principal_coil(const float complex *cal, int64_t nc, int64_t np,
                                float complex *r)
{
    mr_status st = MR_OK;
    double complex *cov = malloc(sizeof(*cov) * (size_t)(nc * nc));
    double complex *u = malloc(sizeof(*u) * (size_t)nc);
    struct herm_eig eig = { 0 };

    if (cov == NULL || u == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "coil covariance %lldx%lld", (long long)nc, (long long)nc);
        goto out;
    }
    for (int64_t c = 0; c < nc; c++)
        for (int64_t d = 0; d < nc; d++) {
            double complex acc = 0.0;
            for (int64_t i = 0; i < np; i++)
                acc += cmulc((double complex)cal[d * np + i], (double complex)cal[c * np + i]);
            cov[c * nc + d] = acc;
        }
    MR_CHECK(herm_eig_init(&eig, nc, cov));
    herm_eig_vector(&eig, 0, u);
    const double complex last = u[nc - 1];
    const double complex rot = cabs(last) > 0.0 ? conj(last) / cabs(last) : 1.0;
    for (int64_t c = 0; c < nc; c++)
        r[c] = (float complex)cmul(u[c], rot);
out:
    herm_eig_cleanup(&eig);
    free(cov);
    free(u);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Per-pixel eigenvectors                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* BART's soft-crop step: 0 below -1, 1 above 1, a rational S in between */
static float scurve(float x)
{
    if (x <= -1.0f)
        return 0.0f;
    if (x >= 1.0f)
        return 1.0f;
    return 0.5f * (1.0f + 2.0f * x / (1.0f + x * x));
}

/*
 * The maps from the Fourier coefficients of M, stored transposed and split:
 * cre/cim[((dy·ndx + dx)·C + c')·C + c] = Re/Im m_(dy, dx)[c][c'] for frequency offsets
 * (dy - ky + 1, dx - kx + 1). M(y, x) = Σ_d m_d exp(-2πi (d_y y / H + d_x x / W)) with
 * y = row - H/2, x = column - W/2. Rows run in parallel, each thread with its own scratch;
 * within a row, PIX pixels at a time are the innermost (vectorised) index.
 */
#define PIX 8

struct pixel_ctx {
    const struct mr_espirit_config *cfg;
    int64_t nc;
    int64_t h;
    int64_t w;
    int64_t ndy;
    int64_t ndx;
    const float *cre;
    const float *cim;
    const float complex *ey; /* (H, ndy) */
    const float complex *ex; /* (W, ndx) */
    const float complex *ref;
    float complex *sens;
};

/* floats of scratch pixel_row needs */
static int64_t pixel_scratch(int64_t nc, int64_t ndx)
{
    return 2 * ndx * nc * nc + 2 * nc * nc * PIX + 4 * nc * PIX;
}

/* o += a · b over PIX lanes (split complex); restrict lets the compiler use SIMD */
static inline void lanes_cmac(float *restrict ore, float *restrict oim, const float *restrict are,
                              const float *restrict aim, const float *restrict bre,
                              const float *restrict bim)
{
    for (int l = 0; l < PIX; l++) {
        ore[l] += are[l] * bre[l] - aim[l] * bim[l];
        oim[l] += are[l] * bim[l] + aim[l] * bre[l];
    }
}

/* o += a · b over PIX lanes, a the same in every lane */
static inline void lanes_cmac_scalar(float *restrict ore, float *restrict oim, float are,
                                     float aim, const float *restrict bre,
                                     const float *restrict bim)
{
    for (int l = 0; l < PIX; l++) {
        ore[l] += are * bre[l] - aim * bim[l];
        oim[l] += are * bim[l] + aim * bre[l];
    }
}

/* Writes the maps of pixels [x0, x0 + nb) of row y from M (C, C, PIX) transposed. */
static void pixel_block(const struct pixel_ctx *p, int64_t y, int64_t x0, int64_t nb,
                        const float *mre, const float *mim, float *vre, float *vim, float *ure,
                        float *uim)
{
    const int64_t nc = p->nc;
    const float crop = p->cfg->crop;
    float val[PIX];

    /* power iteration from e_0: v <- M v / |M v|; the eigenvalue is |M v| of the last step */
    for (int64_t c = 0; c < nc; c++)
        for (int b = 0; b < PIX; b++) {
            vre[c * PIX + b] = c == 0 ? 1.0f : 0.0f;
            vim[c * PIX + b] = 0.0f;
        }
    for (int it = 0; it < p->cfg->iters; it++) {
        for (int64_t i = 0; i < nc * PIX; i++) {
            ure[i] = 0.0f;
            uim[i] = 0.0f;
        }
        for (int64_t d = 0; d < nc; d++) { /* u += column d of M times v[d] */
            const float *br = vre + d * PIX;
            const float *bi = vim + d * PIX;
            for (int64_t c = 0; c < nc; c++)
                lanes_cmac(ure + c * PIX, uim + c * PIX, mre + (d * nc + c) * PIX,
                           mim + (d * nc + c) * PIX, br, bi);
        }
        double n2[PIX] = { 0.0 };
        for (int64_t c = 0; c < nc; c++)
            for (int b = 0; b < PIX; b++)
                n2[b] += (double)(ure[c * PIX + b] * ure[c * PIX + b] +
                                  uim[c * PIX + b] * uim[c * PIX + b]);
        float inv[PIX];
        for (int b = 0; b < PIX; b++) {
            val[b] = (float)sqrt(n2[b]);
            inv[b] = val[b] > 0.0f ? 1.0f / val[b] : 0.0f;
        }
        for (int64_t c = 0; c < nc; c++)
            for (int b = 0; b < PIX; b++) {
                vre[c * PIX + b] = ure[c * PIX + b] * inv[b];
                vim[c * PIX + b] = uim[c * PIX + b] * inv[b];
            }
    }

    for (int64_t b = 0; b < nb; b++) {
        float weight;
        if (p->cfg->soft_crop)
            weight = scurve((sqrtf(val[b]) - crop) / (1.0f - crop));
        else
            weight = val[b] > crop ? 1.0f : 0.0f;
        if (val[b] == 0.0f)
            weight = 0.0f;
        /* phase: <S, ref> real and positive */
        double pr = 0.0;
        double pi = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            const float sr = vre[c * PIX + b];
            const float si = vim[c * PIX + b];
            const float rr = crealf(p->ref[c]);
            const float ri = cimagf(p->ref[c]);
            pr += (double)(sr * rr + si * ri);
            pi += (double)(si * rr - sr * ri);
        }
        const double pm = hypot(pr, pi);
        const float cr = pm > 0.0 ? (float)(pr / pm) * weight : weight;
        const float ci = pm > 0.0 ? (float)(-pi / pm) * weight : 0.0f;
        float complex *out = p->sens + y * p->w + x0 + b;
        for (int64_t c = 0; c < nc; c++) {
            const float sr = vre[c * PIX + b];
            const float si = vim[c * PIX + b];
            out[c * p->h * p->w] = CMPLXF(sr * cr - si * ci, sr * ci + si * cr);
        }
    }
}

static void pixel_row(const struct pixel_ctx *p, int64_t y, float *scratch)
{
    const int64_t nc = p->nc;
    const int64_t c2 = nc * nc;
    const int64_t ndx = p->ndx;
    float *qre = scratch; /* (ndx, C, C): the row's partial sums over dy */
    float *qim = qre + ndx * c2;
    float *mre = qim + ndx * c2; /* (C, C, PIX): M^T at PIX pixels */
    float *mim = mre + c2 * PIX;
    float *vre = mim + c2 * PIX; /* (C, PIX) each */
    float *vim = vre + nc * PIX;
    float *ure = vim + nc * PIX;
    float *uim = ure + nc * PIX;

    for (int64_t i = 0; i < 2 * ndx * c2; i++)
        qre[i] = 0.0f;
    for (int64_t dy = 0; dy < p->ndy; dy++) {
        const float er = crealf(p->ey[y * p->ndy + dy]);
        const float ei = cimagf(p->ey[y * p->ndy + dy]);
        for (int64_t dx = 0; dx < ndx; dx++) {
            const float *sr = p->cre + (dy * ndx + dx) * c2;
            const float *si = p->cim + (dy * ndx + dx) * c2;
            float *tr = qre + dx * c2;
            float *ti = qim + dx * c2;
            for (int64_t i = 0; i < c2; i++) {
                tr[i] += sr[i] * er - si[i] * ei;
                ti[i] += sr[i] * ei + si[i] * er;
            }
        }
    }
    for (int64_t x0 = 0; x0 < p->w; x0 += PIX) {
        const int64_t nb = p->w - x0 < PIX ? p->w - x0 : PIX;
        for (int64_t i = 0; i < c2 * PIX; i++) {
            mre[i] = 0.0f;
            mim[i] = 0.0f;
        }
        for (int64_t dx = 0; dx < ndx; dx++) {
            float er[PIX] = { 0.0f };
            float ei[PIX] = { 0.0f }; /* lanes past the row end stay 0: M = 0 there */
            for (int64_t b = 0; b < nb; b++) {
                er[b] = crealf(p->ex[(x0 + b) * ndx + dx]);
                ei[b] = cimagf(p->ex[(x0 + b) * ndx + dx]);
            }
            const float *tr = qre + dx * c2;
            const float *ti = qim + dx * c2;
            for (int64_t i = 0; i < c2; i++)
                lanes_cmac_scalar(mre + i * PIX, mim + i * PIX, tr[i], ti[i], er, ei);
        }
        pixel_block(p, y, x0, nb, mre, mim, vre, vim, ure, uim);
    }
}

/* exp(-2πi d t / n) for t = i - n/2 (i < n), d = j - (k - 1) (j < 2k - 1) */
static void phase_table(float complex *tab, int64_t n, int64_t k)
{
    const int64_t nd = 2 * k - 1;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < nd; j++) {
            const double ang =
                -2.0 * M_PI * (double)((j - (k - 1)) * (i - n / 2)) / (double)n;
            tab[i * nd + j] = CMPLXF((float)cos(ang), (float)sin(ang));
        }
}

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
    float *cre = NULL;
    float *cim = NULL;
    float complex *ey = NULL;
    float complex *ex = NULL;
    float *scratch = NULL;

    MR_CHECK(check_args(cfg, ksp, sens));
    MR_CHECK(mr_array_check_finite(ksp, "ESPIRiT k-space"));

    const int64_t nc = ksp->dims[0];
    const int64_t h = ksp->dims[1];
    const int64_t w = ksp->dims[2];
    const int64_t ky = cfg->kernel[0];
    const int64_t kx = cfg->kernel[1];
    const int64_t nn = nc * ky * kx;
    const int64_t ndy = 2 * ky - 1;
    const int64_t ndx = 2 * kx - 1;
    const int64_t c2 = nc * nc;
    int64_t pos[2] = { 0, 0 };
    int64_t size[2] = { 1, 1 };

    MR_CHECK(find_calib(cfg, ksp, pos, size));
    cal = malloc(sizeof(*cal) * (size_t)(nc * size[0] * size[1]));
    proj = malloc(sizeof(*proj) * (size_t)(nn * nn));
    ref = malloc(sizeof(*ref) * (size_t)nc);
    cre = malloc(sizeof(*cre) * (size_t)(ndy * ndx * c2));
    cim = malloc(sizeof(*cim) * (size_t)(ndy * ndx * c2));
    ey = malloc(sizeof(*ey) * (size_t)(h * ndy));
    ex = malloc(sizeof(*ex) * (size_t)(w * ndx));
    if (cal == NULL || proj == NULL || ref == NULL || cre == NULL || cim == NULL ||
        ey == NULL || ex == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ESPIRiT work arrays for %lld coils", (long long)nc);
        goto out;
    }
    const float complex *k = mr_array_cf32(ksp);
    for (int64_t c = 0; c < nc; c++)
        for (int64_t y = 0; y < size[0]; y++)
            memcpy(cal + (c * size[0] + y) * size[1],
                   k + (c * h + pos[0] + y) * w + pos[1], sizeof(*cal) * (size_t)size[1]);

    MR_CHECK(signal_projector(cfg, cal, nc, size, proj));
    if (cfg->rotate_phase) {
        MR_CHECK(principal_coil(cal, nc, size[0] * size[1], ref));
    } else {
        for (int64_t c = 0; c < nc; c++)
            ref[c] = c == 0 ? 1.0f : 0.0f;
    }

    /* Fourier coefficients of M: m_d[c][c'] = (1/K) Σ_o P[(o + d, c'), (o, c)], stored
     * transposed (index [d][c'][c]) for the column-wise products of pixel_block */
    const double inv_k = 1.0 / (double)(ky * kx);
    for (int64_t dy = -(ky - 1); dy < ky; dy++)
        for (int64_t dx = -(kx - 1); dx < kx; dx++) {
            const int64_t base = ((dy + ky - 1) * ndx + dx + kx - 1) * c2;
            for (int64_t c1 = 0; c1 < nc; c1++)
                for (int64_t c0 = 0; c0 < nc; c0++) {
                    double complex acc = 0.0;
                    for (int64_t oy = 0; oy < ky; oy++) {
                        if (oy + dy < 0 || oy + dy >= ky)
                            continue;
                        for (int64_t ox = 0; ox < kx; ox++) {
                            if (ox + dx < 0 || ox + dx >= kx)
                                continue;
                            const int64_t a = (c1 * ky + oy + dy) * kx + ox + dx;
                            const int64_t b = (c0 * ky + oy) * kx + ox;
                            acc += proj[a * nn + b];
                        }
                    }
                    cre[base + c1 * nc + c0] = (float)(creal(acc) * inv_k);
                    cim[base + c1 * nc + c0] = (float)(cimag(acc) * inv_k);
                }
        }
    phase_table(ey, h, ky);
    phase_table(ex, w, kx);

    int nthreads = 1;
#ifdef _OPENMP
    nthreads = omp_get_max_threads();
#endif
    const int64_t per_thread = pixel_scratch(nc, ndx);
    scratch = malloc(sizeof(*scratch) * (size_t)(per_thread * nthreads));
    if (scratch == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ESPIRiT per-thread scratch");
        goto out;
    }
    const struct pixel_ctx pc = {
        .cfg = cfg, .nc = nc, .h = h, .w = w, .ndy = ndy, .ndx = ndx, .cre = cre, .cim = cim,
        .ey = ey, .ex = ex, .ref = ref, .sens = mr_array_cf32(sens),
    };
#pragma omp parallel if (h * w * c2 * cfg->iters > PAR_MIN_WORK)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float *mine = scratch + per_thread * tid;
#pragma omp for schedule(dynamic, 4)
        for (int64_t y = 0; y < h; y++)
            pixel_row(&pc, y, mine);
    }
out:
    free(cal);
    free(proj);
    free(ref);
    free(cre);
    free(cim);
    free(ey);
    free(ex);
    free(scratch);
    return st;
}
