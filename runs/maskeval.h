/*
 * Offline evaluation of sampling patterns (`mrirecon maskeval`): for every fully sampled input
 * volume × slice × mask × method, undersample the k-space retrospectively, reconstruct, and
 * score against the fully sampled image.
 *
 * Per row (one slice, one mask, one method):
 *   ksp_u   = ksp · mask (+0.0 where unsampled, as fastMRI's apply_mask), mask (H, W) 0/1
 *   maps    = as the method's config says (pipeline/pipeline.h; default ESPIRiT, bart ecalib
 *             -m1 with crop 0) from the calibration region of ksp_u, for the methods that
 *             use maps
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
 *                  time_s = wall seconds of the reconstruction, the maps of the methods that
 *                  use them included)
 *   summary.json   per mask × method: accel, n, failed, mean and sample std (ddof 1) of
 *                  NMSE, PSNR, SSIM, mean time
 *   report.html    static page (runs/report.h) with the masks, PSFs, table, plots, gallery
 *   masks/, gallery/  the PNG pictures the page shows
 * All three text files are written to a temporary name and renamed into place (also at the
 * periodic checkpoints of results.csv during the run), so an interrupted run leaves valid files.
 *
 * Resuming: rows of an existing results.csv with status "ok" are kept and not recomputed; rows
 * with status "error" are recomputed (and replaced). Rows of other files/masks/methods already
 * in the CSV are kept, and the summary and report cover only the current configuration.
 *
 * Tasks: the work is one task per volume × mask × method, in that (sorted) order; a task
 * reconstructs every pending slice of its volume with its method (pipeline/pipeline.h), the
 * slices in parallel with OpenMP (cfg.jobs threads, dynamic schedule), one pipeline and one
 * set of buffers per thread; HDF5 reads happen one at a time (omp critical(mr_hdf5)). A worker's
 * error travels back with its message. Results do not depend on the number of threads except
 * for float rounding inside reductions of the solvers.
 *
 * Scale-out (runs/tasks.h): the tasks (file, mask, method), in the order above, are shared
 * out serially, as shard I/N of independent processes, or over MPI ranks (dynamic). Each
 * finished task's rows are written atomically to OUT/tasks/<hash of file, mask, method>.csv
 * (numbers to 17 digits: they read back exactly) and read back by later runs, so a killed
 * run of any kind loses only the tasks in flight. The serial run then writes results.csv,
 * summary.json and report.html and removes its task files; an MPI run does the same on
 * rank 0 from the task files of every rank after all ranks are done (the same bytes as a
 * serial run apart from the timing columns: time_s and the mean times); shards leave their
 * task files for `mrirecon maskeval --merge OUT` (mr_maskeval_merge), which uses the options
 * each run keeps in OUT/maskeval.args. A run with other options is refused while task files
 * of an unmerged run remain.
 *
 * Methods are the pipeline's table (pipeline/method.h): every row, with options, by name.
 * Inputs are read through a small table of readers (maskeval_inputs.c; fastMRI files).
 */
#ifndef MR_RUNS_MASKEVAL_H
#define MR_RUNS_MASKEVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/method.h"
#include "runs/tasks.h"
#include "sampling/mask_spec.h"

/* ---- methods ----------------------------------------------------------------------------- */

struct mr_maskeval_method {
    char label[MR_METHOD_PATH_MAX + 64]; /* as given, e.g. "cs:iters=50,lambda=0.005"; the
                                          * CSV's method column */
    struct mr_method_config cfg;
};

/*
 * Parses a method spec of pipeline/method.h (mr_method_config_parse): "zf" | "sense" | "cg" |
 * "cs" | any row of the table, optionally with ":iters=N,lambda=L,...", "pnp-lpn:W.h5", or a
 * path ending in ".h5" (a network weight file). Errors: MR_ERR_ARG naming the method and what
 * was expected.
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
    double checkpoint_s; /* rewrite results.csv at most this often during the run (serial) */
    struct mr_tasks_config tasks; /* serial, shard I/N or MPI ranks (runs/tasks.h) */
    const char *args; /* the options as text, one per line, kept as OUT/maskeval.args for
                       * `--merge`; NULL: not kept */
};
/* no inputs, all slices, OpenMP default threads, gallery 3, progress on, checkpoint 10 s,
 * serial */
extern const struct mr_maskeval_config mr_maskeval_config_default;

struct mr_maskeval_counts {
    int64_t rows;     /* rows of the current configuration in results.csv at the end */
    int64_t computed; /* rows computed in this run (ok or error) */
    int64_t skipped;  /* rows already done in results.csv */
    int64_t failed;   /* rows of the current configuration with status error */
};

/* Runs the evaluation (see the top of this file); collective under MPI. A shard (tasks
 * shard_count > 1) leaves its rows in the task files: mr_maskeval_merge then writes the CSV,
 * summary and report of the whole run. counts may be NULL.
 * Errors: MR_ERR_ARG (empty input/mask/method lists, an input folder without .h5 files),
 * MR_ERR_IO (output folder or files cannot be written, unreadable results.csv),
 * MR_ERR_FORMAT (results.csv from something else), MR_ERR_NOMEM. */
mr_status mr_maskeval_run(const struct mr_maskeval_config *cfg,
                          struct mr_maskeval_counts *counts);

/* The merge step: every task file under OUT/tasks with results.csv into results.csv,
 * summary.json and report.html, exactly as the serial run writes them (cfg: the run's
 * configuration, e.g. from mr_maskeval_read_args); the merged task files are removed.
 * Errors: as mr_maskeval_run. */
mr_status mr_maskeval_merge(const struct mr_maskeval_config *cfg,
                            struct mr_maskeval_counts *counts);

/* *text = the malloc'd contents of OUT/maskeval.args (the options of the last run into outdir).
 * Errors: MR_ERR_IO (absent or unreadable: no run wrote it), MR_ERR_NOMEM. */
mr_status mr_maskeval_read_args(const char *outdir, char **text);

#endif
