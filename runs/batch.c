/*
 * mrirecon batch (runs/batch.h): the task list, the output folder's bookkeeping (options
 * fingerprint, journals, log, summary) and the loop that hands each task to
 * mr_volume_reconstruct. Every worker builds the same sorted list; runs/tasks.h decides which
 * worker computes which task.
 */
#define _GNU_SOURCE /* flock, realpath, gethostname */
#include "runs/batch.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "pipeline/output.h"
#include "recon/clock.h"

#define PATH_CAP 4096

struct task {
    char *in;  /* input path */
    char *out; /* output path */
};

struct batch {
    const struct mr_batch_config *cfg;
    struct task *v;
    size_t n;
    size_t cap;
    const char *ext; /* ".h5", ".png", ".nii" or "" (DICOM folder) */
    char dir[PATH_CAP]; /* OUT/.batch */
};

static void tasks_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->v[i].in);
        free(b->v[i].out);
    }
    free(b->v);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Adds input `in` whose output is OUT/<rel without .h5><ext>. */
static mr_status add_task(struct batch *b, const char *in, const char *rel)
{
    if (b->n == b->cap) {
        size_t cap = b->cap == 0 ? 64 : 2 * b->cap;
        struct task *v = realloc(b->v, cap * sizeof(*v));
        if (v == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "batch task list");
        b->v = v;
        b->cap = cap;
    }
    size_t rl = strlen(rel);
    if (ends_with(rel, ".h5"))
        rl -= 3;
    char out[PATH_CAP];
    if (snprintf(out, sizeof(out), "%s/%.*s%s", b->cfg->outdir, (int)rl, rel, b->ext) >=
        (int)sizeof(out))
        return MR_FAIL(MR_ERR_ARG, "output path for '%s' is too long", in);
    struct task *t = &b->v[b->n];
    t->in = strdup(in);
    t->out = strdup(out);
    if (t->in == NULL || t->out == NULL) {
        free(t->in);
        free(t->out);
        return MR_FAIL(MR_ERR_NOMEM, "batch task list");
    }
    b->n++;
    return MR_OK;
}

/* Every *.h5 below root/sub (sub "" at the top), recursively. */
static mr_status walk(struct batch *b, const char *root, const char *sub)
{
    mr_status st = MR_OK;
    char path[PATH_CAP];
    snprintf(path, sizeof(path), "%s%s%s", root, sub[0] != '\0' ? "/" : "", sub);
    DIR *d = opendir(path);
    if (d == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot read the input folder '%s': %s", path, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., hidden files and folders (a .batch of our own) */
        char rel[PATH_CAP];
        char full[PATH_CAP];
        if (snprintf(rel, sizeof(rel), "%s%s%s", sub, sub[0] != '\0' ? "/" : "", e->d_name) >=
                (int)sizeof(rel) ||
            snprintf(full, sizeof(full), "%s/%s", root, rel) >= (int)sizeof(full)) {
            st = MR_FAIL(MR_ERR_ARG, "path below '%s' is too long", root);
            goto out;
        }
        struct stat sb;
        if (stat(full, &sb) != 0)
            continue; /* a dangling link is no input */
        if (S_ISDIR(sb.st_mode))
            MR_CHECK(walk(b, root, rel));
        else if (S_ISREG(sb.st_mode) && ends_with(e->d_name, ".h5"))
            MR_CHECK(add_task(b, full, rel));
    }
out:
    closedir(d);
    return st;
}

static bool has_dotdot(const char *p)
{
    const char *s = p;
    while ((s = strstr(s, "..")) != NULL) {
        bool start = s == p || s[-1] == '/';
        bool end = s[2] == '\0' || s[2] == '/';
        if (start && end)
            return true;
        s += 2;
    }
    return false;
}

/* The inputs listed in the text file `list`. */
static mr_status read_list(struct batch *b, const char *list)
{
    mr_status st = MR_OK;
    char line[PATH_CAP];
    char base[PATH_CAP];
    char full[PATH_CAP];
    FILE *f = fopen(list, "r");
    if (f == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot open the input list '%s': %s", list, strerror(errno));
    snprintf(base, sizeof(base), "%s", list);
    char *slash = strrchr(base, '/');
    if (slash != NULL)
        slash[1] = '\0';
    else
        base[0] = '\0';
    int lineno = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (has_dotdot(line)) {
            st = MR_FAIL(MR_ERR_ARG, "'%s' line %d: '%s' has a '..' component (its output "
                         "would leave OUT_DIR)", list, lineno, line);
            goto out;
        }
        const bool abs = line[0] == '/';
        snprintf(full, sizeof(full), "%s%s", abs ? "" : base, line);
        const char *rel = line;
        if (abs)
            rel = strrchr(line, '/') + 1;
        MR_CHECK(add_task(b, full, rel));
    }
    if (ferror(f))
        st = MR_FAIL(MR_ERR_IO, "cannot read the input list '%s'", list);
out:
    fclose(f);
    return st;
}

static int cmp_task(const void *a, const void *b)
{
    return strcmp(((const struct task *)a)->out, ((const struct task *)b)->out);
}

/* The absolute, symlink-free form of path, which need not exist yet (its nearest existing
 * ancestor is resolved and the rest appended). */
static bool resolve(const char *path, char *buf)
{
    char head[PATH_CAP];
    char real[PATH_MAX];
    snprintf(head, sizeof(head), "%s", path);
    const char *tail = "";
    char tailbuf[PATH_CAP] = "";
    for (;;) {
        if (realpath(head[0] != '\0' ? head : ".", real) != NULL)
            break;
        char *s = strrchr(head, '/');
        char tmp[2 * PATH_CAP + 2];
        snprintf(tmp, sizeof(tmp), "%s%s%s", s != NULL ? s + 1 : head, tailbuf[0] ? "/" : "",
                 tailbuf);
        if (strlen(tmp) >= sizeof(tailbuf))
            return false;
        memcpy(tailbuf, tmp, strlen(tmp) + 1);
        if (s == NULL)
            head[0] = '\0';
        else if (s == head)
            head[1] = '\0';
        else
            *s = '\0';
    }
    tail = tailbuf;
    return snprintf(buf, PATH_CAP, "%s%s%s", real, tail[0] != '\0' ? "/" : "", tail) <
           PATH_CAP;
}

static bool path_within(const char *inner, const char *outer)
{
    size_t n = strlen(outer);
    return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/' ||
                                             strcmp(outer, "/") == 0);
}

/* The sorted task list, checked against OUT_DIR. */
static mr_status build_tasks(struct batch *b)
{
    const struct mr_batch_config *cfg = b->cfg;
    mr_status st = MR_OK;
    struct stat sb;
    char rin[PATH_CAP];
    char rout[PATH_CAP];
    if (stat(cfg->input, &sb) != 0)
        return MR_FAIL(MR_ERR_IO, "cannot open the input '%s': %s", cfg->input, strerror(errno));
    if (!resolve(cfg->outdir, rout))
        return MR_FAIL(MR_ERR_ARG, "output folder name '%s' is too long", cfg->outdir);
    if (S_ISDIR(sb.st_mode)) {
        if (!resolve(cfg->input, rin))
            return MR_FAIL(MR_ERR_ARG, "input folder name '%s' is too long", cfg->input);
        if (path_within(rout, rin))
            return MR_FAIL(MR_ERR_ARG, "the output folder '%s' is the input folder '%s' or "
                           "inside it: choose one outside", cfg->outdir, cfg->input);
        MR_CHECK(walk(b, cfg->input, ""));
        if (b->n == 0)
            return MR_FAIL(MR_ERR_ARG, "no .h5 file below the input folder '%s'", cfg->input);
    } else {
        MR_CHECK(read_list(b, cfg->input));
        if (b->n == 0)
            return MR_FAIL(MR_ERR_ARG, "the input list '%s' names no file", cfg->input);
        for (size_t i = 0; i < b->n; i++)
            if (resolve(b->v[i].in, rin) && path_within(rin, rout))
                return MR_FAIL(MR_ERR_ARG, "the listed input '%s' lies inside the output "
                               "folder '%s': choose another output folder", b->v[i].in,
                               cfg->outdir);
    }
    qsort(b->v, b->n, sizeof(*b->v), cmp_task);
    for (size_t i = 1; i < b->n; i++)
        if (strcmp(b->v[i - 1].out, b->v[i].out) == 0)
            return MR_FAIL(MR_ERR_ARG, "'%s' and '%s' would both be written to '%s'",
                           b->v[i - 1].in, b->v[i].in, b->v[i].out);
out:
    return st;
}

/* ---- the output folder -------------------------------------------------------------------- */

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
static mr_status lock_folder(const struct batch *b, int *fd)
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
static mr_status check_options(const struct batch *b)
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
static mr_status merge_journals(const struct batch *b, char **paths, size_t np)
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
static mr_status merge_stale(const struct batch *b)
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

/* ---- the run ------------------------------------------------------------------------------ */

struct journal {
    int fd;
    char path[PATH_CAP + 300];
};

/* Creates and flocks this worker's journal, under the folder lock: merge_stale (also under
 * it) can then never take a journal between its creation and its flock for a dead one. */
static mr_status journal_open(struct journal *j, const struct batch *b, const char *id)
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
static mr_status journal_add(struct journal *j, int64_t task, const struct task *t,
                             int64_t slices, const char *error, double seconds)
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

static void format_time(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

static void progress(int64_t done, int64_t total, double elapsed)
{
    char el[32];
    char eta[32] = "?";
    double rate = elapsed > 0.0 ? (double)done / elapsed : 0.0;
    format_time(el, sizeof(el), elapsed);
    if (rate > 0.0)
        format_time(eta, sizeof(eta), (double)(total - done) / rate);
    fprintf(stderr, "mrirecon batch: %lld/%lld tasks  %.2f tasks/s  elapsed %s  ETA %s\n",
            (long long)done, (long long)total, rate, el, eta);
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Writes batch.summary.json (under the lock). */
static mr_status write_summary(const struct batch *b, const struct mr_batch_counts *c,
                               double seconds)
{
    int64_t present = 0;
    for (size_t i = 0; i < b->n; i++)
        present += exists(b->v[i].out) ? 1 : 0;
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
static mr_status prepare_folder(struct batch *b)
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

/* This worker's share of the tasks. */
static mr_status work(struct batch *b, struct mr_tasks *sched, struct journal *j,
                      struct mr_batch_counts *c)
{
    const struct mr_batch_config *cfg = b->cfg;
    const bool show = !cfg->quiet && mr_tasks_rank(sched) == 0;
    const double t0 = mr_clock_now_s();
    struct mr_volume_config vc = cfg->volume;
    vc.progress = NULL;
    vc.progress_arg = NULL;
    int64_t i;
    while (mr_tasks_next(sched, &i)) {
        const struct task *t = &b->v[i];
        if (exists(t->out)) {
            c->skipped++;
        } else {
            struct mr_volume_result res = { 0 };
            double ts = mr_clock_now_s();
            mr_status st = mr_make_parent_dirs(t->out);
            if (st == MR_OK)
                st = mr_volume_reconstruct(&vc, t->in, t->out, &res);
            double dt = mr_clock_now_s() - ts;
            const char *err = st == MR_OK ? NULL : mr_last_error();
            if (st != MR_OK) {
                c->failed++;
                fprintf(stderr, "mrirecon batch: %s: %s\n", t->in, err);
            } else {
                c->ok++;
            }
            mr_status js = journal_add(j, i, t, st == MR_OK ? res.images : 0, err, dt);
            if (js != MR_OK)
                return js;
        }
        int64_t done = mr_tasks_finished(sched);
        if (show)
            progress(done, (int64_t)b->n, mr_clock_now_s() - t0);
    }
    return MR_OK;
}

mr_status mr_batch_run(const struct mr_batch_config *cfg, struct mr_batch_counts *counts)
{
    mr_status st = MR_OK;
    struct batch b;
    struct mr_tasks *sched = NULL;
    struct journal j = { .fd = -1 };
    struct mr_batch_counts c = { 0 };
    int lk = -1;
    char id[256];
    const double t0 = mr_clock_now_s();

    memset(&b, 0, sizeof(b));
    b.cfg = cfg;
    switch (mr_output_format_resolve("", cfg->volume.format)) {
    case MR_OUTPUT_PNG: b.ext = ".png"; break;
    case MR_OUTPUT_NIFTI: b.ext = ".nii"; break;
    case MR_OUTPUT_DICOM: b.ext = ""; break;
    default: b.ext = ".h5"; break;
    }
    if (snprintf(b.dir, sizeof(b.dir), "%s/.batch", cfg->outdir) >= (int)sizeof(b.dir))
        return MR_FAIL(MR_ERR_ARG, "output folder name '%s' is too long", cfg->outdir);
    MR_CHECK(build_tasks(&b));
    MR_CHECK(mr_tasks_create(&cfg->tasks, (int64_t)b.n, &sched));
    c.tasks = (int64_t)b.n;

    /* rank 0 prepares the folder; the others learn whether it worked */
    char host[128] = "host";
    (void)gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    struct {
        int32_t ok;
        char id[200];
    } hello = { 0 };
    if (mr_tasks_rank(sched) == 0) {
        st = prepare_folder(&b);
        hello.ok = st == MR_OK;
        snprintf(hello.id, sizeof(hello.id), "%s-%ld", host, (long)getpid());
    }
    mr_status bs = mr_tasks_broadcast(sched, &hello, sizeof(hello));
    if (st != MR_OK)
        goto out;
    MR_CHECK(bs);
    if (!hello.ok) {
        st = MR_FAIL(MR_ERR_IO, "rank 0 could not prepare '%s' (its message says why)",
                     cfg->outdir);
        goto out;
    }
    if (cfg->tasks.mpi)
        snprintf(id, sizeof(id), "%s-r%d", hello.id, mr_tasks_rank(sched));
    else
        snprintf(id, sizeof(id), "%s", hello.id);
    MR_CHECK(journal_open(&j, &b, id));

    mr_status ws = work(&b, sched, &j, &c);
    /* every rank reaches the collectives below, also after a journal failure */
    MR_CHECK(mr_tasks_report(sched, "mrirecon batch", !cfg->quiet));
    int64_t sums[4] = { c.ok, c.failed, c.skipped, ws != MR_OK };
    MR_CHECK(mr_tasks_sum(sched, sums, 4));
    c.ok = sums[0];
    c.failed = sums[1];
    c.skipped = sums[2];
    if (ws != MR_OK) {
        st = ws;
        goto out;
    }
    if (sums[3] != 0) {
        st = MR_FAIL(MR_ERR_IO, "another rank could not write its journal (its message says "
                     "why)");
        goto out;
    }
    if (mr_tasks_rank(sched) == 0) {
        /* every rank's journal: this process's, or rank r's "<id>-r<r>" */
        const int size = cfg->tasks.mpi ? mr_tasks_size(sched) : 1;
        char **paths = calloc((size_t)size, sizeof(*paths));
        if (paths == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "journal list");
            goto out;
        }
        for (int r = 0; r < size && st == MR_OK; r++) {
            paths[r] = malloc(PATH_CAP + 300);
            if (paths[r] == NULL)
                st = MR_FAIL(MR_ERR_NOMEM, "journal list");
            else if (cfg->tasks.mpi)
                snprintf(paths[r], PATH_CAP + 300, "%s/journal-%s-r%d.jsonl", b.dir, hello.id,
                         r);
            else
                snprintf(paths[r], PATH_CAP + 300, "%s", j.path);
        }
        if (st == MR_OK)
            st = lock_folder(&b, &lk);
        if (st == MR_OK)
            st = merge_journals(&b, paths, (size_t)size);
        if (st == MR_OK)
            st = write_summary(&b, &c, mr_clock_now_s() - t0);
        for (int r = 0; r < size; r++)
            free(paths[r]);
        free(paths);
    }
    if (counts != NULL)
        *counts = c;
out:
    unlock_folder(lk);
    if (j.fd >= 0)
        close(j.fd);
    mr_tasks_free(sched, st);
    tasks_free(&b);
    return st;
}
