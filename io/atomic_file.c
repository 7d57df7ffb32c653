/* Temp-file, fsync, rename, fsync-folder writing (see atomic_file.h). */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An af is live while tmp != NULL; a zeroed or released af has tmp == NULL. */
static void release(struct mr_atomic_file *af)
{
    free(af->tmp);
    free(af->path);
    af->f = NULL;
    af->fd = -1;
    af->tmp = NULL;
    af->path = NULL;
}

/* Closes whatever is open on the temporary file; returns 0 or the first errno seen. */
static int close_tmp(struct mr_atomic_file *af)
{
    int e = 0;
    if (af->f != NULL) {
        if (fclose(af->f) != 0)
            e = errno;
    } else if (af->fd >= 0 && close(af->fd) != 0) {
        e = errno;
    }
    af->f = NULL;
    af->fd = -1;
    return e;
}

static mr_status create_tmp(struct mr_atomic_file *af, const char *path, bool stream)
{
    size_t n = strlen(path);

    af->f = NULL;
    af->fd = -1;
    af->tmp = malloc(n + 16);
    af->path = malloc(n + 1);
    if (af->tmp == NULL || af->path == NULL) {
        release(af);
        return MR_FAIL(MR_ERR_NOMEM, "temporary name for '%s'", path);
    }
    memcpy(af->path, path, n + 1);
    snprintf(af->tmp, n + 16, "%s.tmp-XXXXXX", path);
    af->fd = mkstemp(af->tmp);
    if (af->fd < 0) {
        int e = errno;
        release(af);
        return MR_FAIL(MR_ERR_IO, "cannot create a file next to '%s': %s", path, strerror(e));
    }
    (void)fchmod(af->fd, 0644); /* mkstemp makes 0600; a normal output file is 0644 */
    if (stream) {
        af->f = fdopen(af->fd, "wb");
        if (af->f == NULL) {
            int e = errno;
            mr_atomic_file_abort(af);
            return MR_FAIL(MR_ERR_IO, "cannot open a file next to '%s': %s", path,
                           strerror(e));
        }
    }
    return MR_OK;
}

mr_status mr_atomic_file_open(struct mr_atomic_file *af, const char *path)
{
    return create_tmp(af, path, true);
}

mr_status mr_atomic_file_reserve(struct mr_atomic_file *af, const char *path)
{
    return create_tmp(af, path, false);
}

/* fsync of the folder holding path, so that a rename into it survives a crash. File systems
 * that cannot sync a folder (EINVAL, ENOTSUP) have nothing more to offer and are accepted. */
static int sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    int e = 0;

    if (slash == NULL) {
        dir = malloc(2);
        if (dir != NULL)
            memcpy(dir, ".", 2);
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir != NULL) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (dir == NULL)
        return ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
    } else {
        if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
            e = errno;
        close(fd);
    }
    free(dir);
    return e;
}

mr_status mr_atomic_file_commit(struct mr_atomic_file *af)
{
    mr_status st = MR_OK;
    int e = 0;

    if (af->tmp == NULL)
        return MR_FAIL(MR_ERR_ARG, "no file being written to commit");
    errno = 0;
    if (af->f != NULL && (fflush(af->f) != 0 || ferror(af->f) != 0))
        e = errno != 0 ? errno : EIO; /* a failed earlier fwrite may have left no errno */
    if (e == 0 && fsync(af->fd) != 0)
        e = errno;
    int ce = close_tmp(af);
    if (e == 0)
        e = ce;
    if (e != 0) {
        st = MR_FAIL(MR_ERR_IO, "cannot write '%s': %s", af->path, strerror(e));
        unlink(af->tmp);
        goto out;
    }
    if (rename(af->tmp, af->path) != 0) {
        e = errno;
        st = MR_FAIL(MR_ERR_IO, "cannot rename '%s' to '%s': %s", af->tmp, af->path,
                     strerror(e));
        unlink(af->tmp);
        goto out;
    }
    e = sync_folder(af->path);
    if (e != 0)
        st = MR_FAIL(MR_ERR_IO, "wrote '%s' but cannot sync its folder: %s", af->path,
                     strerror(e));
out:
    release(af);
    return st;
}

void mr_atomic_file_abort(struct mr_atomic_file *af)
{
    if (af == NULL || af->tmp == NULL)
        return;
    (void)close_tmp(af);
    unlink(af->tmp);
    release(af);
}

bool mr_same_file(const char *out, const char *in)
{
    struct stat a;
    struct stat b;

    if (stat(out, &a) != 0 || stat(in, &b) != 0)
        return false;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}
