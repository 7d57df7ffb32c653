/*
 * Every output file of the project is written so that a failure never leaves a half file
 * behind and never destroys the file it replaces:
 *
 *   open     the data goes to a new, uniquely named file in the target's folder,
 *            "<path>.tmp-XXXXXX" (mkstemp, mode 0644): the same file system, so the rename
 *            below is atomic;
 *   commit   flush, fsync the file (a full disk or an I/O error surfaces here at the latest),
 *            close, rename it onto <path> (replacing an old file in one step), fsync the folder
 *            so that the new name itself is durable;
 *   abort    (and every failure of open or commit) closes and removes the temporary file; an
 *            existing <path> is left untouched.
 *
 * Three ways to fill the temporary file, one protocol:
 *   - stdio: fprintf / fwrite to af.f (PNG, NIfTI, npy, CSV, reports);
 *   - a descriptor: write(2) to af.fd (MRD message streams, io/mrd.h's writers);
 *   - a library that creates files by name (HDF5, via io/h5.h): mr_atomic_file_reserve makes
 *     the empty temporary file, the library truncates and fills af.tmp by name and closes it;
 *     commit then syncs it through af.fd, which stays open on the same file.
 * Use one of af.f and af.fd, not both (stdio buffers).
 *
 * A process that dies between open and commit (SIGKILL, power loss) can leave a
 * "<path>.tmp-XXXXXX" file next to the target, never a truncated <path>.
 */
#ifndef MR_IO_ATOMIC_FILE_H
#define MR_IO_ATOMIC_FILE_H

#include <stdbool.h>
#include <stdio.h>

#include "recon/status.h"

struct mr_atomic_file {
    FILE *f;    /* stdio stream on the temporary file (NULL after reserve) */
    int fd;     /* its descriptor; -1 when closed */
    char *tmp;  /* the temporary name (owned) */
    char *path; /* the target (owned copy) */
};

/* Creates the temporary file and opens af->f (and af->fd) on it. af need not be initialised.
 * Errors: MR_ERR_IO (folder missing or not writable, naming the target), MR_ERR_NOMEM. On
 * failure af is left released (abort is still safe). */
mr_status mr_atomic_file_open(struct mr_atomic_file *af, const char *path);

/* Creates the empty temporary file af->tmp for a library that writes by name; af->f is NULL,
 * af->fd stays open for the sync at commit. Same errors as mr_atomic_file_open. */
mr_status mr_atomic_file_reserve(struct mr_atomic_file *af, const char *path);

/* Flushes af->f (if any), fsyncs and closes the file, renames it onto the target and fsyncs
 * the target's folder. Always releases af. Errors: MR_ERR_IO naming the target and the cause
 * (a write error the stream saw, disk full, rename); on a failure before the rename the
 * temporary file is removed and the target untouched. */
mr_status mr_atomic_file_commit(struct mr_atomic_file *af);

/* Closes and removes the temporary file; releases af. Safe on a released or zeroed af. */
void mr_atomic_file_abort(struct mr_atomic_file *af);

/* True if both paths name an existing file and it is the same file (same device and inode,
 * after following symbolic links): writing an output to `out` would replace the input `in`.
 * A path that does not exist (or cannot be examined) is not the same file as anything. */
bool mr_same_file(const char *out, const char *in);

#endif
