/*
 * Result rows of an evaluation run and their CSV file (maskeval's results.csv): one row per
 * file × slice × mask × method, with RFC 4180 quoting,
 *
 *   file,slice,mask,method,accel,status,nmse,psnr,ssim,time_s,error
 *
 * (status "ok" or "error"; empty numbers for NaN; "inf"). The table keeps every row it was
 * given in order; a later row with the same key (file, slice, mask, method) replaces an earlier
 * one when the table is read back (mr_results_latest), which is how a resumed run overwrites
 * the rows it recomputes. The file is written under a temporary name and renamed (so the
 * periodic checkpoints of a long run always leave a valid file).
 */
#ifndef MR_RUNS_RESULTS_H
#define MR_RUNS_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/status.h"

struct mr_result_row {
    const char *file; /* strings owned by the table (copied in mr_results_add) */
    int64_t slice;    /* -1: the volume could not be opened */
    const char *mask;
    const char *method;
    double accel;
    bool ok;
    double nmse;
    double psnr;
    double ssim;
    double time_s;
    const char *error;
    double residual; /* the trust report (pipeline/trust.h): data-consistency residual */
    double score;    /* out-of-distribution score (NaN: no reference) */
    bool flagged;
    int64_t seq;    /* insertion order (set by the table) */
    int mask_ord;   /* position in the run's configuration (sorting; nmasks if absent) */
    int method_ord;
};

struct mr_result_key {
    const char *file;
    int64_t slice;
    const char *mask;
    const char *method;
};

struct mr_result_table {
    struct mr_result_row *v;
    size_t n;
    size_t cap;
    int64_t seq;
    struct mr_result_key *done; /* sorted keys of the ok rows, after mr_results_index_done */
    size_t ndone;
};

void mr_results_free(struct mr_result_table *t);

/* Appends a copy of r (its strings duplicated). Errors: MR_ERR_NOMEM. */
mr_status mr_results_add(struct mr_result_table *t, const struct mr_result_row *r);

/* Appends the rows of an existing results file (absent: nothing). Errors: MR_ERR_IO,
 * MR_ERR_FORMAT (not a results file, naming the record), MR_ERR_NOMEM. */
mr_status mr_results_load_csv(struct mr_result_table *t, const char *path);

/* Writes the latest row of every key, sorted by (file, slice, mask order, mask, method order,
 * method), atomically. Errors: MR_ERR_IO, MR_ERR_NOMEM. */
mr_status mr_results_write_csv(const struct mr_result_table *t, const char *path);

/* Writes the rows v[from .. n) as they are (no deduplication, insertion order) with every
 * number to 17 significant digits, so that mr_results_load_csv reads them back bit for bit:
 * the per-task result files of a run (runs/maskeval.h), merged later. Atomic.
 * Errors: MR_ERR_IO. */
mr_status mr_results_write_rows_exact(const struct mr_result_table *t, size_t from,
                                      const char *path);

/* *out = malloc'd array of pointers to the latest row of every key, sorted as in the CSV;
 * free(*out) only. Errors: MR_ERR_NOMEM. */
mr_status mr_results_latest(const struct mr_result_table *t, const struct mr_result_row ***out,
                            size_t *n);

/* Indexes the keys of the ok rows now in the table (the rows a resumed run skips). */
mr_status mr_results_index_done(struct mr_result_table *t);

/* Whether the key was ok when mr_results_index_done ran. */
bool mr_results_done(const struct mr_result_table *t, const char *file, int64_t slice,
                     const char *mask, const char *method);

#endif
