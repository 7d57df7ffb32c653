/*
 * Eigen decomposition of Hermitian matrices for ESPIRiT (espirit_internal.h): Householder
 * tridiagonalisation, a diagonal of phases that makes the tridiagonal real, and implicit QL
 * with Wilkinson shifts (Numerical Recipes' tqli), in double precision; what LAPACK's cheev
 * does for BART's ecalib.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "recon/espirit_internal.h"

/*
 * Implicit QL with Wilkinson shifts on the real symmetric tridiagonal (d, e), e[i] coupling
 * d[i] and d[i + 1] (e[n - 1] is scratch). Rotations are applied to the rows of zt, so row i
 * of zt ends as the eigenvector of eigenvalue d[i] when zt starts as the identity
 * (Numerical Recipes' tqli, with eigenvectors as rows). False if an eigenvalue needs more
 * than 60 iterations.
 */
bool mr_tridiag_ql(int64_t n, double *d, double *e, double *zt)
{
    /* An off-diagonal entry is negligible relative to its neighbours (NR's test) or to the
     * whole matrix: without the second test a block of exact zeros on the diagonal (a
     * rank-deficient Gram matrix, e.g. a calibration region of a noiseless phantom) holding
     * a denormal-sized e never deflates. e[n - 1] lies outside the matrix: it is set before
     * anything reads it. */
    e[n - 1] = 0.0;
    double anorm = 0.0;
    for (int64_t i = 0; i < n; i++)
        anorm = fmax(anorm, fabs(d[i]) + fabs(e[i]));
    const double tiny = DBL_EPSILON * DBL_EPSILON * anorm + DBL_MIN;
    /* iteration budget for the whole matrix, as LAPACK's steqr (30 per eigenvalue on
     * average): a few eigenvalues of a nearly singular Gram matrix need far more than the
     * 30 per eigenvalue of the textbook test */
    int64_t iter = 0;
    const int64_t max_iter = 30 * n + 60;
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

void mr_herm_eig_cleanup(struct mr_herm_eig *h)
{
    free(h->w);
    free(h->ph);
    free(h->zt);
    free(h->order);
    memset(h, 0, sizeof(*h));
}

mr_status mr_herm_eig_init(struct mr_herm_eig *h, int64_t n, double complex *a)
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
                acc += mr_cmul(row[j], v[j]);
            pw[i] = acc;
            kk += creal(mr_cmulc(v[i], acc));
        }
        for (int64_t i = 0; i < m; i++)
            pw[i] -= kk * v[i];
        for (int64_t i = 0; i < m; i++) {
            double complex *row = a + (k + 1 + i) * n + k + 1;
            const double complex vi = 2.0 * v[i];
            const double complex wi = 2.0 * pw[i];
            for (int64_t j = 0; j < m; j++)
                row[j] -= mr_cmulc(pw[j], vi) + mr_cmulc(v[j], wi);
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
    if (!mr_tridiag_ql(n, d, e, h->zt)) {
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
        mr_herm_eig_cleanup(h);
    return st;
}

/* u = eigenvector k (unit norm): D z, then H_{n-2} ... H_0 applied in turn */
void mr_herm_eig_vector(const struct mr_herm_eig *h, int64_t k, double complex *u)
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
            dot += mr_cmulc(v[i], y[i]);
        dot *= 2.0;
        for (int64_t i = 0; i < n - j - 1; i++)
            y[i] -= mr_cmul(v[i], dot);
    }
}
