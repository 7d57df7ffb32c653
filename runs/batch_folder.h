/*
 * The output folder of a batch run (runs/batch.h), inside runs/ only: the task list's types,
 * the options fingerprint, the per-worker journals and their merge into batch.jsonl, the
 * summary. Files shared by several processes change under the folder lock (.batch/lock, an
 * flock); every file is written atomically (io/atomic_file.h) except the journals, which grow
 * by one whole line per write.
 */
#ifndef MR_RUNS_BATCH_FOLDER_H
#define MR_RUNS_BATCH_FOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runs/batch.h"

#define MR_BATCH_PATH_CAP 4096

struct mr_batch_task {
    char *in;  /* input path */
    char *out; /* output path */
};

struct mr_batch {
    const struct mr_batch_config *cfg;
    struct mr_batch_task *v;
    size_t n;
    size_t cap;
    const char *ext;              /* ".h5", ".png", ".nii" or "" (DICOM folder) */
    char dir[MR_BATCH_PATH_CAP];  /* OUT/.batch */
};

/* A worker's journal: .batch/journal-<id>.jsonl, flocked while the worker lives. */
struct mr_batch_journal {
    int fd;
    char path[MR_BATCH_PATH_CAP + 300];
};

/* Rank 0 (or the only process): creates OUT/.batch, then under the lock checks or writes
 * batch.options (MR_ERR_ARG on a mismatch, naming both texts) and merges the journals of dead
 * workers into batch.jsonl. Errors: MR_ERR_ARG, MR_ERR_IO, MR_ERR_NOMEM. */
mr_status mr_batch_folder_prepare(struct mr_batch *b);

/* Creates and flocks the journal of worker `id` (under the folder lock). MR_ERR_IO. */
mr_status mr_batch_journal_open(struct mr_batch_journal *j, const struct mr_batch *b,
                                const char *id);

/* Appends {"task","file","output","slices","status","error","seconds"} of one finished task
 * (error NULL: ok) in one write. Errors: MR_ERR_IO, MR_ERR_NOMEM. */
mr_status mr_batch_journal_add(struct mr_batch_journal *j, int64_t task,
                               const struct mr_batch_task *t, int64_t slices, const char *error,
                               double seconds);

/* Under the lock: the journals `paths` (np of them; complete lines, in task order) appended to
 * batch.jsonl and removed, then batch.summary.json from c and seconds. */
mr_status mr_batch_folder_finish(const struct mr_batch *b, char **paths, size_t np,
                                 const struct mr_batch_counts *c, double seconds);

/* Whether path exists (an output is complete once it exists). */
bool mr_batch_exists(const char *path);

#endif
