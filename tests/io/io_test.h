/*
 * Helpers shared by the io/ tests: leftover temporary files, error-message checks, and running
 * a writer in a child process whose files may not grow past a few bytes (RLIMIT_FSIZE, the
 * portable stand-in for a full disk: writes past the limit fail with EFBIG once SIGXFSZ is
 * ignored).
 */
#ifndef MR_TESTS_IO_IO_TEST_H
#define MR_TESTS_IO_IO_TEST_H

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

#include "mr_test.h"
#include "recon/status.h"

static inline bool io_test_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Number of "<basename(path)>.tmp-*" entries in path's folder (temporary files left over);
 * with remove, deletes them (and path) instead, so that a run killed mid-write (a sanitizer
 * abort) does not fail the next one. */
static inline int io_test_scan_tmp(const char *path, bool remove)
{
    char dir[1024];
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    int n = 0;

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    size_t bl = strlen(base);
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d))
        if (strncmp(e->d_name, base, bl) == 0 && strncmp(e->d_name + bl, ".tmp-", 5) == 0) {
            n++;
            if (remove) {
                char full[2048];
                snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
                unlink(full);
            }
        }
    closedir(d);
    if (remove)
        unlink(path);
    return n;
}

static inline int io_test_count_tmp(const char *path)
{
    return io_test_scan_tmp(path, false);
}

/* Removes path and any temporary files of it. */
static inline void io_test_clean(const char *path)
{
    (void)io_test_scan_tmp(path, true);
}

/* The last error message mentions a and b (each when not NULL). */
static inline void io_assert_error_mentions(const char *a, const char *b)
{
    const char *msg = mr_last_error();
    if ((a != NULL && strstr(msg, a) == NULL) || (b != NULL && strstr(msg, b) == NULL))
        fail_msg("error \"%s\" does not mention \"%s\" / \"%s\"", msg, a != NULL ? a : "",
                 b != NULL ? b : "");
}

/* A cmocka test to run last: every HDF5 identifier the program opened was closed again. */
static inline void io_test_no_open_h5_ids(void **state)
{
    (void)state;
    assert_int_equal(H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
}

/* Runs fn(arg) in a child process whose files cannot grow past limit bytes. Returns the
 * mr_status fn returned in the child (as a non-negative exit code: -status), or -1000 if the
 * child died of a signal (a crash). *msg receives the child's error message (up to len). */
typedef mr_status (*io_test_fn)(void *arg);
static inline int io_test_with_fsize_limit(io_test_fn fn, void *arg, long limit, char *msg,
                                           size_t len)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -2000;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        struct rlimit rl = { .rlim_cur = (rlim_t)limit, .rlim_max = RLIM_INFINITY };
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        mr_status st = fn(arg);
        const char *m = mr_last_error();
        ssize_t w = write(fds[1], m, strlen(m));
        (void)w;
        close(fds[1]);
        _exit(-st);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t k;
    while (len > 1 && got < len - 1 && (k = read(fds[0], msg + got, len - 1 - got)) > 0)
        got += (size_t)k;
    if (len > 0)
        msg[got] = '\0';
    close(fds[0]);
    int ws = 0;
    if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws))
        return -1000;
    return -WEXITSTATUS(ws);
}

#endif
