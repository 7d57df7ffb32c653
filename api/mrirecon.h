/*
 * mrirecon: the public C API of libmrirecon (installed as <mrirecon/mrirecon.h>).
 *
 * A thin, stable layer over the engine: reconstruct one slice of multi-coil k-space with any
 * method (CG-SENSE, L1-wavelet CS, a network from its weight file, ...), reconstruct whole
 * fastMRI / ISMRMRD files, make undersampling masks and score images. Everything passes through
 * plain C types; the engine's own structs never appear here.
 *
 * Arrays are C order (last index fastest), exactly as numpy lays out C-contiguous arrays:
 *   k-space  (C, H, W) complex64: 2·C·H·W floats, real and imaginary parts interleaved (the
 *            bytes of numpy complex64, C99 float complex, std::complex<float>); centred (DC
 *            at (H/2, W/2)), zero where not sampled. W is the phase-encode axis of fastMRI.
 *   mask     (H, W) float32, nonzero = sampled
 *   maps     (C, H, W) complex64 coil sensitivities (Σ_c |S_c|² = 1 inside the object)
 *   image    (H, W) float32 magnitude, in the units of the zero-filled image (orthonormal
 *            centred FFT, so |x| ≈ root sum of squares of the coil images)
 * No alignment is required. Inputs are only read; after a failure, the contents of an output
 * array are unspecified.
 *
 * Errors: every function that can fail returns an mrirecon_status (MRIRECON_OK = 0, negative on
 * failure) and records a message for the calling thread, which mrirecon_last_error() returns
 * ("file:line: message" naming the file, object and what was expected).
 *
 * Threads: a handle (struct mrirecon_method) is used by one thread at a time; different handles
 * may run in different threads at once. Functions that take no handle are thread-safe. The
 * engine parallelises inside each call with OpenMP (OMP_NUM_THREADS sets the threads).
 *
 * Versions: MRIRECON_VERSION_* are the header's version; mrirecon_version() is the library's.
 * The library's SONAME (libmrirecon.so.N) changes whenever this ABI changes incompatibly.
 */
#ifndef MRIRECON_MRIRECON_H
#define MRIRECON_MRIRECON_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MRIRECON_VERSION_MAJOR 0
#define MRIRECON_VERSION_MINOR 1
#define MRIRECON_VERSION_PATCH 0
#define MRIRECON_VERSION_STRING "0.1.0"
/* One number for compile-time comparisons: MAJOR·10000 + MINOR·100 + PATCH. */
#define MRIRECON_VERSION                                                                        \
    (MRIRECON_VERSION_MAJOR * 10000 + MRIRECON_VERSION_MINOR * 100 + MRIRECON_VERSION_PATCH)

#if defined(__GNUC__) || defined(__clang__)
#define MRIRECON_API __attribute__((visibility("default")))
#else
#define MRIRECON_API
#endif

/* ------------------------------------------------------------------ version and errors */

/* The library's version, "MAJOR.MINOR.PATCH" (static storage). */
MRIRECON_API const char *mrirecon_version(void);

/* The library's version as MRIRECON_VERSION encodes it. */
MRIRECON_API int mrirecon_version_number(void);

typedef enum mrirecon_status {
    MRIRECON_OK = 0,
    MRIRECON_ERR_NOMEM = -1,       /* out of memory, or over the memory limit */
    MRIRECON_ERR_IO = -2,          /* a file cannot be opened, read or written */
    MRIRECON_ERR_FORMAT = -3,      /* a file is not what it should be */
    MRIRECON_ERR_SHAPE = -4,       /* sizes that do not fit together */
    MRIRECON_ERR_WEIGHTS = -5,     /* a weight file that does not fit its network */
    MRIRECON_ERR_ARG = -6,         /* a bad argument: spec, option, NULL pointer, size */
    MRIRECON_ERR_UNSUPPORTED = -7, /* something the engine does not do */
    MRIRECON_ERR_DATA = -8,        /* values that cannot be reconstructed (NaN k-space, ...) */
} mrirecon_status;

/* The message of the calling thread's last failure ("" if none): valid until the thread's next
 * failing call. */
MRIRECON_API const char *mrirecon_last_error(void);

/* "MRIRECON_ERR_IO" for MRIRECON_ERR_IO, and so on (static storage). */
MRIRECON_API const char *mrirecon_status_name(mrirecon_status st);

/* ------------------------------------------------------------------ memory limit */

/* The limit in bytes on each allocation that file contents decide (a k-space slice, a weight
 * tensor, an ISMRMRD acquisition, a mask): a crafted or damaged file fails with
 * MRIRECON_ERR_NOMEM naming the file, the object and the limit instead of exhausting the
 * machine. Default: half of the physical memory. Process-wide and thread-safe. */
MRIRECON_API uint64_t mrirecon_memory_limit(void);

/* Sets that limit in bytes (as `mrirecon --max-memory` does); 0 restores the default. */
MRIRECON_API void mrirecon_set_memory_limit(uint64_t bytes);

/* ------------------------------------------------------------------ reconstruction */

/* A method made for one k-space size: everything it needs (weights, FFT plans, buffers) is
 * allocated at create, so each slice runs without allocating. The functions below take a
 * handle from mrirecon_method_create; only mrirecon_method_free accepts NULL, and
 * mrirecon_method_run / _maps answer a NULL handle with MRIRECON_ERR_ARG. */
struct mrirecon_method;

/*
 * Creates the method of `spec` for k-space of `coils` coils and h × w:
 *   "zf", "sense", "cg", "cs"           zero-filled RSS, SENSE combination, CG-SENSE, L1-CS
 *   "cs:iters=100,lambda=0.005"         with options (iters|iterations, lambda, maps =
 *                                       espirit|acs|file, espirit_crop)
 *   "W.h5", "model:weights=W.h5"        a network from its weight file (E2EVN, CIRIM,
 *                                       RecurrentVarNet), with its framework's inference
 *                                       processing
 *   "pnp-lpn:W.h5"                      plug-and-play with a learned proximal network
 * (`mrirecon recon --help` lists the methods). Coil maps, for methods that use them, are the
 * caller's (mrirecon_method_run's maps) or else made per slice as `maps=` says (default
 * ESPIRiT; `maps=file` makes maps mandatory). On success *out is a new handle, which
 * mrirecon_method_free releases.
 * Errors: MRIRECON_ERR_ARG (spec, sizes < 1, NULL), MRIRECON_ERR_SHAPE (a size the method
 * cannot run on), the weight file's (IO, FORMAT, WEIGHTS), MRIRECON_ERR_NOMEM.
 */
MRIRECON_API mrirecon_status mrirecon_method_create(const char *spec, int64_t coils, int64_t h,
                                                    int64_t w, struct mrirecon_method **out);

/* Releases the handle (NULL is accepted). */
MRIRECON_API void mrirecon_method_free(struct mrirecon_method *m);

/* The name outputs record for the method: "cg", or a network's architecture, e.g. "cirim"
 * (owned by the handle). */
MRIRECON_API const char *mrirecon_method_label(const struct mrirecon_method *m);

/* 1 if the method uses coil maps (so a caller may compute, share or cache them), else 0. */
MRIRECON_API int mrirecon_method_needs_maps(const struct mrirecon_method *m);

/* The sizes the method was made for (any output may be NULL). */
MRIRECON_API void mrirecon_method_size(const struct mrirecon_method *m, int64_t *coils,
                                       int64_t *h, int64_t *w);

/*
 * image (H, W) = the method's reconstruction of one slice: ksp (C, H, W) complex64, mask
 * (H, W), maps (C, H, W) complex64 or NULL (see mrirecon_method_create), in the layouts at the
 * top of this file and the sizes the method was made for. k-space far outside float's safe
 * range is rescaled internally by a power of two (exact) where the method's output scales
 * with its input.
 * Errors: MRIRECON_ERR_ARG (NULL), MRIRECON_ERR_DATA (non-finite k-space, an image that comes
 * out non-finite or all zero, maps missing with maps=file), the method's own.
 */
MRIRECON_API mrirecon_status mrirecon_method_run(struct mrirecon_method *m, const float *ksp,
                                                 const float *mask, const float *maps,
                                                 float *image);

/*
 * The trust report of the handle's last successful mrirecon_method_run, as JSON text (README
 * "Can this image be trusted?"): "residual" ‖M ⊙ (F S x) − y‖ / ‖M ⊙ y‖ of the result,
 * "unsampled", "steps" [{residual, unsampled}] per cascade / time step / iteration, "score"
 * and "flagged" against the weight file's trust reference (null / false without one), "reason",
 * "mask_kind", "accel", ... Owned by the handle: valid until its next run or free. NULL before
 * the first run (or when out of memory).
 */
MRIRECON_API const char *mrirecon_method_report(struct mrirecon_method *m);

/*
 * maps (C, H, W) complex64 = the coil maps the method would make for this slice: ESPIRiT of the
 * calibration region of ksp (`bart ecalib -m1`), or with maps=acs the low-resolution ACS
 * estimate. For callers that share maps between methods or slices. Errors: MRIRECON_ERR_ARG,
 * MRIRECON_ERR_DATA (no usable calibration region), MRIRECON_ERR_NOMEM.
 */
MRIRECON_API mrirecon_status mrirecon_method_maps(struct mrirecon_method *m, const float *ksp,
                                                  const float *mask, float *maps);

/*
 * Reconstructs every slice of the file `in` with the method of `spec` (as for
 * mrirecon_method_create) and writes `out` atomically, like `mrirecon recon`:
 *   in     a fastMRI-layout file (/kspace (S, C, H, W)) or an ISMRMRD raw dataset (told apart by
 *          content)
 *   out    by extension: .h5 (fastMRI 'reconstruction' (S, H, W) float32; ISMRMRD images for
 *          ISMRMRD input), .png (the slices tiled), .nii (NIfTI-1)
 *   options  NULL, or a NULL-terminated list of key, value strings, e.g.
 *          { "mask", "m.npy", "slices", "0:4", NULL }:
 *            mask    a .npy mask (length W or H × W) to undersample a fastMRI file with
 *            slices  "A:B": slices A .. B-1 only (fastMRI)
 *            crop    "1" (default) | "0": crop to the header's recon matrix (fastMRI)
 *            series  ISMRMRD image_series_index of the output images (0 .. 65535)
 *   images  if not NULL, receives the number of images written.
 * Errors: MRIRECON_ERR_ARG (spec, options, output name, the output being the input), the
 * readers' (IO, FORMAT, SHAPE), the method's (named with the slice), MRIRECON_ERR_IO (writing).
 */
MRIRECON_API mrirecon_status mrirecon_volume_reconstruct(const char *spec, const char *in,
                                                         const char *out,
                                                         const char *const *options,
                                                         int64_t *images);

/* ------------------------------------------------------------------ masks and metrics */

/* What mrirecon_mask_generate chose and produced. */
struct mrirecon_mask_info {
    double accel;            /* the acceleration chosen */
    double center;           /* the centre fraction / FWHM chosen (0 where unused) */
    int64_t low_frequencies; /* fastMRI num_low_frequencies (1-D fastMRI kinds), else 0 */
    int64_t points;          /* sampled entries (1-D kinds: columns; BART poisson: its count) */
    int columns;             /* 1 for the 1-D column kinds (every row is the same), else 0 */
};

/*
 * mask (h, w) float32 (1 = sampled, 0 = not) for k-space of h rows and w columns, as fastMRI,
 * ATOMMIC or BART 0.8 make it, from a spec "KIND[:KEY=VALUE,...]", e.g.
 * "equispaced:accel=4,center=0.08", "random:accel=4/8,center=0.08/0.04,seed=1",
 * "bart-poisson:accel_y=2,accel_z=2,calib=24" (`mrirecon mask --help` lists kinds and keys).
 * Without seed= in the spec, the seed comes from seed_name's base name as fastMRI's transforms
 * seed per file (seed_name may be NULL: seed 0). info may be NULL.
 * Errors: MRIRECON_ERR_ARG (spec, sizes, parameters the generator rejects), MRIRECON_ERR_DATA
 * (poisson2d cannot reach the acceleration), MRIRECON_ERR_NOMEM.
 */
MRIRECON_API mrirecon_status mrirecon_mask_generate(const char *spec, int64_t h, int64_t w,
                                                    const char *seed_name, float *mask,
                                                    struct mrirecon_mask_info *info);

/* Quality numbers of a mask (see `mrirecon mask`; Lustig et al., MRM 58:1182, 2007). */
struct mrirecon_mask_stats {
    int64_t sampled;          /* nonzero entries */
    int64_t total;            /* all entries, h · w */
    double fraction;          /* sampled / total */
    double accel;             /* total / sampled */
    int columns;              /* 1 if every row is the same: evaluated as a column mask */
    int64_t center_cols;      /* 1-D: sampled run containing column w/2, else 0 */
    int64_t center_h;         /* the fully sampled rectangle around (h/2, w/2) */
    int64_t center_w;
    double psf_peak_sidelobe; /* largest side lobe of the normalised point-spread function */
    double psf_incoherence;   /* standard deviation of its side lobes */
};

/* Statistics of mask (h, w) float32, nonzero = sampled (h = 1: a length-w column vector).
 * Errors: MRIRECON_ERR_ARG (NULL, sizes), MRIRECON_ERR_DATA (nothing sampled, non-finite),
 * MRIRECON_ERR_NOMEM. */
MRIRECON_API mrirecon_status mrirecon_mask_stats(const float *mask, int64_t h, int64_t w,
                                                 struct mrirecon_mask_stats *out);

struct mrirecon_metrics {
    double nmse; /* ||x - y||² / ||x||², x = target */
    double psnr; /* dB */
    double ssim;
};

/*
 * fastMRI's evaluate.py numbers for one volume of `slices` images h × w (float32, C order):
 * data range = max(target) over the volume; NMSE and PSNR over the volume; SSIM (7 × 7 window,
 * scikit-image defaults) averaged over slices. evaluate.py first centre-crops both to (w', w')
 * with w' the target width: crop before calling to reproduce it.
 * Errors: MRIRECON_ERR_ARG (NULL, sizes; h, w >= 7 needed), MRIRECON_ERR_DATA (all-zero
 * target).
 */
MRIRECON_API mrirecon_status mrirecon_metrics_fastmri(const float *target, const float *pred,
                                                      int64_t slices, int64_t h, int64_t w,
                                                      struct mrirecon_metrics *out);

/* ATOMMIC's per-slice numbers: every slice normalised by its own max |.|, data range the
 * largest peak-to-peak of the normalised volumes; per_slice[s] for each of the `slices`
 * slices. Errors: as mrirecon_metrics_fastmri, MRIRECON_ERR_DATA for an all-zero slice. */
MRIRECON_API mrirecon_status mrirecon_metrics_atommic(const float *target, const float *pred,
                                                      int64_t slices, int64_t h, int64_t w,
                                                      struct mrirecon_metrics *per_slice);

#ifdef __cplusplus
}
#endif

#endif
