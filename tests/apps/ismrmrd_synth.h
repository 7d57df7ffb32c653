/*
 * Synthetic ISMRMRD raw files for the stage tests, written with the ISMRMRD C API (through
 * io/ismrmrd.h's writer), each exercising one acquisition route of apps/stage.h.
 *
 * The object: a seeded smooth complex image x on an (ny, enc_x) grid, nonzero only in the
 * centre w columns (so readout-oversampling removal loses nothing), seen by nc coils with
 * smooth sensitivities S_c. Coil k-space K_c = FFT2c(x S_c) (recon/fft.h, centred, ortho). Line
 * y carries row y of every K_c (kspace_encode_step_1 = y, limits centre ny/2, center_sample
 * enc_x/2). So the stage's zero-filled recon of the plain file is exactly
 * sqrt(Σ_c |x S_c|²) on the centre w columns (synth_reference).
 */
#ifndef MR_TESTS_APPS_ISMRMRD_SYNTH_H
#define MR_TESTS_APPS_ISMRMRD_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include <ismrmrd/ismrmrd.h>

#include "pipeline/stage.h"
#include "pipeline/volume.h"
#include "recon/array.h"

struct synth {
    int64_t nc;    /* coils (3) */
    int64_t ny;    /* rows = encoded and recon y (24) */
    int64_t w;     /* recon x (20) */
    int64_t enc_x; /* encoded x (40: 2x oversampling) */
    int slices;    /* 1; slice s is the object scaled by 1 + s, lines interleaved */
    int averages;  /* 1; with 2, the lines are K + e and K - e */
    uint64_t seed;

    bool mix;            /* data = M K with a fixed coil-mixing matrix M */
    int noise_lines;     /* noise scans first: M w, w white with unit variance */
    int accel;           /* keep rows y with y % accel == 0 (1: all) ... */
    int calib;           /* ... plus `calib` centre rows flagged calibration */
    bool calib_separate; /* centre rows: PARALLEL_CALIBRATION, written before the imaging
                          * lines (and also as imaging lines when on the accel grid); else
                          * PARALLEL_CALIBRATION_AND_IMAGING in place */
    bool reverse_odd;    /* odd rows stored reversed with IS_REVERSE */
    int pf_rows;         /* first pf_rows rows: omitted (or written as zeros: pf_zero) */
    bool pf_zero;
    int asym;            /* readouts start at sample asym (asymmetric echo): omitted ... */
    bool asym_zero;      /* ... or written as zeros */
    int discard_pre;     /* junk samples before / after each readout, flagged discard */
    int discard_post;
    bool junk_lines;     /* navigator, phase-correction and dummy lines with junk, too */
    int waveforms;       /* physiological waveforms (2 channels x 8 samples) after the noise */
};
extern const struct synth synth_default;

/* A minimal 2-D Cartesian header (16 x 8 matrix, lines 0..7, centre 4) for hand-made streams
 * and stages. */
extern const char *const synth_xml_2d;

/* Writes the file. Returns 0 on success. */
int synth_write(const struct synth *s, const char *path);

/* ref (slices, ny, w) F32 = sqrt(Σ_c |x S_c|²) of each slice (allocated here). */
int synth_reference(const struct synth *s, struct mr_array *ref);

/* *v = the volume configuration of the file path (pipeline/volume.h) with the stage's method
 * and image series. */
void synth_volume_config(const struct mr_stage_config *cfg, struct mr_volume_config *v);

/* The float images of group in the ISMRMRD file path as vol (n, ny, nx) F32 (allocated here;
 * every image the same size), with the first max_heads image headers in heads (NULL: none).
 * Fails the calling cmocka test on any error. */
void synth_read_images(const char *path, const char *group, struct mr_array *vol,
                       ISMRMRD_ImageHeader *heads, uint32_t max_heads);

#endif
