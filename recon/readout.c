/*
 * Readout processing (see readout.h): discard, reversal, placement by the echo centre and
 * readout oversampling removal in the image domain, as Gadgetron's RemoveROOversamplingGadget
 * and BucketToBufferGadget do. The arithmetic is that of the ISMRMRD stage before this code
 * moved here (same FFT plans and order of operations), so the stage's output does not change
 * by a bit.
 */
#include "recon/readout.h"

#include <stdlib.h>
#include <string.h>

#include "recon/fft.h"

struct mr_readout {
    int64_t nc;
    int64_t enc_x;
    int64_t w;
    struct mr_fft1 *fft_enc; /* only when enc_x != w */
    struct mr_fft1 *fft_w;
    float complex *line; /* (C, enc_x) scratch, only when enc_x != w */
};

mr_status mr_readout_create(int64_t nc, int64_t enc_x, int64_t w, struct mr_readout **out)
{
    mr_status st = MR_OK;
    struct mr_readout *ro = NULL;

    *out = NULL;
    if (nc < 1 || enc_x < 1 || w < 1 || enc_x > MR_READOUT_MAX_SAMPLES ||
        w > MR_READOUT_MAX_SAMPLES)
        return MR_FAIL(MR_ERR_ARG,
                       "readout processing of %lld coils from %lld to %lld samples: need at "
                       "least one coil and lengths in 1..%lld",
                       (long long)nc, (long long)enc_x, (long long)w,
                       (long long)MR_READOUT_MAX_SAMPLES);
    ro = calloc(1, sizeof(*ro));
    if (ro == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "readout processing");
    ro->nc = nc;
    ro->enc_x = enc_x;
    ro->w = w;
    if (enc_x != w) {
        if (nc > INT64_MAX / enc_x / (int64_t)sizeof(*ro->line)) {
            st = MR_FAIL(MR_ERR_ARG, "readout processing: %lld coils x %lld samples is too large",
                         (long long)nc, (long long)enc_x);
            goto out;
        }
        ro->line = malloc(sizeof(*ro->line) * (size_t)(nc * enc_x));
        if (ro->line == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "readout line of %lld coils x %lld samples",
                         (long long)nc, (long long)enc_x);
            goto out;
        }
        MR_CHECK(mr_fft1_create(enc_x, &mr_fft_config_default, &ro->fft_enc));
        MR_CHECK(mr_fft1_create(w, &mr_fft_config_default, &ro->fft_w));
    }
    *out = ro;
    ro = NULL;
out:
    mr_readout_free(ro);
    return st;
}

void mr_readout_free(struct mr_readout *ro)
{
    if (ro == NULL)
        return;
    mr_fft1_free(ro->fft_enc);
    mr_fft1_free(ro->fft_w);
    free(ro->line);
    free(ro);
}

/* The k-ordered sample range [*lo, *hi) that survives the discard (reversal maps acquisition
 * sample a to k-order sample ns - 1 - a). */
static void kept_range(const struct mr_readout_line *l, int64_t *lo, int64_t *hi)
{
    *lo = l->reverse ? l->discard_post : l->discard_pre;
    *hi = l->samples - (l->reverse ? l->discard_pre : l->discard_post);
}

static mr_status check_line(const struct mr_readout *ro, const struct mr_readout_line *l)
{
    const int64_t ns = l->samples;

    if (ns > MR_READOUT_MAX_SAMPLES)
        return MR_FAIL(MR_ERR_ARG, "readout of %lld samples is over the limit of %lld",
                       (long long)ns, (long long)MR_READOUT_MAX_SAMPLES);
    if (ns < 1 || l->discard_pre < 0 || l->discard_post < 0 ||
        l->discard_pre + l->discard_post >= ns)
        return MR_FAIL(MR_ERR_DATA,
                       "readout of %lld samples with discard_pre %lld and discard_post %lld "
                       "keeps no sample",
                       (long long)ns, (long long)l->discard_pre, (long long)l->discard_post);
    if (l->center_sample < 0 || l->center_sample >= ns)
        return MR_FAIL(MR_ERR_DATA, "readout center_sample %lld is outside its %lld samples",
                       (long long)l->center_sample, (long long)ns);
    const int64_t center = l->center_sample != 0 ? l->center_sample : ns / 2;
    const int64_t shift = ro->enc_x / 2 - center;
    int64_t lo = 0;
    int64_t hi = 0;
    kept_range(l, &lo, &hi);
    if (hi + shift <= 0 || lo + shift >= ro->enc_x)
        return MR_FAIL(MR_ERR_DATA,
                       "readout of %lld samples (center_sample %lld, discard_pre %lld, "
                       "discard_post %lld%s) places no kept sample inside the %lld encoded "
                       "samples",
                       (long long)ns, (long long)l->center_sample, (long long)l->discard_pre,
                       (long long)l->discard_post, l->reverse ? ", reversed" : "",
                       (long long)ro->enc_x);
    return MR_OK;
}

mr_status mr_readout_process(struct mr_readout *ro, const struct mr_readout_line *line,
                             const float complex *in, float complex *out)
{
    const int64_t nc = ro->nc;
    const int64_t ns = line->samples;
    const int64_t ex = ro->enc_x;
    const int64_t w = ro->w;

    mr_status st = check_line(ro, line);
    if (st != MR_OK)
        return st;
    const bool rev = line->reverse;
    const int64_t dpre = line->discard_pre;
    const int64_t dpost = line->discard_post;
    const int64_t center = line->center_sample != 0 ? line->center_sample : ns / 2;
    const int64_t shift = ex / 2 - center;
    /* placed straight into out when no resampling follows */
    float complex *placed = ex == w ? out : ro->line;

    memset(placed, 0, sizeof(*placed) * (size_t)(nc * ex));
    for (int64_t c = 0; c < nc; c++) {
        const float complex *src = in + c * ns;
        float complex *dst = placed + c * ex;
        for (int64_t t = 0; t < ns; t++) {
            const int64_t acq_t = rev ? ns - 1 - t : t; /* sample t of the k-ordered line */
            if (acq_t < dpre || acq_t >= ns - dpost)
                continue;
            const int64_t p = t + shift;
            if (p >= 0 && p < ex)
                dst[p] = src[acq_t];
        }
    }
    if (ex == w)
        return MR_OK;
    /* oversampling removal in the image domain: centred IFFT, crop/pad, centred FFT */
    mr_fft1_inverse(ro->fft_enc, ro->line, ro->line, nc);
    for (int64_t c = 0; c < nc; c++) {
        float complex *dst = out + c * w;
        const float complex *src = ro->line + c * ex;
        if (ex > w) {
            memcpy(dst, src + (ex - w) / 2, sizeof(*dst) * (size_t)w);
        } else {
            memset(dst, 0, sizeof(*dst) * (size_t)w);
            memcpy(dst + (w - ex) / 2, src, sizeof(*dst) * (size_t)ex);
        }
    }
    mr_fft1_forward(ro->fft_w, out, out, nc);
    return MR_OK;
}
