/*
 * A DICOM series folder that appears whole (io/dicom.h, mr_dicom_dir): files go into a private
 * temporary folder beside the target, each written atomically (mr_dicom_write); commit syncs
 * the folder and renames it onto the target in one step, so a reader sees no folder, the old
 * one, or the new complete one, never a half series. Replacing an earlier series uses Linux's
 * renameat2(RENAME_EXCHANGE), which swaps two folders atomically; file systems without it fall
 * back to moving the old folder aside first (a moment with no folder, still never a half one).
 */
#define _GNU_SOURCE /* renameat2 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/dicom.h"

struct mr_dicom_dir {
    char *dir;         /* the target, without trailing slashes */
    char *tmp;         /* the temporary folder; NULL once gone */
    int64_t *instances; /* instance numbers written */
    size_t n;
    size_t cap;
};

/* "IM*.dcm": a file of a series folder */
static bool series_file_name(const char *name)
{
    size_t n = strlen(name);
    return n > 6 && strncmp(name, "IM", 2) == 0 && strcmp(name + n - 4, ".dcm") == 0;
}

/* Removes every entry of folder `path` (all of them, or only series files when ours_only) and
 * then the folder. Best effort: a folder something else was put into stays. */
static void remove_folder(const char *path, bool ours_only)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        const struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                (ours_only && !series_file_name(e->d_name)))
                continue;
            unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    rmdir(path);
}

/* MR_OK when path is absent, or a folder of nothing but series files (replaceable). */
static mr_status check_target(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return MR_OK;
        return MR_FAIL(MR_ERR_IO, "cannot inspect '%s': %s", path, strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return MR_FAIL(MR_ERR_IO, "'%s' exists and is not a folder: a DICOM series is written "
                       "as a folder", path);
    DIR *d = opendir(path);
    if (d == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot read the folder '%s': %s", path, strerror(errno));
    mr_status st = MR_OK;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            series_file_name(e->d_name))
            continue;
        st = MR_FAIL(MR_ERR_IO, "the folder '%s' holds '%s', which is not part of a DICOM "
                     "series (IM*.dcm): it is not replaced; name a new or empty folder", path,
                     e->d_name);
        break;
    }
    closedir(d);
    return st;
}

/* fsync of a folder, so the names in it survive a crash */
static mr_status sync_folder(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return MR_FAIL(MR_ERR_IO, "cannot open the folder '%s': %s", path, strerror(errno));
    int bad = fsync(fd);
    int e = errno;
    close(fd);
    if (bad != 0 && e != EINVAL) /* EINVAL: a file system that does not sync folders */
        return MR_FAIL(MR_ERR_IO, "cannot sync the folder '%s': %s", path, strerror(e));
    return MR_OK;
}

void mr_dicom_dir_free(struct mr_dicom_dir *d)
{
    if (d == NULL)
        return;
    if (d->tmp != NULL)
        remove_folder(d->tmp, false);
    free(d->dir);
    free(d->tmp);
    free(d->instances);
    free(d);
}

mr_status mr_dicom_dir_create(const char *dir, struct mr_dicom_dir **out)
{
    mr_status st = MR_OK;
    struct mr_dicom_dir *d = calloc(1, sizeof(*d));
    char *tmp = NULL;
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (d == NULL || (d->dir = malloc(n + 1)) == NULL || (tmp = malloc(n + 12)) == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "DICOM folder '%s'", dir);
        goto out;
    }
    memcpy(d->dir, dir, n);
    d->dir[n] = '\0';
    if (n == 0 || strcmp(d->dir, "/") == 0 || strcmp(d->dir, ".") == 0 ||
        strcmp(d->dir, "..") == 0) {
        st = MR_FAIL(MR_ERR_ARG, "'%s' cannot be a DICOM series folder: name a new folder", dir);
        goto out;
    }
    MR_CHECK(check_target(d->dir));
    snprintf(tmp, n + 12, "%s.tmp-XXXXXX", d->dir);
    if (mkdtemp(tmp) == NULL) {
        st = MR_FAIL(MR_ERR_IO, "cannot create a folder next to '%s': %s", d->dir,
                     strerror(errno));
        goto out;
    }
    (void)chmod(tmp, 0755); /* mkdtemp makes 0700; a normal output folder is 0755 */
    d->tmp = tmp; /* from here on, freeing d removes the folder */
    tmp = NULL;
    *out = d;
    d = NULL;
out:
    free(tmp);
    mr_dicom_dir_free(d);
    return st;
}

mr_status mr_dicom_dir_write(struct mr_dicom_dir *d, const struct mr_dicom_series *s,
                             const struct mr_dicom_image *im)
{
    char path[4096];
    for (size_t i = 0; i < d->n; i++)
        if (d->instances[i] == im->instance_number)
            return MR_FAIL(MR_ERR_ARG, "DICOM series '%s': instance number %lld twice", d->dir,
                           (long long)im->instance_number);
    if (d->n == d->cap) {
        size_t cap = d->cap > 0 ? 2 * d->cap : 64;
        int64_t *p = realloc(d->instances, sizeof(*p) * cap);
        if (p == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "DICOM series '%s'", d->dir);
        d->instances = p;
        d->cap = cap;
    }
    mr_status st = mr_dicom_file_name(d->tmp, im->instance_number, path, sizeof(path));
    if (st == MR_OK)
        st = mr_dicom_write(path, s, im);
    if (st != MR_OK)
        return st;
    d->instances[d->n++] = im->instance_number;
    return MR_OK;
}

/* The folder above path ("." for a bare name). */
static void parent_of(const char *path, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(buf, cap, ".");
    else if (slash == path)
        snprintf(buf, cap, "/");
    else
        snprintf(buf, cap, "%.*s", (int)(slash - path), path);
}

/* Puts tmp in place of an existing series folder dir; afterwards tmp names the old series. */
static mr_status replace(const char *tmp, const char *dir)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0)
        return MR_OK;
    if (errno != EINVAL && errno != ENOSYS)
        return MR_FAIL(MR_ERR_IO, "cannot swap '%s' and '%s': %s", tmp, dir, strerror(errno));
    /* no atomic exchange here: old aside, new in, old to the temporary name */
    char aside[4096];
    snprintf(aside, sizeof(aside), "%s.old", tmp);
    if (rename(dir, aside) != 0)
        return MR_FAIL(MR_ERR_IO, "cannot move '%s' aside: %s", dir, strerror(errno));
    if (rename(tmp, dir) != 0) {
        int e = errno;
        (void)rename(aside, dir);
        return MR_FAIL(MR_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, dir, strerror(e));
    }
    if (rename(aside, tmp) != 0)
        remove_folder(aside, true);
    return MR_OK;
}

mr_status mr_dicom_dir_commit(struct mr_dicom_dir *d)
{
    mr_status st = MR_OK;
    char parent[4096];

    MR_CHECK(sync_folder(d->tmp));
    if (rename(d->tmp, d->dir) == 0) {
        free(d->tmp); /* the temporary folder is the series now */
        d->tmp = NULL;
    } else if (errno == ENOTEMPTY || errno == EEXIST) {
        MR_CHECK(check_target(d->dir));
        MR_CHECK(replace(d->tmp, d->dir));
        remove_folder(d->tmp, true); /* the old series */
        free(d->tmp);
        d->tmp = NULL;
    } else {
        st = MR_FAIL(MR_ERR_IO, "cannot rename '%s' to '%s': %s", d->tmp, d->dir,
                     strerror(errno));
        goto out;
    }
    parent_of(d->dir, parent, sizeof(parent));
    st = sync_folder(parent);
out:
    mr_dicom_dir_free(d);
    return st;
}
