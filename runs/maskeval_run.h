/*
 * The inside of a maskeval run, shared by its files (not a public header): the run state, the
 * input readers (maskeval_inputs.c), the task files and kept options (maskeval_files.c), and
 * the summary and report (maskeval_report.c). The run itself is maskeval.c.
 */
#ifndef MR_RUNS_MASKEVAL_RUN_H
#define MR_RUNS_MASKEVAL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/array.h"
#include "runs/maskeval.h"
#include "runs/results.h"
#include "sampling/mask_stats.h"

#define MR_MASKEVAL_ERR_SCALE 0.2 /* error maps span [0, ERR_SCALE * target window] */
#define MR_MASKEVAL_MSG 1024      /* room for an error message */

/* ---- inputs (maskeval_inputs.c) ---------------------------------------------------------- */

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
    bool (*probe)(const char *path); /* true if this reader handles path (never fails loudly) */
    mr_status (*open)(const char *path, void **ctx, struct mr_maskeval_volume_info *info);
    /* ksp: (coils, h, w) CF32 allocated by the caller */
    mr_status (*read_slice)(void *ctx, int64_t slice, struct mr_array *ksp);
    void (*close)(void *ctx);
};

/* Opens path with the first reader whose probe accepts it. Errors: MR_ERR_IO, MR_ERR_FORMAT
 * (no reader), the reader's own. */
mr_status mr_maskeval_source_open(const char *path, const struct mr_maskeval_source_ops **ops,
                                  void **ctx, struct mr_maskeval_volume_info *info);

struct mr_strlist {
    char **v;
    size_t n;
    size_t cap;
};
void mr_strlist_free(struct mr_strlist *l);
/* qsort comparison of two char * (strcmp) */
int mr_strlist_cmp(const void *a, const void *b);

/* files as given; folders expanded to their *.h5 files, sorted. Errors: MR_ERR_IO, MR_ERR_ARG
 * (a folder without .h5 files), MR_ERR_NOMEM. */
mr_status mr_maskeval_expand_inputs(const struct mr_maskeval_config *cfg,
                                    struct mr_strlist *files);

/* (H, W) 0/1 mask of a volume: the .npy file or the spec generated for the volume (seeded by
 * its base name when the spec has no seed). */
mr_status mr_maskeval_mask_make(const struct mr_maskeval_mask *m, const char *file, int64_t h,
                                int64_t w, struct mr_array *mask);

/* "equispaced", ..., or "file" */
const char *mr_maskeval_mask_kind(const struct mr_maskeval_mask *m);

/* Base name of a path and a stable FNV-1a hash of a string (picture names). */
const char *mr_maskeval_base_name(const char *path);
uint64_t mr_maskeval_hash(const char *s);

/* ---- the run ------------------------------------------------------------------------------ */

struct mr_maskeval_report_mask {
    bool done;
    char mask_png[64];
    char psf_png[64];
    struct mr_mask_stats stats;
    int64_t w; /* picture width */
    char note[600];
};

struct mr_maskeval_gallery_slice {
    int file;
    int64_t slice;
};

struct mr_maskeval_run {
    const struct mr_maskeval_config *cfg;
    struct mr_strlist files;
    struct mr_maskeval_volume_info *infos;
    mr_status *open_st;
    char (*open_err)[MR_MASKEVAL_MSG];
    struct mr_result_table rows;
    struct mr_maskeval_report_mask *rmasks;
    struct mr_maskeval_gallery_slice *gallery;
    int ngallery;
    char csv_path[4200];
    /* progress */
    int64_t total;
    int64_t finished;
    double t0;
    double last_print;
    double last_checkpoint;
    bool serial;       /* one process does every task: row progress bar, checkpoints */
    int fatal; /* mr_status of an error that stops the run; read and written atomically */
    char fatal_msg[MR_MASKEVAL_MSG]; /* its message (under omp critical(mr_maskeval_rows)) */
    struct mr_maskeval_counts counts;
};

/* Picture of a gallery slice: outdir/gallery/<file hash>_s<slice>[_<mask>_<method>]_<what>.png
 * (outdir NULL: the path relative to the output folder). */
void mr_maskeval_gallery_name(char *buf, size_t len, const char *outdir, const char *file,
                              int64_t slice, const char *mask, const char *method,
                              const char *what);

/* ---- task files and kept options (maskeval_files.c) ------------------------------------- */

/* outdir/tasks/<hash of file, mask, method>.csv: the rows of task (fi, mi, ji). */
void mr_maskeval_task_file_name(char *buf, size_t len, const struct mr_maskeval_run *R,
                                int fi, int mi, int ji);

/* Into R->rows: results.csv, then every task file (newer rows replace older ones of the same
 * key). Errors: those of mr_results_load_csv, MR_ERR_IO (the tasks folder), MR_ERR_NOMEM. */
mr_status mr_maskeval_load_rows(struct mr_maskeval_run *R);

/* Removes the task files (their rows are in results.csv now) and the folder if empty.
 * Errors: MR_ERR_IO (a file that cannot be removed), MR_ERR_NOMEM. */
mr_status mr_maskeval_remove_task_files(const struct mr_maskeval_run *R);

/* OUT/maskeval.args: the options of the run (cfg->args; none: nothing), for --merge.
 * Errors: MR_ERR_ARG (task files of an unmerged run with other options remain), MR_ERR_IO. */
mr_status mr_maskeval_keep_args(const struct mr_maskeval_run *R);

/* Sort keys (mask_ord, method_ord) of rows loaded from CSV: their order in the
 * configuration, labels not in it last. */
void mr_maskeval_set_orders(struct mr_maskeval_run *R);

/* ---- summary and report (maskeval_report.c) ---------------------------------------------- */

/* summary.json and report.html of the rows in the table (the current configuration's). */
mr_status mr_maskeval_write_summary_and_report(struct mr_maskeval_run *R);

#endif
