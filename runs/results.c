/* Result rows and their CSV file (see results.h). */
#include "runs/results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s != NULL ? s : "");
    char *d = malloc(n + 1);
    if (d != NULL)
        memcpy(d, s != NULL ? s : "", n + 1);
    return d;
}

static int cmp_key(const struct mr_result_key *a, const struct mr_result_key *b)
{
    int c = strcmp(a->file, b->file);
    if (c != 0)
        return c;
    if (a->slice != b->slice)
        return a->slice < b->slice ? -1 : 1;
    c = strcmp(a->mask, b->mask);
    return c != 0 ? c : strcmp(a->method, b->method);
}

static int cmp_key_v(const void *a, const void *b)
{
    return cmp_key(a, b);
}

void mr_results_free(struct mr_result_table *t)
{
    free(t->done);
    for (size_t i = 0; i < t->n; i++) {
        free((char *)t->v[i].file);
        free((char *)t->v[i].mask);
        free((char *)t->v[i].method);
        free((char *)t->v[i].error);
    }
    free(t->v);
    memset(t, 0, sizeof(*t));
}

/* Appends a copy of r (strings duplicated). */
mr_status mr_results_add(struct mr_result_table *t, const struct mr_result_row *r)
{
    if (t->n == t->cap) {
        size_t cap = t->cap > 0 ? 2 * t->cap : 256;
        struct mr_result_row *v = realloc(t->v, cap * sizeof(*v));
        if (v == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "result rows");
        t->v = v;
        t->cap = cap;
    }
    struct mr_result_row c = *r;
    c.file = dup_str(r->file);
    c.mask = dup_str(r->mask);
    c.method = dup_str(r->method);
    c.error = dup_str(r->error);
    c.seq = t->seq++;
    if (c.file == NULL || c.mask == NULL || c.method == NULL || c.error == NULL) {
        free((char *)c.file);
        free((char *)c.mask);
        free((char *)c.method);
        free((char *)c.error);
        return MR_FAIL(MR_ERR_NOMEM, "result rows");
    }
    t->v[t->n++] = c;
    return MR_OK;
}

static const char csv_header[] =
    "file,slice,mask,method,accel,status,nmse,psnr,ssim,time_s,error,dc_residual,trust_score,"
    "flagged";
#define CSV_COLS 14
#define CSV_COLS_OLD 11 /* without dc_residual, trust_score, flagged */

/* the header fields joined by commas into hdr (for comparison), returned */
static const char *hdr0(char *const *fl, int nf, char *hdr, size_t len)
{
    hdr[0] = '\0';
    for (int i = 0; i < nf; i++) {
        strncat(hdr, fl[i], len - strlen(hdr) - 1);
        if (i + 1 < nf)
            strncat(hdr, ",", len - strlen(hdr) - 1);
    }
    return hdr;
}

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Parses one CSV record at *p into fields (pointers into buf, modified in place); advances *p.
 * Returns the number of fields, -1 for a malformed record. */
static int csv_record(char **p, char **fields, int maxf)
{
    char *s = *p;
    int n = 0;
    for (;;) {
        if (n == maxf)
            return -1;
        char *out = s;
        fields[n++] = out;
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '\0')
                    return -1;
                if (*s == '"' && s[1] == '"') {
                    *out++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *out++ = *s++;
                }
            }
        } else {
            while (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r')
                *out++ = *s++;
        }
        char sep = *s;
        *out = '\0'; /* may overwrite the separator itself (out == s): use sep from here */
        if (sep == ',') {
            s++;
            continue;
        }
        if (sep != '\0' && sep != '\n' && sep != '\r')
            return -1; /* text after a closing quote */
        if (sep != '\0')
            s++;
        if (sep == '\r' && *s == '\n')
            s++;
        *p = s;
        return n;
    }
}

static double parse_num(const char *s)
{
    if (*s == '\0')
        return (double)NAN;
    if (strcmp(s, "inf") == 0)
        return INFINITY;
    return strtod(s, NULL);
}

/* Loads an existing results.csv (absent: nothing). */
mr_status mr_results_load_csv(struct mr_result_table *t, const char *path)
{
    mr_status st = MR_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            return MR_OK;
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        st = MR_FAIL(MR_ERR_IO, "cannot read '%s'", path);
        goto out;
    }
    long size = ftell(f);
    rewind(f);
    buf = malloc((size_t)(size > 0 ? size : 0) + 1);
    if (buf == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "reading '%s'", path);
        goto out;
    }
    if (size < 0 || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        st = MR_FAIL(MR_ERR_IO, "cannot read '%s'", path);
        goto out;
    }
    buf[size] = '\0';
    if (size == 0)
        goto out;
    char *p = buf;
    char *fl[CSV_COLS + 1];
    int nf = csv_record(&p, fl, CSV_COLS + 1);
    char hdr[sizeof(csv_header)];
    hdr0(fl, nf, hdr, sizeof(hdr));
    /* results of a version before the trust columns: their rows read without them */
    const bool old = nf == CSV_COLS_OLD && strncmp(csv_header, hdr0(fl, nf, hdr, sizeof(hdr)),
                                                   strlen(hdr)) == 0 &&
                     csv_header[strlen(hdr)] == ',';
    const int ncols = old ? CSV_COLS_OLD : CSV_COLS;
    if (!old && (nf != CSV_COLS || strcmp(hdr, csv_header) != 0)) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is not a maskeval results file (header should be "
                     "'%s')", path, csv_header);
        goto out;
    }
    int line = 1;
    while (*p != '\0') {
        line++;
        if (*p == '\n') {
            p++;
            continue;
        }
        nf = csv_record(&p, fl, CSV_COLS + 1);
        if (nf != ncols) {
            st = MR_FAIL(MR_ERR_FORMAT, "'%s' record %d: expected %d fields", path, line,
                         ncols);
            goto out;
        }
        struct mr_result_row r = {
            .file = fl[0], .slice = strtoll(fl[1], NULL, 10), .mask = fl[2], .method = fl[3],
            .accel = parse_num(fl[4]), .ok = strcmp(fl[5], "ok") == 0, .nmse = parse_num(fl[6]),
            .psnr = parse_num(fl[7]), .ssim = parse_num(fl[8]), .time_s = parse_num(fl[9]),
            .error = fl[10], .residual = old ? (double)NAN : parse_num(fl[11]),
            .score = old ? (double)NAN : parse_num(fl[12]),
            .flagged = !old && strcmp(fl[13], "1") == 0,
        };
        MR_CHECK(mr_results_add(t, &r));
    }
out:
    free(buf);
    fclose(f);
    return st;
}

static int cmp_row_ptr(const void *a, const void *b)
{
    const struct mr_result_row *x = *(const struct mr_result_row *const *)a;
    const struct mr_result_row *y = *(const struct mr_result_row *const *)b;
    int c = strcmp(x->file, y->file);
    if (c != 0)
        return c;
    if (x->slice != y->slice)
        return x->slice < y->slice ? -1 : 1;
    if (x->mask_ord != y->mask_ord)
        return x->mask_ord < y->mask_ord ? -1 : 1;
    if ((c = strcmp(x->mask, y->mask)) != 0)
        return c;
    if (x->method_ord != y->method_ord)
        return x->method_ord < y->method_ord ? -1 : 1;
    if ((c = strcmp(x->method, y->method)) != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}

static bool same_key(const struct mr_result_row *a, const struct mr_result_row *b)
{
    return strcmp(a->file, b->file) == 0 && a->slice == b->slice &&
           strcmp(a->mask, b->mask) == 0 && strcmp(a->method, b->method) == 0;
}

/* The latest row of every key, sorted; *out malloc'd array of pointers into t. */
mr_status mr_results_latest(const struct mr_result_table *t, const struct mr_result_row ***out,
                            size_t *n)
{
    const struct mr_result_row **v = malloc((t->n > 0 ? t->n : 1) * sizeof(*v));
    if (v == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "result rows");
    for (size_t i = 0; i < t->n; i++)
        v[i] = &t->v[i];
    qsort(v, t->n, sizeof(*v), cmp_row_ptr);
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (i + 1 < t->n && same_key(v[i], v[i + 1]))
            continue; /* a later row with the same key follows */
        v[k++] = v[i];
    }
    *out = v;
    *n = k;
    return MR_OK;
}

static void fmt_num(char *buf, size_t len, double v, const char *fmt)
{
    if (isnan(v))
        buf[0] = '\0';
    else if (isinf(v))
        snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, len, fmt, v);
}

/* One CSV record; exact: every number with 17 significant digits (reads back bit for bit) */
static void write_row(FILE *f, const struct mr_result_row *r, bool exact)
{
    char a[40];
    char b[40];
    char c[40];
    char d[40];
    char e[40];
    csv_field(f, r->file);
    fprintf(f, ",%lld,", (long long)r->slice);
    csv_field(f, r->mask);
    fputc(',', f);
    csv_field(f, r->method);
    fmt_num(a, sizeof(a), r->accel, exact ? "%.17g" : "%.6g");
    fmt_num(b, sizeof(b), r->nmse, exact ? "%.17g" : "%.8g");
    fmt_num(c, sizeof(c), r->psnr, exact ? "%.17g" : "%.8g");
    fmt_num(d, sizeof(d), r->ssim, exact ? "%.17g" : "%.8g");
    fmt_num(e, sizeof(e), r->time_s, exact ? "%.17g" : "%.3f");
    fprintf(f, ",%s,%s,%s,%s,%s,%s,", a, r->ok ? "ok" : "error", b, c, d, e);
    csv_field(f, r->error);
    fmt_num(a, sizeof(a), r->residual, exact ? "%.17g" : "%.6g");
    fmt_num(b, sizeof(b), r->score, exact ? "%.17g" : "%.3f");
    fprintf(f, ",%s,%s,%d\n", a, b, r->flagged ? 1 : 0);
}

mr_status mr_results_write_csv(const struct mr_result_table *t, const char *path)
{
    const struct mr_result_row **v = NULL;
    size_t n = 0;
    struct mr_atomic_file af = { 0 };
    mr_status st = mr_results_latest(t, &v, &n);
    if (st != MR_OK)
        return st;
    st = mr_atomic_file_open(&af, path);
    if (st != MR_OK) {
        free(v);
        return st;
    }
    fprintf(af.f, "%s\n", csv_header);
    for (size_t i = 0; i < n; i++)
        write_row(af.f, v[i], false);
    free(v);
    return mr_atomic_file_commit(&af);
}

mr_status mr_results_write_rows_exact(const struct mr_result_table *t, size_t from,
                                      const char *path)
{
    struct mr_atomic_file af = { 0 };
    mr_status st = mr_atomic_file_open(&af, path);
    if (st != MR_OK)
        return st;
    fprintf(af.f, "%s\n", csv_header);
    for (size_t i = from; i < t->n; i++)
        write_row(af.f, &t->v[i], true);
    return mr_atomic_file_commit(&af);
}

mr_status mr_results_index_done(struct mr_result_table *t)
{
    free(t->done);
    t->ndone = 0;
    t->done = malloc((t->n > 0 ? t->n : 1) * sizeof(*t->done));
    if (t->done == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "result rows");
    for (size_t i = 0; i < t->n; i++) {
        const struct mr_result_row *r = &t->v[i];
        if (r->ok)
            t->done[t->ndone++] = (struct mr_result_key){ r->file, r->slice, r->mask, r->method };
    }
    qsort(t->done, t->ndone, sizeof(*t->done), cmp_key_v);
    return MR_OK;
}

bool mr_results_done(const struct mr_result_table *t, const char *file, int64_t slice,
                     const char *mask, const char *method)
{
    struct mr_result_key k = { file, slice, mask, method };
    return t->ndone > 0 && bsearch(&k, t->done, t->ndone, sizeof(k), cmp_key_v) != NULL;
}
