/* Temp-file-and-rename writing (see atomic_file.h). */
#include "io/atomic_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void release(struct mr_atomic_file *af)
{
    free(af->tmp);
    free(af->path);
    af->f = NULL;
    af->tmp = NULL;
    af->path = NULL;
}

mr_status mr_atomic_file_open(struct mr_atomic_file *af, const char *path)
{
    size_t n = strlen(path);
    int fd;

    af->f = NULL;
    af->tmp = malloc(n + 16);
    af->path = malloc(n + 1);
    if (af->tmp == NULL || af->path == NULL) {
        release(af);
        return MR_FAIL(MR_ERR_NOMEM, "temporary name for '%s'", path);
    }
    memcpy(af->path, path, n + 1);
    snprintf(af->tmp, n + 16, "%s.tmp-XXXXXX", path);
    fd = mkstemp(af->tmp);
    if (fd < 0) {
        int e = errno;
        release(af);
        return MR_FAIL(MR_ERR_IO, "cannot create a file next to '%s': %s", path, strerror(e));
    }
    (void)fchmod(fd, 0644); /* mkstemp makes 0600; a normal output file is 0644 */
    af->f = fdopen(fd, "wb");
    if (af->f == NULL) {
        int e = errno;
        close(fd);
        unlink(af->tmp);
        release(af);
        return MR_FAIL(MR_ERR_IO, "cannot open a file next to '%s': %s", path, strerror(e));
    }
    return MR_OK;
}

mr_status mr_atomic_file_commit(struct mr_atomic_file *af)
{
    mr_status st = MR_OK;
    bool bad = ferror(af->f) != 0;

    bad = fflush(af->f) != 0 || bad;
    bad = fsync(fileno(af->f)) != 0 || bad;
    int e = errno;
    bad = fclose(af->f) != 0 || bad;
    af->f = NULL;
    if (bad) {
        st = MR_FAIL(MR_ERR_IO, "cannot write '%s': %s", af->path, strerror(e != 0 ? e : EIO));
        unlink(af->tmp);
    } else if (rename(af->tmp, af->path) != 0) {
        e = errno;
        st = MR_FAIL(MR_ERR_IO, "cannot rename '%s' to '%s': %s", af->tmp, af->path,
                     strerror(e));
        unlink(af->tmp);
    }
    release(af);
    return st;
}

void mr_atomic_file_abort(struct mr_atomic_file *af)
{
    if (af == NULL)
        return;
    if (af->f != NULL) {
        fclose(af->f);
        unlink(af->tmp);
    }
    release(af);
}
