/*
 * Offline evaluation of sampling patterns (`mrirecon maskeval`): for every fully sampled input
 * volume × slice × mask × method, undersample the k-space retrospectively, reconstruct, and
 * score against the fully sampled image.
 *
 * Per row (one slice, one mask, one method):
 *   ksp_u   = ksp · mask (+0.0 where unsampled, as fastMRI's apply_mask), mask (H, W) 0/1
 *   maps    = ESPIRiT (recon/espirit.h, bart ecalib -m1 defaults, crop 0 unless configured)
 *             from the calibration region of ksp_u, for the methods that want maps
 *   pred    = |method(ksp_u, mask, maps)|, F32 (H, W)
 *   target  = RSS of the fully sampled coil images, sqrt(Σ_c |IFFT(ksp_c)|²) (centred ortho
 *             FFT: fastMRI's reconstruction_rss before its crop)
 *   both centre-cropped as fastMRI does: first to the volume's recon size (the ISMRMRD
 *   header's reconSpace matrix where it fits, else H × W), then to (W', W') with W' the
 *   cropped width (evaluate.py; the height is kept where it is smaller than W')
 *   NMSE, PSNR, SSIM = sampling/metrics.h fastMRI definitions on this one slice (data range
 *   = the slice target's maximum; evaluate.py uses the volume maximum).
 *
 * Masks: a spec string of sampling/mask_spec.h, generated once per volume for its (H, W) and
 * seeded by the volume's file name when the spec has no seed (fastMRI's per-volume masks), or
 * a .npy file (a length-W column mask or (H, W), nonzero = sampled). Same mask on every slice.
 *
 * Nothing is lost: a volume that cannot be opened, a mask that does not fit a volume, a slice
 * that cannot be read or reconstructed each become rows with status "error" and the message;
 * the run continues. maskeval returns an error only for what stops the whole run (output
 * folder not writable, out of memory).
 *
 * Output folder:
 *   results.csv    one row per file × slice × mask × method:
 *                  file,slice,mask,method,accel,status,nmse,psnr,ssim,time_s,error
 *                  (RFC 4180 quoting; slice -1 for a volume that could not be opened;
 *                  accel = the measured acceleration of the mask, sampling/mask_stats.h;
 *                  time_s = wall seconds of the reconstruction, plus those of the ESPIRiT
 *                  maps for the methods that use them — the maps are computed once per slice
 *                  and mask and shared)
 *   summary.json   per mask × method: accel, n, failed, mean and sample std (ddof 1) of
 *                  NMSE, PSNR, SSIM, mean time
 *   report.html    static page (apps/report.h) with the masks, PSFs, table, plots, gallery
 *   masks/, gallery/  the PNG pictures the page shows
 * All three text files are written to a temporary name and renamed into place (also at the
 * periodic checkpoints of results.csv during the run), so an interrupted run leaves valid files.
 *
 * Resuming: rows of an existing results.csv with status "ok" are kept and not recomputed; rows
 * with status "error" are recomputed (and replaced). Rows of other files/masks/methods already
 * in the CSV are kept, and the summary and report cover only the current configuration.
 *
 * Parallelism: volumes one after another; the slices of a volume in parallel with OpenMP
 * (cfg.jobs threads, dynamic schedule), one set of buffers and method contexts per thread;
 * HDF5 reads happen one at a time (omp critical(mr_hdf5)). Results do not depend on the
 * number of threads except for float rounding inside reductions of the solvers.
 *
 * Plugging in more inputs and methods: inputs are read through `struct mr_maskeval_source_ops`
 * (a table in maskeval.c, first whose probe accepts the file wins; fastMRI files now, ISMRMRD
 * datasets to be added there); methods through `struct mr_maskeval_method_ops` (classic
 * methods; networks — a weight file — go through `mr_maskeval_network_ops`).
 */
#ifndef MR_APPS_MASKEVAL_H
#define MR_APPS_MASKEVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/classic.h"
#include "recon/espirit.h"
#include "sampling/mask_spec.h"

/* ---- inputs ------------------------------------------------------------------------------ */

struct mr_maskeval_volume_info {
    int64_t slices;
    int64_t coils;
    int64_t h; /* k-space rows */
    int64_t w; /* k-space columns */
    int64_t recon_h; /* recon size (header reconSpace where it fits, else h) */
    int64_t recon_w;
};

/* A reader of fully sampled multi-coil k-space, one slice (C, H, W) CF32 centred at a time.
 * All calls happen on one thread at a time (HDF5). */
struct mr_maskeval_source_ops {
    const char *name;
    /* true if this reader handles path (must not fail loudly) */
    bool (*probe)(const char *path);
    mr_status (*open)(const char *path, void **ctx, struct mr_maskeval_volume_info *info);
    /* ksp: (coils, h, w) CF32 allocated by the caller */
    mr_status (*read_slice)(void *ctx, int64_t slice, struct mr_array *ksp);
    void (*close)(void *ctx);
};

/* ---- methods ----------------------------------------------------------------------------- */

struct mr_maskeval_method;

struct mr_maskeval_method_ops {
    const char *name;
    bool needs_maps; /* run wants ESPIRiT maps of the undersampled k-space */
    /* Optional: whether this instance (ctx from create) wants the maps, for methods whose
     * need depends on their configuration (networks); NULL: needs_maps alone decides. The
     * maps are computed once per slice and mask and shared by every method that wants them. */
    bool (*wants_maps)(void *ctx);
    /* One context per thread for (nc, h, w) k-space; allocate and plan everything here. */
    mr_status (*create)(const struct mr_maskeval_method *m, int64_t nc, int64_t h, int64_t w,
                        void **ctx);
    /* mag (H, W) F32 = |reconstruction| of ksp (C, H, W) CF32 (zero off the mask), mask
     * (H, W) F32 0/1, maps (C, H, W) CF32 or NULL when the method does not want them.
     * Same scale as the RSS of the coil images (orthonormal centred FFT). */
    mr_status (*run)(void *ctx, const struct mr_array *ksp, const struct mr_array *mask,
                     const struct mr_array *maps, struct mr_array *mag);
    void (*free)(void *ctx);
};

struct mr_maskeval_method {
    char label[256]; /* as given, e.g. "cs:iters=50,lambda=0.005"; the CSV's method column */
    const struct mr_maskeval_method_ops *ops;
    struct mr_classic_config classic; /* zf / sense / cg / cs */
    char weights[1024];               /* networks: weight file ("" for pnp-lpn's default) */
};

/* Learned methods: a weight file of a registered network (apps/net_recon.h). */
extern const struct mr_maskeval_method_ops mr_maskeval_network_ops;

/*
 * Parses a method: "zf" | "sense" | "cg" | "cs", optionally with ":iters=N,lambda=L"
 * (recon/classic.h; defaults cg 30 / 0.01, cs 100 / 0.01), "pnp-lpn", or a path ending in
 * ".h5" (a weight file). Errors: MR_ERR_ARG naming the method and what was expected.
 */
mr_status mr_maskeval_method_parse(const char *s, struct mr_maskeval_method *out);

/* ---- masks ------------------------------------------------------------------------------- */

struct mr_maskeval_mask {
    char label[512]; /* as given; the CSV's mask column */
    bool is_file;    /* .npy file (path = label) rather than a spec */
    struct mr_mask_spec spec;
};

/* A path ending in ".npy" is a mask file (read when used), anything else a mask spec
 * (MR_ERR_ARG from mr_mask_spec_parse when invalid). */
mr_status mr_maskeval_mask_parse(const char *s, struct mr_maskeval_mask *out);

/* ---- the run ----------------------------------------------------------------------------- */

struct mr_maskeval_config {
    const char *const *inputs; /* files or folders (every *.h5 in a folder, sorted) */
    int ninputs;
    const struct mr_maskeval_mask *masks;
    int nmasks;
    const struct mr_maskeval_method *methods;
    int nmethods;
    const char *outdir;
    int64_t slice0; /* slices [slice0, slice1) of each volume, clamped; -1: all */
    int64_t slice1;
    bool middle_slice; /* only the middle slice of each volume (overrides slice0/1) */
    int jobs;          /* threads; <= 0: OpenMP's default */
    int gallery;       /* volumes whose middle evaluated slice goes into the gallery */
    bool quiet;        /* no progress bar on stderr */
    double checkpoint_s; /* rewrite results.csv at most this often during the run */
    struct mr_espirit_config espirit;
};
/* all slices, OpenMP default threads, gallery 3, progress on, checkpoint 10 s, ESPIRiT with
 * the ecalib defaults but crop 0 */
extern const struct mr_maskeval_config mr_maskeval_config_default;

struct mr_maskeval_counts {
    int64_t rows;     /* rows of the current configuration in results.csv at the end */
    int64_t computed; /* rows computed in this run (ok or error) */
    int64_t skipped;  /* rows already done in results.csv */
    int64_t failed;   /* rows of the current configuration with status error */
};

/* Runs the evaluation (see the top of this file). counts may be NULL.
 * Errors: MR_ERR_ARG (empty input/mask/method lists, an input folder without .h5 files),
 * MR_ERR_IO (output folder or files cannot be written, unreadable results.csv),
 * MR_ERR_FORMAT (results.csv from something else), MR_ERR_NOMEM. */
mr_status mr_maskeval_run(const struct mr_maskeval_config *cfg,
                          struct mr_maskeval_counts *counts);

#endif
