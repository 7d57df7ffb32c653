/* Readout processing: reversal, asymmetric echo placement, discard, oversampling removal (and
 * zero-padding) against a naive centred DFT on odd and even lengths, every refused line, and
 * bit-identity with the code the ISMRMRD stage (apps/stage.c) runs. */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recon/fft.h"
#include "recon/readout.h"

static void fill(float complex *x, int64_t n, uint64_t seed)
{
    struct mr_test_rng r;
    mr_test_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++)
        x[i] = CMPLXF((float)mr_test_rng_normal(&r), (float)mr_test_rng_normal(&r));
}

static void test_reversal(void **state)
{
    (void)state;
    enum { C = 2, N = 15 };
    float complex in[C * N];
    float complex out[C * N];
    struct mr_readout *ro = NULL;
    struct mr_readout_line l = { .samples = N, .reverse = true }; /* centre N/2: no shift */

    fill(in, C * N, 1);
    assert_int_equal(mr_readout_create(C, N, N, &ro), MR_OK);
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_OK);
    for (int c = 0; c < C; c++)
        for (int t = 0; t < N; t++)
            assert_true(out[c * N + t] == in[c * N + N - 1 - t]);
    l.reverse = false;
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_OK);
    assert_memory_equal(in, out, sizeof(in));
    mr_readout_free(ro);
}

/* 20 samples with the echo at sample 4 of a 32-long line: they fill positions 12..31, the
 * first 12 stay zero (partial echo zero-filled in place); reversed, the echo at k-order
 * sample 4 is acquisition sample 15. */
static void test_asymmetric_echo(void **state)
{
    (void)state;
    enum { C = 3, NS = 20, EX = 32 };
    float complex in[C * NS];
    float complex out[C * EX];
    struct mr_readout *ro = NULL;
    struct mr_readout_line l = { .samples = NS, .center_sample = 4 };

    fill(in, C * NS, 2);
    assert_int_equal(mr_readout_create(C, EX, EX, &ro), MR_OK);
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_OK);
    for (int c = 0; c < C; c++)
        for (int p = 0; p < EX; p++)
            assert_true(out[c * EX + p] == (p < 12 ? 0.0f : in[c * NS + p - 12]));
    l.reverse = true;
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_OK);
    for (int c = 0; c < C; c++) {
        assert_true(out[c * EX + EX / 2] == in[c * NS + 15]);
        for (int p = 0; p < EX; p++)
            assert_true(out[c * EX + p] == (p < 12 ? 0.0f : in[c * NS + NS - 1 - (p - 12)]));
    }
    /* a longer line than the encoded one: the samples past either end are dropped */
    l = (struct mr_readout_line){ .samples = 40, .center_sample = 25 };
    float complex big[C * 40];
    fill(big, C * 40, 3);
    assert_int_equal(mr_readout_process(ro, &l, big, out), MR_OK);
    for (int c = 0; c < C; c++)
        for (int p = 0; p < EX; p++)
            assert_true(out[c * EX + p] == (p + 9 < 40 ? big[c * 40 + p + 9] : 0.0f));
    mr_readout_free(ro);
}

/* discard_pre / discard_post count in acquisition order, before the reversal */
static void test_discard(void **state)
{
    (void)state;
    enum { C = 2, N = 16 };
    float complex in[C * N];
    float complex out[C * N];
    struct mr_readout *ro = NULL;
    struct mr_readout_line l = { .samples = N, .discard_pre = 3, .discard_post = 2 };

    fill(in, C * N, 4);
    assert_int_equal(mr_readout_create(C, N, N, &ro), MR_OK);
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_OK);
    for (int c = 0; c < C; c++)
        for (int t = 0; t < N; t++)
            assert_true(out[c * N + t] == (t < 3 || t >= N - 2 ? 0.0f : in[c * N + t]));
    l.reverse = true;
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_OK);
    for (int c = 0; c < C; c++)
        for (int t = 0; t < N; t++) {
            const int a = N - 1 - t; /* acquisition sample */
            assert_true(out[c * N + t] == (a < 3 || a >= N - 2 ? 0.0f : in[c * N + a]));
        }
    mr_readout_free(ro);
}

/* Centred orthonormal DFT of length n in double (sign -1 forward, +1 inverse), the centred
 * transform of recon/fft.h: out[j] = Σ_i in[i] e^{sign·2πi (i - n/2)(j - n/2)/n} / sqrt(n). */
static void naive_dft(const double complex *in, double complex *out, int64_t n, int sign)
{
    for (int64_t j = 0; j < n; j++) {
        double complex acc = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const double ang =
                sign * 2.0 * M_PI * (double)((i - n / 2) * (j - n / 2)) / (double)n;
            acc += in[i] * CMPLX(cos(ang), sin(ang));
        }
        out[j] = acc / sqrt((double)n);
    }
}

/* Oversampling removal of a line already placed (ns = encX, centre encX/2): the image of the
 * encX samples, its centre W pixels (or itself zero-padded), back to k-space. */
static void naive_resample(const float complex *in, int64_t ex, int64_t w, double complex *out)
{
    double complex *k = malloc(sizeof(*k) * (size_t)ex);
    double complex *img = malloc(sizeof(*img) * (size_t)ex);
    double complex *small = calloc((size_t)w, sizeof(*small));
    assert_true(k != NULL && img != NULL && small != NULL);
    for (int64_t i = 0; i < ex; i++)
        k[i] = in[i];
    naive_dft(k, img, ex, +1);
    for (int64_t x = 0; x < w; x++) {
        const int64_t src = x - (w - ex) / 2; /* crop: x + (ex - w) / 2 */
        if (ex > w)
            small[x] = img[x + (ex - w) / 2];
        else
            small[x] = src >= 0 && src < ex ? img[src] : 0.0;
    }
    naive_dft(small, out, w, -1);
    free(k);
    free(img);
    free(small);
}

static void test_oversampling_against_naive_dft(void **state)
{
    (void)state;
    static const int64_t sizes[][2] = { { 32, 16 }, { 31, 16 }, { 32, 15 }, { 27, 13 },
                                        { 16, 25 }, { 15, 24 }, { 9, 9 } };
    enum { C = 3 };

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const int64_t ex = sizes[s][0];
        const int64_t w = sizes[s][1];
        float complex *in = malloc(sizeof(*in) * (size_t)(C * ex));
        float complex *out = malloc(sizeof(*out) * (size_t)(C * w));
        double complex *ref = malloc(sizeof(*ref) * (size_t)w);
        struct mr_readout *ro = NULL;
        const struct mr_readout_line l = { .samples = ex };
        assert_true(in != NULL && out != NULL && ref != NULL);
        fill(in, C * ex, 10 + s);
        assert_int_equal(mr_readout_create(C, ex, w, &ro), MR_OK);
        assert_int_equal(mr_readout_process(ro, &l, in, out), MR_OK);
        double err = 0.0;
        double nrm = 0.0;
        for (int64_t c = 0; c < C; c++) {
            naive_resample(in + c * ex, ex, w, ref);
            for (int64_t x = 0; x < w; x++) {
                const double complex d = (double complex)out[c * w + x] - ref[x];
                err += creal(d * conj(d));
                nrm += creal(ref[x] * conj(ref[x]));
            }
        }
        mr_test_assert_below("readout resampling vs naive DFT", sqrt(err / nrm), 1e-6,
                             __FILE__, __LINE__);
        mr_readout_free(ro);
        free(in);
        free(out);
        free(ref);
    }
}

static void test_refused_lines(void **state)
{
    (void)state;
    enum { C = 2, N = 16 };
    float complex in[C * 64] = { 0 };
    float complex out[C * N];
    struct mr_readout *ro = NULL;
    struct mr_readout_line l;

    assert_int_equal(mr_readout_create(C, N, N, &ro), MR_OK);
    for (int i = 0; i < C * N; i++)
        out[i] = 7.0f;
    l = (struct mr_readout_line){ .samples = N, .center_sample = N };
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "center_sample 16"));
    assert_true(out[0] == 7.0f); /* not written */
    l = (struct mr_readout_line){ .samples = N, .discard_pre = 10, .discard_post = 6 };
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "keeps no sample"));
    l = (struct mr_readout_line){ .samples = 0 };
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_ERR_DATA);
    l = (struct mr_readout_line){ .samples = N, .discard_pre = -1 };
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_ERR_DATA);
    /* 64 samples, echo at 60: only samples 52..63 land in the 16-long line, all discarded */
    l = (struct mr_readout_line){ .samples = 64, .center_sample = 60, .discard_post = 12 };
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "no kept sample"));
    l.discard_post = 11; /* sample 52 lands at position 0 */
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_OK);
    l = (struct mr_readout_line){ .samples = MR_READOUT_MAX_SAMPLES + 1 };
    assert_int_equal(mr_readout_process(ro, &l, in, out), MR_ERR_ARG);
    mr_readout_free(ro);

    assert_int_equal(mr_readout_create(0, N, N, &ro), MR_ERR_ARG);
    assert_null(ro);
    assert_int_equal(mr_readout_create(C, 0, N, &ro), MR_ERR_ARG);
    assert_int_equal(mr_readout_create(C, N, MR_READOUT_MAX_SAMPLES + 1, &ro), MR_ERR_ARG);
    mr_readout_free(NULL);
}

/* ---- the stage's code before the move (apps/stage.c process_readout, its scratch and plans
 * made as in stage_start_channels), as the reference for bit-identity ---- */

struct stage_ro {
    int64_t nc;
    int64_t enc_x;
    int64_t w;
    struct mr_fft1 *fft_enc;
    struct mr_fft1 *fft_w;
    float complex *line;
    float complex *rs;
};

static void stage_process_readout(struct stage_ro *s, const float complex *d, int64_t ns,
                                  bool rev, int64_t dpre, int64_t dpost, int64_t center_sample)
{
    const int64_t nc = s->nc;
    const int64_t ex = s->enc_x;
    const int64_t center = center_sample != 0 ? center_sample : ns / 2;
    const int64_t shift = ex / 2 - center;

    memset(s->line, 0, sizeof(*s->line) * (size_t)(nc * ex));
    for (int64_t c = 0; c < nc; c++) {
        const float complex *src = d + c * ns;
        float complex *dst = s->line + c * ex;
        for (int64_t t = 0; t < ns; t++) {
            int64_t acq_t = rev ? ns - 1 - t : t;
            if (acq_t < dpre || acq_t >= ns - dpost)
                continue;
            int64_t p = t + shift;
            if (p >= 0 && p < ex)
                dst[p] = src[acq_t];
        }
    }
    if (ex == s->w) {
        memcpy(s->rs, s->line, sizeof(*s->rs) * (size_t)(nc * ex));
        return;
    }
    mr_fft1_inverse(s->fft_enc, s->line, s->line, nc);
    for (int64_t c = 0; c < nc; c++) {
        float complex *dst = s->rs + c * s->w;
        const float complex *src = s->line + c * ex;
        if (ex > s->w) {
            memcpy(dst, src + (ex - s->w) / 2, sizeof(*dst) * (size_t)s->w);
        } else {
            memset(dst, 0, sizeof(*dst) * (size_t)s->w);
            memcpy(dst + (s->w - ex) / 2, src, sizeof(*dst) * (size_t)ex);
        }
    }
    mr_fft1_forward(s->fft_w, s->rs, s->rs, nc);
}

static void test_bit_identical_to_stage(void **state)
{
    (void)state;
    /* encX, W: oversampled (even, odd), padded, equal */
    static const int64_t sizes[][2] = { { 64, 32 }, { 45, 22 }, { 20, 27 }, { 24, 24 } };
    /* ns, discard_pre, discard_post, center_sample, reverse */
    static const int64_t lines[][5] = {
        { 64, 0, 0, 0, 0 }, { 64, 3, 5, 0, 1 }, { 50, 0, 0, 18, 0 }, { 50, 4, 1, 18, 1 },
        { 45, 2, 2, 0, 0 }, { 31, 0, 3, 9, 1 },  { 80, 6, 9, 41, 0 }, { 21, 0, 0, 10, 1 },
    };
    enum { C = 4 };

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        struct stage_ro ref = { .nc = C, .enc_x = sizes[s][0], .w = sizes[s][1] };
        struct mr_readout *ro = NULL;
        float complex *out = malloc(sizeof(*out) * (size_t)(C * ref.w));
        float complex *in = malloc(sizeof(*in) * (size_t)(C * 80));
        ref.rs = malloc(sizeof(*ref.rs) * (size_t)(C * ref.w));
        ref.line = malloc(sizeof(*ref.line) * (size_t)(C * ref.enc_x));
        assert_true(out != NULL && in != NULL && ref.rs != NULL && ref.line != NULL);
        if (ref.enc_x != ref.w) {
            assert_int_equal(mr_fft1_create(ref.enc_x, &mr_fft_config_default, &ref.fft_enc),
                             MR_OK);
            assert_int_equal(mr_fft1_create(ref.w, &mr_fft_config_default, &ref.fft_w), MR_OK);
        }
        assert_int_equal(mr_readout_create(C, ref.enc_x, ref.w, &ro), MR_OK);
        for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
            const struct mr_readout_line l = {
                .samples = lines[k][0], .discard_pre = lines[k][1],
                .discard_post = lines[k][2], .center_sample = lines[k][3],
                .reverse = lines[k][4] != 0,
            };
            fill(in, C * l.samples, 100 * s + k);
            stage_process_readout(&ref, in, l.samples, l.reverse, l.discard_pre,
                                  l.discard_post, l.center_sample);
            assert_int_equal(mr_readout_process(ro, &l, in, out), MR_OK);
            assert_memory_equal(out, ref.rs, sizeof(*out) * (size_t)(C * ref.w));
        }
        mr_readout_free(ro);
        mr_fft1_free(ref.fft_enc);
        mr_fft1_free(ref.fft_w);
        free(ref.rs);
        free(ref.line);
        free(out);
        free(in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reversal),
        cmocka_unit_test(test_asymmetric_echo),
        cmocka_unit_test(test_discard),
        cmocka_unit_test(test_oversampling_against_naive_dft),
        cmocka_unit_test(test_refused_lines),
        cmocka_unit_test(test_bit_identical_to_stage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
