/*
 * mrirecon batch (runs/batch.h): the task list and the loop that hands each task to
 * mr_volume_reconstruct; the output folder's bookkeeping (options fingerprint, journals, log,
 * summary) is runs/batch_folder.c. Every worker builds the same sorted list; runs/tasks.h
 * decides which worker computes which task.
 */
#define _GNU_SOURCE /* realpath, gethostname */
#include "runs/batch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/output.h"
#include "recon/clock.h"
#include "runs/batch_folder.h"

#define PATH_CAP MR_BATCH_PATH_CAP

static void tasks_free(struct mr_batch *b)
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
static mr_status add_task(struct mr_batch *b, const char *in, const char *rel)
{
    if (b->n == b->cap) {
        size_t cap = b->cap == 0 ? 64 : 2 * b->cap;
        struct mr_batch_task *v = realloc(b->v, cap * sizeof(*v));
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
    struct mr_batch_task *t = &b->v[b->n];
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
static mr_status walk(struct mr_batch *b, const char *root, const char *sub)
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
static mr_status read_list(struct mr_batch *b, const char *list)
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
    return strcmp(((const struct mr_batch_task *)a)->out, ((const struct mr_batch_task *)b)->out);
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
static mr_status build_tasks(struct mr_batch *b)
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

/* ---- the run ------------------------------------------------------------------------------ */

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

/* This worker's share of the tasks. */
static mr_status work(struct mr_batch *b, struct mr_tasks *sched, struct mr_batch_journal *j,
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
        const struct mr_batch_task *t = &b->v[i];
        if (mr_batch_exists(t->out)) {
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
            mr_status js = mr_batch_journal_add(j, i, t, st == MR_OK ? res.images : 0, err, dt);
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
    struct mr_batch b;
    struct mr_tasks *sched = NULL;
    struct mr_batch_journal j = { .fd = -1 };
    struct mr_batch_counts c = { 0 };
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
        st = mr_batch_folder_prepare(&b);
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
    MR_CHECK(mr_batch_journal_open(&j, &b, id));

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
            st = mr_batch_folder_finish(&b, paths, (size_t)size, &c, mr_clock_now_s() - t0);
        for (int r = 0; r < size; r++)
            free(paths[r]);
        free(paths);
    }
    if (counts != NULL)
        *counts = c;
out:
    if (j.fd >= 0)
        close(j.fd);
    mr_tasks_free(sched, st);
    tasks_free(&b);
    return st;
}
