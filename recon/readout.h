/*
 * Readout processing of Cartesian raw data: one acquired line of ns samples per coil in, one
 * k-space row of W samples per coil out (what Gadgetron's RemoveROOversamplingGadget and the
 * line placement of BucketToBufferGadget do for one encoding space). Plain arrays: lines are
 * (C, n) complex64, coil-major (sample s of coil c at [c * n + s]).
 *
 * For a line of ns samples d with discard_pre, discard_post, center_sample and a reversal flag:
 *   1. discard: samples [discard_pre, ns - discard_post) are kept, the rest read as zero
 *      (counted in acquisition order);
 *   2. reversal: with `reverse`, the line is read backwards, r[t] = d[ns - 1 - t];
 *   3. placement: sample t of r goes to position p = t + encX/2 - center of an encX-long line
 *      (center = center_sample, or ns/2 when center_sample is 0, ISMRMRD's "unset"); samples
 *      with p outside [0, encX) are dropped and positions not reached stay zero (asymmetric
 *      echo zero-filled in place);
 *   4. oversampling: when encX != W, a centred 1-D inverse FFT over encX, the centre W samples
 *      kept (start (encX - W) / 2) or the encX samples zero-padded into the centre of W
 *      (start (W - encX) / 2), and a centred 1-D forward FFT over W, both orthonormal
 *      (recon/fft.h, mr_fft_config_default). When encX == W the placed line is the output.
 *
 * Memory: create allocates the (C, encX) scratch and plans both FFTs; process never allocates
 * and uses the scratch: one object per thread.
 */
#ifndef MR_RECON_READOUT_H
#define MR_RECON_READOUT_H

#include <complex.h>
#include <stdbool.h>
#include <stdint.h>

#include "recon/status.h"

/* Line lengths accepted by mr_readout_create (encX, W) and mr_readout_process (ns). */
#define MR_READOUT_MAX_SAMPLES ((int64_t)1 << 20)

/* The geometry of one acquired line (ISMRMRD's acquisition header fields of the same names,
 * and its IS_REVERSE flag). */
struct mr_readout_line {
    int64_t samples;       /* ns */
    int64_t discard_pre;   /* >= 0 */
    int64_t discard_post;  /* >= 0 */
    int64_t center_sample; /* 0: ns / 2 */
    bool reverse;
};

struct mr_readout;

/* Plans the processing of lines of nc coils into an enc_x-long encoded line resampled to w.
 * Errors: MR_ERR_ARG (nc < 1, enc_x or w outside 1..MR_READOUT_MAX_SAMPLES), MR_ERR_NOMEM
 * (allocation or FFT planning failed). */
mr_status mr_readout_create(int64_t nc, int64_t enc_x, int64_t w, struct mr_readout **out);
void mr_readout_free(struct mr_readout *ro);

/* out (C, W) = the processed line of in (C, line->samples), both borrowed, not overlapping.
 * out is written only on success. Never allocates.
 * Errors: MR_ERR_DATA when the line cannot contribute a sample: samples < 1, discard_pre or
 * discard_post negative, discard_pre + discard_post >= samples, center_sample outside
 * [0, samples), or no kept sample landing inside the encX-long line; MR_ERR_ARG when samples
 * is over MR_READOUT_MAX_SAMPLES. */
mr_status mr_readout_process(struct mr_readout *ro, const struct mr_readout_line *line,
                             const float complex *in, float complex *out);

#endif
