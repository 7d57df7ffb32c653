/*
 * `mrirecon batch`: reconstruct every file of a dataset, one task per input volume (its slices
 * stay together), each through the pipeline's per-volume reconstruction (pipeline/volume.h,
 * exactly `mrirecon recon IN OUT`), scheduled by runs/tasks.h (serial, shard I/N or MPI).
 *
 * Inputs: a folder (every *.h5 below it, recursively; names starting with '.' are skipped)
 * or a text file listing one input per
 * line (blank lines and lines starting with '#' ignored; relative paths are relative to the
 * list's folder). Tasks are sorted by their output name, so every worker builds the same list.
 * Output of an input <rel>.h5 (its path below the folder, or the listed path; the base name
 * for an absolute listed path): OUT/<rel>.h5 | .png | .nii, or the DICOM series folder
 * OUT/<rel>/. Two inputs with the same output, a listed path with a ".." component, and an
 * OUT_DIR equal to or inside the input folder (or holding a listed input) are MR_ERR_ARG.
 *
 * OUT_DIR also holds
 *   batch.options        the reconstruction options of the run (cfg->options, a canonical
 *                        text made by the caller). A rerun with other options is refused
 *                        (MR_ERR_ARG naming both), so results of different options never mix;
 *   batch.jsonl          the log: one JSON line per computed task and attempt,
 *                        {"task","file","output","slices","status":"ok"|"error","error",
 *                        "seconds"}, each run's lines in task order after the earlier runs';
 *   batch.summary.json   {"tasks","outputs","missing","ok","failed","skipped","seconds"} of
 *                        the last run (outputs: those present at its end; the same for any
 *                        number of workers apart from seconds);
 *   .batch/              the per-worker journals of runs in progress and a lock file.
 * Each worker appends a line to its own journal (.batch/journal-<id>.jsonl, held under an
 * flock while it runs) when it finishes a task; at the end the journals are merged into
 * batch.jsonl (MPI: by rank 0 after every rank is done; a shard: its own, under the lock).
 * A journal whose writer died (its flock is free) is merged by the next run at its start.
 *
 * Resuming: a task whose output exists is skipped (outputs appear atomically, so an existing
 * one is complete); failed tasks have no output and are retried. A run killed mid-way thus
 * loses at most the tasks in flight. A task that fails is logged with its error and the run
 * goes on.
 */
#ifndef MR_RUNS_BATCH_H
#define MR_RUNS_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/volume.h"
#include "runs/tasks.h"

struct mr_batch_config {
    struct mr_volume_config volume; /* per-volume reconstruction; its progress is not used;
                                     * format MR_OUTPUT_AUTO means h5 */
    const char *input;              /* folder or list file */
    const char *outdir;
    const char *options;            /* canonical text of the options (the fingerprint) */
    struct mr_tasks_config tasks;
    bool quiet;                     /* no progress on stderr (rank 0 prints it) */
};

struct mr_batch_counts {
    int64_t tasks;   /* inputs */
    int64_t ok;      /* computed in this run, over every worker */
    int64_t failed;
    int64_t skipped; /* output already there */
};

/* Runs the batch (see the top of this file); collective under MPI. counts may be NULL.
 * Returns MR_OK when the run went through, also when tasks failed (counts->failed).
 * Errors: MR_ERR_ARG (inputs, OUT_DIR, options mismatch), MR_ERR_IO (OUT_DIR, log, journal),
 * MR_ERR_NOMEM. */
mr_status mr_batch_run(const struct mr_batch_config *cfg, struct mr_batch_counts *counts);

#endif
