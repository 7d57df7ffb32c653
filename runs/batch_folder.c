/*
 * The output folder of a batch run (runs/batch_folder.h): options fingerprint, journals, log
 * and summary.
 */
#define _GNU_SOURCE /* flock */
#include "runs/batch_folder.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "pipeline/output.h"

#define PATH_CAP MR_BATCH_PATH_CAP

/* Reads a whole small file into a NUL-terminated buffer (*text NULL when it does not exist). */
static mr_status slurp(const char *path, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            return MR_OK;
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    }
    size_t cap = 4096;
    char *buf = malloc(cap);
    size_t n = 0;
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, 2 * cap);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (buf == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "reading '%s'", path);
    if (bad) {
        free(buf);
        return MR_FAIL(MR_ERR_IO, "cannot read '%s'", path);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return MR_OK;
}

static mr_status write_text(const char *path, const char *a, size_t alen, const char *b,
                            size_t blen)
{
    struct mr_atomic_file af;
    mr_status st = mr_atomic_file_open(&af, path);
    if (st != MR_OK)
        return st;
    if ((alen > 0 && fwrite(a, 1, alen, af.f) != alen) ||
        (blen > 0 && fwrite(b, 1, blen, af.f) != blen)) {
        mr_atomic_file_abort(&af);
        return MR_FAIL(MR_ERR_IO, "cannot write '%s'", path);
    }
    return mr_atomic_file_commit(&af);
}

/* The folder lock (.batch/lock), held while the shared files change. */
static mr_status lock_folder(const struct mr_batch *b, int *fd)
{
    char path[PATH_CAP + 16];
    snprintf(path, sizeof(path), "%s/lock", b->dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0 || flock(*fd, LOCK_EX) != 0) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return MR_FAIL(MR_ERR_IO, "cannot lock '%s': %s", path, strerror(errno));
    }
    return MR_OK;
}

static void unlock_folder(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

/* batch.options: written by the first run, compared by every later one. Under the lock. */
static mr_status check_options(const struct mr_batch *b)
{
    const struct mr_batch_config *cfg = b->cfg;
    char path[PATH_CAP + 32];
    char *old = NULL;
    size_t len = 0;
    mr_status st = MR_OK;
    char want[8192];
    int wl = snprintf(want, sizeof(want), "%s\n", cfg->options != NULL ? cfg->options : "");
    if (wl < 0 || wl >= (int)sizeof(want))
        return MR_FAIL(MR_ERR_ARG, "the option text is too long");
    snprintf(path, sizeof(path), "%s/batch.options", cfg->outdir);
    MR_CHECK(slurp(path, &old, &len));
    if (old == NULL) {
        st = write_text(path, want, (size_t)wl, NULL, 0);
    } else if (strcmp(old, want) != 0) {
        old[strcspn(old, "\n")] = '\0';
        st = MR_FAIL(MR_ERR_ARG, "'%s' holds the results of a batch run with other "
                     "reconstruction options (%s: '%s'; this run: '%s'); results of different "
                     "options are never mixed: choose a new OUT_DIR (or remove that file to "
                     "mix them deliberately)", cfg->outdir, path, old, cfg->options);
    }
out:
    free(old);
    return st;
}

/* task index of a journal line {"task":N,...} */
static long long line_task(const char *line)
{
    const char *p = strstr(line, "\"task\":");
    return p != NULL ? strtoll(p + 7, NULL, 10) : -1;
}

struct line {
    long long task;
    size_t seq;
    const char *s;
    size_t len;
};

static int cmp_line(const void *a, const void *b)
{
    const struct line *x = a;
    const struct line *y = b;
    if (x->task != y->task)
        return x->task < y->task ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Appends the lines of the journals `paths` (complete lines only, sorted by task) to
 * batch.jsonl and removes the journals. Under the lock. */
static mr_status merge_journals(const struct mr_batch *b, char **paths, size_t np)
{
    mr_status st = MR_OK;
    char log[PATH_CAP + 32];
    char **texts = calloc(np + 1, sizeof(*texts));
    struct line *lines = NULL;
    size_t nl = 0;
    size_t cap = 0;
    char *old = NULL;
    size_t oldlen = 0;
    char *joined = NULL;
    size_t jl = 0;
    if (texts == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "journal merge");
    for (size_t i = 0; i < np; i++) {
        size_t len;
        MR_CHECK(slurp(paths[i], &texts[i], &len));
        for (char *s = texts[i]; s != NULL && *s != '\0';) {
            char *nlc = strchr(s, '\n');
            if (nlc == NULL)
                break; /* a line cut by a crash is not a record */
            if (nl == cap) {
                cap = cap == 0 ? 256 : 2 * cap;
                struct line *v = realloc(lines, cap * sizeof(*v));
                if (v == NULL) {
                    st = MR_FAIL(MR_ERR_NOMEM, "journal merge");
                    goto out;
                }
                lines = v;
            }
            lines[nl] = (struct line){ line_task(s), nl, s, (size_t)(nlc - s) + 1 };
            nl++;
            jl += (size_t)(nlc - s) + 1;
            s = nlc + 1;
        }
    }
    if (nl > 1)
        qsort(lines, nl, sizeof(*lines), cmp_line);
    joined = malloc(jl + 1);
    if (joined == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "journal merge");
        goto out;
    }
    jl = 0;
    for (size_t i = 0; i < nl; i++) {
        memcpy(joined + jl, lines[i].s, lines[i].len);
        jl += lines[i].len;
    }
    snprintf(log, sizeof(log), "%s/batch.jsonl", b->cfg->outdir);
    MR_CHECK(slurp(log, &old, &oldlen));
    if (nl > 0 || old == NULL)
        MR_CHECK(write_text(log, old != NULL ? old : "", oldlen, joined, jl));
    for (size_t i = 0; i < np; i++)
        if (unlink(paths[i]) != 0 && errno != ENOENT) {
            st = MR_FAIL(MR_ERR_IO, "cannot remove the merged journal '%s': %s", paths[i],
                         strerror(errno));
            goto out;
        }
out:
    for (size_t i = 0; i < np; i++)
        free(texts[i]);
    free(texts);
    free(lines);
    free(old);
    free(joined);
    return st;
}

/* Merges the journals of writers that died (their flock is free). Under the lock. */
static mr_status merge_stale(const struct mr_batch *b)
{
    mr_status st = MR_OK;
    char **paths = NULL;
    int *fds = NULL;
    size_t np = 0;
    size_t cap = 0;
    DIR *d = opendir(b->dir);
    if (d == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot read '%s': %s", b->dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "journal-", 8) != 0)
            continue;
        char path[PATH_CAP + 300];
        snprintf(path, sizeof(path), "%s/%s", b->dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) { /* its writer is alive */
            close(fd);
            continue;
        }
        if (np == cap) {
            cap = cap == 0 ? 8 : 2 * cap;
            char **p = realloc(paths, cap * sizeof(*p));
            int *f = realloc(fds, cap * sizeof(*f));
            if (p != NULL)
                paths = p;
            if (f != NULL)
                fds = f;
            if (p == NULL || f == NULL) {
                close(fd);
                st = MR_FAIL(MR_ERR_NOMEM, "journal list");
                goto out;
            }
        }
        paths[np] = strdup(path);
        fds[np] = fd;
        np++;
        if (paths[np - 1] == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "journal list");
            goto out;
        }
    }
    if (np > 0)
        st = merge_journals(b, paths, np);
out:
    closedir(d);
    for (size_t i = 0; i < np; i++) {
        free(paths[i]);
        close(fds[i]);
    }
    free(paths);
    free(fds);
    return st;
}

/* Creates and flocks this worker's journal, under the folder lock: merge_stale (also under
 * it) can then never take a journal between its creation and its flock for a dead one. */
mr_status mr_batch_journal_open(struct mr_batch_journal *j, const struct mr_batch *b,
                                const char *id)
{
    int lk = -1;
    mr_status st = lock_folder(b, &lk);
    if (st != MR_OK)
        return st;
    snprintf(j->path, sizeof(j->path), "%s/journal-%s.jsonl", b->dir, id);
    j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (j->fd < 0 || flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
        if (j->fd >= 0)
            close(j->fd);
        j->fd = -1;
        st = MR_FAIL(MR_ERR_IO, "cannot open the journal '%s': %s", j->path, strerror(errno));
    }
    unlock_folder(lk);
    return st;
}

/* One line per finished task, in one write (a crash leaves whole lines and maybe one cut). */
mr_status mr_batch_journal_add(struct mr_batch_journal *j, int64_t task,
                               const struct mr_batch_task *t, int64_t slices, const char *error,
                               double seconds)
{
    mr_status st = MR_OK;
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (o == NULL ||
        cJSON_AddNumberToObject(o, "task", (double)task) == NULL ||
        cJSON_AddStringToObject(o, "file", t->in) == NULL ||
        cJSON_AddStringToObject(o, "output", t->out) == NULL ||
        cJSON_AddNumberToObject(o, "slices", (double)slices) == NULL ||
        cJSON_AddStringToObject(o, "status", error == NULL ? "ok" : "error") == NULL ||
        cJSON_AddStringToObject(o, "error", error == NULL ? "" : error) == NULL ||
        cJSON_AddNumberToObject(o, "seconds", (double)(int64_t)(seconds * 1000.0 + 0.5) /
                                1000.0) == NULL ||
        (s = cJSON_PrintUnformatted(o)) == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "journal line");
        goto out;
    }
    size_t n = strlen(s);
    s[n] = '\n'; /* replaces the NUL: written with its length */
    if (write(j->fd, s, n + 1) != (ssize_t)(n + 1))
        st = MR_FAIL(MR_ERR_IO, "cannot append to the journal '%s': %s", j->path,
                     strerror(errno));
out:
    free(s);
    cJSON_Delete(o);
    return st;
}

bool mr_batch_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Writes batch.summary.json (under the lock). */
static mr_status write_summary(const struct mr_batch *b, const struct mr_batch_counts *c,
                               double seconds)
{
    int64_t present = 0;
    for (size_t i = 0; i < b->n; i++)
        present += mr_batch_exists(b->v[i].out) ? 1 : 0;
    char text[1024];
    int n = snprintf(text, sizeof(text),
                     "{\"tasks\": %lld, \"outputs\": %lld, \"missing\": %lld, \"ok\": %lld, "
                     "\"failed\": %lld, \"skipped\": %lld, \"seconds\": %.3f}\n",
                     (long long)c->tasks, (long long)present, (long long)c->tasks - present,
                     (long long)c->ok, (long long)c->failed, (long long)c->skipped, seconds);
    char path[PATH_CAP + 32];
    snprintf(path, sizeof(path), "%s/batch.summary.json", b->cfg->outdir);
    return write_text(path, text, (size_t)n, NULL, 0);
}

/* Rank 0 (or the only process): the folder, the lock, the options, stale journals. */
mr_status mr_batch_folder_prepare(struct mr_batch *b)
{
    mr_status st = MR_OK;
    int lk = -1;
    char path[PATH_CAP + 16];
    snprintf(path, sizeof(path), "%s/x", b->dir);
    MR_CHECK(mr_make_parent_dirs(path));
    MR_CHECK(lock_folder(b, &lk));
    MR_CHECK(check_options(b));
    MR_CHECK(merge_stale(b));
out:
    unlock_folder(lk);
    return st;
}

mr_status mr_batch_folder_finish(const struct mr_batch *b, char **paths, size_t np,
                                 const struct mr_batch_counts *c, double seconds)
{
    int lk = -1;
    mr_status st = lock_folder(b, &lk);
    if (st == MR_OK)
        st = merge_journals(b, paths, np);
    if (st == MR_OK)
        st = write_summary(b, c, seconds);
    unlock_folder(lk);
    return st;
}
