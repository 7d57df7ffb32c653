/*
 * Writing a file so that a failure never leaves a half file behind: the data goes to a
 * uniquely named temporary file next to the target ("<path>.tmp-XXXXXX", mode 0644), which
 * mr_atomic_file_commit flushes, syncs and renames onto the target in one step. Any failure,
 * or mr_atomic_file_abort, removes the temporary file and leaves an existing target untouched.
 * (HDF5 files use the same rule through io/h5.h's create/commit.)
 */
#ifndef MR_IO_ATOMIC_FILE_H
#define MR_IO_ATOMIC_FILE_H

#include <stdio.h>

#include "recon/status.h"

struct mr_atomic_file {
    FILE *f;    /* write here between open and commit */
    char *tmp;  /* the temporary name (owned) */
    char *path; /* the target (owned copy) */
};

/* Creates the temporary file. Errors: MR_ERR_IO (folder missing or not writable),
 * MR_ERR_NOMEM. On failure af is left closed (abort is still safe). */
mr_status mr_atomic_file_open(struct mr_atomic_file *af, const char *path);

/* Flushes, fsyncs and closes the temporary file and renames it onto the target. Always
 * releases af. Errors: MR_ERR_IO (a write error seen by the stream, disk full, rename). */
mr_status mr_atomic_file_commit(struct mr_atomic_file *af);

/* Closes and removes the temporary file; releases af. Safe on a closed or zeroed af. */
void mr_atomic_file_abort(struct mr_atomic_file *af);

#endif
