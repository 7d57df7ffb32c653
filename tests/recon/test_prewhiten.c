/* Noise prewhitening: known correlated noise leaves white (sample covariance ≈ I) and the
 * factor recovers the colouring matrix, dwell-time scaling, the Cholesky factor against a naive
 * right-looking reference, refusal of covariances that are not positive definite, the identity
 * without noise, and bit-identity with the code the ISMRMRD stage (apps/stage.c) runs. */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recon/prewhiten.h"

enum { NC = 5 };

/* A fixed well-conditioned colouring matrix: lower triangular, real positive diagonal. */
static void colouring(double complex l0[NC * NC])
{
    struct mr_test_rng r;
    mr_test_rng_seed(&r, 11);
    for (int i = 0; i < NC; i++)
        for (int j = 0; j < NC; j++) {
            if (j > i)
                l0[i * NC + j] = 0.0;
            else if (j == i)
                l0[i * NC + j] = 1.0 + 0.5 * i;
            else
                l0[i * NC + j] = 0.6 * CMPLX(mr_test_rng_normal(&r), mr_test_rng_normal(&r));
        }
}

/* ns samples per coil of n = L0 z, z ~ CN(0, I) (real and imaginary parts of variance 1/2),
 * as a (C, ns) line. */
static void coloured_noise(const double complex l0[NC * NC], struct mr_test_rng *r,
                           float complex *line, int64_t ns)
{
    for (int64_t t = 0; t < ns; t++) {
        double complex z[NC];
        for (int c = 0; c < NC; c++)
            z[c] = CMPLX(mr_test_rng_normal(r), mr_test_rng_normal(r)) * sqrt(0.5);
        for (int i = 0; i < NC; i++) {
            double complex acc = 0.0;
            for (int k = 0; k <= i; k++)
                acc += l0[i * NC + k] * z[k];
            line[i * ns + t] = (float complex)acc;
        }
    }
}

/* max_ij |(1/ns) Σ_t x_i x_j^* - δ_ij| of a (C, ns) line */
static double whiteness_error(const float complex *x, int64_t ns)
{
    double worst = 0.0;
    for (int i = 0; i < NC; i++)
        for (int j = 0; j < NC; j++) {
            double complex acc = 0.0;
            for (int64_t t = 0; t < ns; t++)
                acc += (double complex)x[i * ns + t] * conj((double complex)x[j * ns + t]);
            acc /= (double)ns;
            worst = fmax(worst, cabs(acc - (i == j ? 1.0 : 0.0)));
        }
    return worst;
}

static void test_whitening_makes_noise_white(void **state)
{
    (void)state;
    enum { LINES = 8, NS = 2500 };
    double complex l0[NC * NC];
    float complex *line = malloc(sizeof(*line) * NC * NS);
    struct mr_prewhiten *pw = NULL;
    struct mr_test_rng r;

    assert_non_null(line);
    colouring(l0);
    mr_test_rng_seed(&r, 1);
    assert_int_equal(mr_prewhiten_create(NC, &pw), MR_OK);
    assert_false(mr_prewhiten_is_fixed(pw));
    for (int k = 0; k < LINES; k++) {
        coloured_noise(l0, &r, line, NS);
        mr_prewhiten_accumulate(pw, line, NS, 5.0f);
    }
    assert_true(mr_prewhiten_noise_samples(pw) == (double)(LINES * NS));
    assert_int_equal(mr_prewhiten_factor(pw, 5.0f), MR_OK); /* same dwell: no scaling */
    assert_true(mr_prewhiten_is_fixed(pw));
    assert_true(mr_prewhiten_is_active(pw));

    /* L ≈ L0 up to the sampling error of 20000 samples */
    const double complex *l = mr_prewhiten_factor_matrix(pw);
    assert_non_null(l);
    double err = 0.0;
    double ref = 0.0;
    for (int i = 0; i < NC * NC; i++) {
        err += creal((l[i] - l0[i]) * conj(l[i] - l0[i]));
        ref += creal(l0[i] * conj(l0[i]));
    }
    mr_test_assert_below("|L - L0| / |L0|", sqrt(err / ref), 0.03, __FILE__, __LINE__);

    /* fresh noise of the same colour: far from white before, white after */
    coloured_noise(l0, &r, line, NS);
    assert_true(whiteness_error(line, NS) > 0.5);
    mr_prewhiten_apply(pw, line, NS);
    mr_test_assert_below("max |cov - I|", whiteness_error(line, NS), 0.08, __FILE__, __LINE__);
    mr_prewhiten_free(pw);
    free(line);
}

/* Noise sampled at twice the data's dwell time has half the data's noise power: Ψ̂ = 2 Ψ / N. */
static void test_dwell_time_scaling(void **state)
{
    (void)state;
    enum { NS = 400 };
    double complex l0[NC * NC];
    float complex line[NC * NS];
    struct mr_prewhiten *a = NULL;
    struct mr_prewhiten *b = NULL;
    struct mr_test_rng r;

    colouring(l0);
    mr_test_rng_seed(&r, 2);
    coloured_noise(l0, &r, line, NS);
    assert_int_equal(mr_prewhiten_create(NC, &a), MR_OK);
    assert_int_equal(mr_prewhiten_create(NC, &b), MR_OK);
    mr_prewhiten_accumulate(a, line, NS, 0.0f); /* noise dwell unknown: ratio 1 */
    mr_prewhiten_accumulate(b, line, NS, 10.0f);
    assert_int_equal(mr_prewhiten_factor(a, 5.0f), MR_OK);
    assert_int_equal(mr_prewhiten_factor(b, 5.0f), MR_OK);
    const double complex *la = mr_prewhiten_factor_matrix(a);
    const double complex *lb = mr_prewhiten_factor_matrix(b);
    for (int i = 0; i < NC * NC; i++)
        assert_true(cabs(lb[i] - sqrt(2.0) * la[i]) <= 1e-12 * (1.0 + cabs(la[i])));
    mr_prewhiten_free(a);
    mr_prewhiten_free(b);
}

/* Right-looking (outer product) Cholesky of scale·A, a different order of the same sums. */
static void naive_cholesky(int n, const double complex *a, double scale, double complex *l)
{
    double complex *s = malloc(sizeof(*s) * (size_t)(n * n));
    assert_non_null(s);
    for (int i = 0; i < n * n; i++)
        s[i] = a[i] * scale;
    memset(l, 0, sizeof(*l) * (size_t)(n * n));
    for (int k = 0; k < n; k++) {
        const double p = sqrt(creal(s[k * n + k]));
        for (int i = k; i < n; i++)
            l[i * n + k] = s[i * n + k] / p;
        for (int i = k + 1; i < n; i++)
            for (int j = k + 1; j <= i; j++)
                s[i * n + j] -= l[i * n + k] * conj(l[j * n + k]);
    }
    free(s);
}

static void test_cholesky_against_naive(void **state)
{
    (void)state;
    enum { N = 7 };
    double complex b[N * N];
    double complex a[N * N];
    double complex l[N * N];
    double complex ref[N * N];
    struct mr_test_rng r;

    /* A = B B^H + I: Hermitian positive definite; only the lower triangle is read, so the
     * upper one holds junk */
    mr_test_rng_seed(&r, 3);
    for (int i = 0; i < N * N; i++)
        b[i] = CMPLX(mr_test_rng_normal(&r), mr_test_rng_normal(&r));
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double complex acc = i == j ? 1.0 : 0.0;
            for (int k = 0; k < N; k++)
                acc += b[i * N + k] * conj(b[j * N + k]);
            a[i * N + j] = j <= i ? acc : (double complex)NAN;
        }
    for (int i = 0; i < N * N; i++)
        l[i] = 0.0;
    assert_int_equal(mr_prewhiten_cholesky(N, a, 0.25, l), MR_OK);
    naive_cholesky(N, a, 0.25, ref);
    double worst = 0.0;
    for (int i = 0; i < N * N; i++)
        worst = fmax(worst, cabs(l[i] - ref[i]));
    mr_test_assert_below("max |L - L_naive|", worst, 1e-12, __FILE__, __LINE__);
    for (int i = 0; i < N; i++) {
        assert_true(cimag(l[i * N + i]) == 0.0 && creal(l[i * N + i]) > 0.0);
        for (int j = 0; j <= i; j++) { /* L L^H = scale A */
            double complex acc = 0.0;
            for (int k = 0; k < N; k++)
                acc += l[i * N + k] * conj(l[j * N + k]);
            assert_true(cabs(acc - 0.25 * a[i * N + j]) <= 1e-12 * cabs(a[i * N + i]));
        }
    }
}

static void test_not_positive_definite_refused(void **state)
{
    (void)state;
    enum { NS = 64 };
    float complex line[NC * NS];
    double complex l[4];
    struct mr_prewhiten *pw = NULL;
    struct mr_test_rng r;

    /* indefinite: eigenvalues 3 and -1; the pivot of index 1 is 1 - 4 < 0 */
    const double complex ind[4] = { 1.0, NAN, 2.0, 1.0 };
    assert_int_equal(mr_prewhiten_cholesky(2, ind, 1.0, l), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "coil 1"));

    /* a dead coil (2): its noise variance is 0 */
    mr_test_rng_seed(&r, 4);
    for (int i = 0; i < NC * NS; i++)
        line[i] = CMPLXF((float)mr_test_rng_normal(&r), (float)mr_test_rng_normal(&r));
    memset(line + 2 * NS, 0, sizeof(*line) * NS);
    assert_int_equal(mr_prewhiten_create(NC, &pw), MR_OK);
    mr_prewhiten_accumulate(pw, line, NS, 1.0f);
    assert_int_equal(mr_prewhiten_factor(pw, 1.0f), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "not positive definite"));
    assert_non_null(strstr(mr_last_error(), "coil 2"));
    assert_non_null(strstr(mr_last_error(), "64 noise samples"));
    assert_false(mr_prewhiten_is_fixed(pw));
    mr_prewhiten_free(pw);

    /* non-finite noise */
    line[2 * NS] = NAN;
    assert_int_equal(mr_prewhiten_create(NC, &pw), MR_OK);
    mr_prewhiten_accumulate(pw, line, NS, 1.0f);
    assert_int_equal(mr_prewhiten_factor(pw, 1.0f), MR_ERR_DATA);
    mr_prewhiten_free(pw);
}

static void test_without_noise_identity(void **state)
{
    (void)state;
    enum { NS = 9 };
    float complex x[NC * NS];
    float complex y[NC * NS];
    struct mr_prewhiten *pw = NULL;

    for (int i = 0; i < NC * NS; i++)
        x[i] = CMPLXF((float)i, -0.5f * (float)i);
    memcpy(y, x, sizeof(x));
    assert_int_equal(mr_prewhiten_create(NC, &pw), MR_OK);
    mr_prewhiten_accumulate(pw, x, 0, 3.0f); /* an empty noise line adds nothing */
    assert_int_equal(mr_prewhiten_factor(pw, 2.0f), MR_OK);
    assert_true(mr_prewhiten_is_fixed(pw));
    assert_false(mr_prewhiten_is_active(pw));
    assert_null(mr_prewhiten_factor_matrix(pw));
    mr_prewhiten_apply(pw, y, NS);
    assert_memory_equal(x, y, sizeof(x));
    mr_prewhiten_free(pw);
}

static void test_create_errors(void **state)
{
    (void)state;
    struct mr_prewhiten *pw = NULL;
    assert_int_equal(mr_prewhiten_create(0, &pw), MR_ERR_ARG);
    assert_null(pw);
    assert_int_equal(mr_prewhiten_create(MR_PREWHITEN_MAX_COILS + 1, &pw), MR_ERR_ARG);
    assert_null(pw);
    mr_prewhiten_free(NULL);
}

/* ---- the stage's code before the move (apps/stage.c noise_accumulate, noise_factor, whiten),
 * with the stage struct replaced by locals, as the reference for bit-identity ---- */

struct stage_noise {
    int64_t nc;
    double complex *psi;
    double noise_samples;
    float noise_dwell_us;
    double complex *chol;
    double complex *wvec;
};

static void stage_noise_accumulate(struct stage_noise *s, const float complex *d, int64_t ns,
                                   float sample_time_us)
{
    const int64_t nc = s->nc;
    for (int64_t i = 0; i < nc; i++)
        for (int64_t j = 0; j <= i; j++) {
            double complex acc = 0.0;
            for (int64_t t = 0; t < ns; t++)
                acc += (double complex)d[i * ns + t] * conj((double complex)d[j * ns + t]);
            s->psi[i * nc + j] += acc;
        }
    s->noise_samples += (double)ns;
    if (sample_time_us > 0.0f)
        s->noise_dwell_us = sample_time_us;
}

static void stage_noise_factor(struct stage_noise *s, float data_dwell_us)
{
    const int64_t nc = s->nc;
    double scale = 1.0 / s->noise_samples;

    if (s->noise_dwell_us > 0.0f && data_dwell_us > 0.0f)
        scale *= (double)s->noise_dwell_us / (double)data_dwell_us;
    double complex *L = s->chol;
    for (int64_t j = 0; j < nc; j++) {
        double d = creal(s->psi[j * nc + j]) * scale;
        for (int64_t k = 0; k < j; k++)
            d -= creal(L[j * nc + k] * conj(L[j * nc + k]));
        assert_true(d > 0.0 && isfinite(d));
        L[j * nc + j] = sqrt(d);
        for (int64_t i = j + 1; i < nc; i++) {
            double complex v = s->psi[i * nc + j] * scale;
            for (int64_t k = 0; k < j; k++)
                v -= L[i * nc + k] * conj(L[j * nc + k]);
            L[i * nc + j] = v / creal(L[j * nc + j]);
        }
    }
}

static void stage_whiten(const struct stage_noise *s, float complex *d, int64_t ns)
{
    const int64_t nc = s->nc;
    const double complex *L = s->chol;
    double complex *v = s->wvec;

    for (int64_t t = 0; t < ns; t++) {
        for (int64_t i = 0; i < nc; i++) {
            double complex x = d[i * ns + t];
            for (int64_t k = 0; k < i; k++)
                x -= L[i * nc + k] * v[k];
            v[i] = x / creal(L[i * nc + i]);
        }
        for (int64_t i = 0; i < nc; i++)
            d[i * ns + t] = (float complex)v[i];
    }
}

static void test_bit_identical_to_stage(void **state)
{
    (void)state;
    enum { C = 6, NS = 37 };
    static const float noise_dwell[3] = { 0.0f, 7.5f, 0.0f }; /* the last positive one wins */
    float complex noise[C * NS];
    float complex x[C * NS];
    float complex y[C * NS];
    double complex psi[C * C] = { 0 };
    double complex chol[C * C] = { 0 };
    double complex wvec[C] = { 0 };
    struct stage_noise ref = { C, psi, 0.0, 0.0f, chol, wvec };
    struct mr_prewhiten *pw = NULL;
    struct mr_test_rng r;

    mr_test_rng_seed(&r, 5);
    assert_int_equal(mr_prewhiten_create(C, &pw), MR_OK);
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < C * NS; i++) /* correlated: every coil leaks into the next */
            noise[i] = CMPLXF((float)mr_test_rng_normal(&r), (float)mr_test_rng_normal(&r)) +
                       (i >= NS ? 0.7f * noise[i - NS] : 0.0f);
        stage_noise_accumulate(&ref, noise, NS, noise_dwell[k]);
        mr_prewhiten_accumulate(pw, noise, NS, noise_dwell[k]);
    }
    stage_noise_factor(&ref, 2.5f);
    assert_int_equal(mr_prewhiten_factor(pw, 2.5f), MR_OK);
    assert_memory_equal(mr_prewhiten_factor_matrix(pw), chol, sizeof(chol));
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < C * NS; i++)
            x[i] = CMPLXF((float)mr_test_rng_normal(&r), (float)mr_test_rng_normal(&r)) * 100.0f;
        memcpy(y, x, sizeof(x));
        stage_whiten(&ref, x, NS);
        mr_prewhiten_apply(pw, y, NS);
        assert_memory_equal(x, y, sizeof(x));
    }
    mr_prewhiten_free(pw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whitening_makes_noise_white),
        cmocka_unit_test(test_dwell_time_scaling),
        cmocka_unit_test(test_cholesky_against_naive),
        cmocka_unit_test(test_not_positive_definite_refused),
        cmocka_unit_test(test_without_noise_identity),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_bit_identical_to_stage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
