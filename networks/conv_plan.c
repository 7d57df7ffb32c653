/*
 * Conv plans by measurement and their wisdom (conv_plan.h). The table is a fixed array that
 * only grows: an entry is written completely before the count that publishes it is stored
 * with release order, so lookups read it without a lock.
 */
#include "networks/conv_plan.h"

#include <cblas.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "networks/conv_direct.h"
#include "networks/conv_dnnl.h"
#include "networks/conv_im2col.h"
#include "networks/conv_winograd.h"
#include "recon/array.h"
#include "recon/clock.h"
#include "recon/cpu.h"
#include "recon/settings.h"

enum { KEY_LEN = 15, MAX_ENTRIES = 1024, HEADER_LINES = 5, LINE_MAX = 512, NCAND = 4 };

/* the algorithms timed, in the order of struct entry.us (the input-gradient: im2col, dnnl) */
static const enum mr_conv2d_algo candidates[NCAND] = {
    MR_CONV2D_ALGO_IM2COL,
    MR_CONV2D_ALGO_DIRECT,
    MR_CONV2D_ALGO_WINOGRAD,
    MR_CONV2D_ALGO_DNNL,
};

/* which pass of the conv a key plans ("conv" and "grad" lines of wisdom files) */
enum dir { DIR_FORWARD = 0, DIR_GRAD = 1 };

struct entry {
    int64_t key[KEY_LEN];
    enum dir dir;
    enum mr_conv2d_algo algo;
    double us[NCAND]; /* best time of each candidate in microseconds, or -1 when not timed */
};

static struct entry table[MAX_ENTRIES];
static atomic_int_fast64_t count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* the shape part of the key (the first 13 values), then h and w */
static void make_key(const struct mr_conv2d *c, int64_t h, int64_t w, int64_t key[KEY_LEN])
{
    const int64_t k[KEY_LEN] = { c->cin, c->cout, c->kh, c->kw, c->stride[0], c->stride[1],
                                 c->dilation[0], c->dilation[1], c->pad[0], c->pad[1],
                                 c->pad[2], c->pad[3], (int64_t)c->pad_mode, h, w };
    memcpy(key, k, sizeof k);
}

static int64_t find(const int64_t key[KEY_LEN], enum dir dir)
{
    const int64_t n = atomic_load_explicit(&count, memory_order_acquire);
    for (int64_t i = 0; i < n; i++)
        if (table[i].dir == dir && memcmp(table[i].key, key, sizeof table[i].key) == 0)
            return i;
    return -1;
}

static enum mr_conv2d_algo lookup(const struct mr_conv2d *c, int64_t h, int64_t w, enum dir dir)
{
    if (atomic_load_explicit(&count, memory_order_relaxed) == 0)
        return MR_CONV2D_ALGO_AUTO;
    int64_t key[KEY_LEN];
    make_key(c, h, w, key);
    const int64_t i = find(key, dir);
    return i >= 0 ? table[i].algo : MR_CONV2D_ALGO_AUTO;
}

enum mr_conv2d_algo mr_conv_plan_lookup(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    return lookup(c, h, w, DIR_FORWARD);
}

enum mr_conv2d_algo mr_conv_plan_lookup_grad(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    return lookup(c, h, w, DIR_GRAD);
}

bool mr_conv_plan_any_winograd(const struct mr_conv2d *c)
{
    int64_t key[KEY_LEN];
    make_key(c, 0, 0, key);
    const int64_t n = atomic_load_explicit(&count, memory_order_acquire);
    for (int64_t i = 0; i < n; i++)
        if (table[i].dir == DIR_FORWARD && table[i].algo == MR_CONV2D_ALGO_WINOGRAD &&
            memcmp(table[i].key, key, (KEY_LEN - 2) * sizeof(int64_t)) == 0)
            return true;
    return false;
}

int64_t mr_conv_wisdom_count(void)
{
    return atomic_load_explicit(&count, memory_order_acquire);
}

void mr_conv_wisdom_forget(void)
{
    pthread_mutex_lock(&lock);
    atomic_store_explicit(&count, 0, memory_order_release);
    pthread_mutex_unlock(&lock);
}

/* appends (caller holds the lock); false when the table is full */
static bool append(const int64_t key[KEY_LEN], enum dir dir, enum mr_conv2d_algo algo,
                   const double us[NCAND])
{
    const int64_t n = atomic_load_explicit(&count, memory_order_relaxed);
    if (n >= MAX_ENTRIES)
        return false;
    memcpy(table[n].key, key, sizeof table[n].key);
    table[n].dir = dir;
    table[n].algo = algo;
    memcpy(table[n].us, us, sizeof table[n].us);
    atomic_store_explicit(&count, n + 1, memory_order_release);
    return true;
}

/* deterministic test data in [-0.5, 0.5) (values do not change the timings) */
static void fill(float *p, int64_t n, uint32_t seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) * (1.0f / 16777216.0f) - 0.5f;
    }
}

/* one run of c: the forward y = conv(x), or the input-gradient x = convᵀ(y) */
static void run(const struct mr_conv2d *c, enum dir dir, struct mr_array *y, struct mr_array *x,
                struct mr_array *scratch)
{
    if (dir == DIR_FORWARD)
        mr_conv2d_forward(c, y, x, scratch);
    else
        mr_conv2d_input_grad(c, x, y, scratch, false);
}

static void flush_lines(const void *p, int64_t nfloats)
{
#if defined(__x86_64__) || defined(__i386__)
    const size_t n = (size_t)nfloats * sizeof(float);
    for (size_t i = 0; p != NULL && i < n; i += 64)
        _mm_clflush((const char *)p + i);
#else
    (void)p;
    (void)nfloats;
#endif
}

void mr_conv2d_evict_weights(const struct mr_conv2d *c)
{
    flush_lines(c->w, c->cout * c->cin * c->kh * c->kw);
    if (c->wino != NULL)
        flush_lines(c->wino, mr_conv2d_winograd_weights_size(c));
    if (c->dnnl != NULL) {
        if (c->dnnl_w != NULL)
            flush_lines(c->dnnl_w, mr_conv_dnnl_weights_size(c->dnnl, false));
        if (c->dnnl_gw != NULL)
            flush_lines(c->dnnl_gw, mr_conv_dnnl_weights_size(c->dnnl, true));
    }
#if defined(__x86_64__) || defined(__i386__)
    _mm_mfence();
#endif
}

/*
 * Best of a few runs of one algorithm, in microseconds: one warm-up run, then runs until at
 * least 3 and 20 ms of them (at most 10), each with the weights out of cache. In a network a
 * conv's weights are read once per pass (E2EVN's 12 cascades and the U-Net levels each have
 * their own), so they come from memory, while its input was just written by the layer before.
 * Timed with warm weights, Winograd won the deepest U-Net levels (14×11, 288 channels) by 5 %,
 * but it reads 36/9 = 4× the weight bytes (12 MiB for 288→288) and ran 2.6× slower inside
 * E2EVN than alone, without gaining from a second thread; oneDNN ran 1.25× slower.
 */
static double time_conv(const struct mr_conv2d *c, enum dir dir, struct mr_array *y,
                        struct mr_array *x, struct mr_array *scratch)
{
    run(c, dir, y, x, scratch);
    double best = -1.0;
    double total = 0.0;
    for (int r = 0; r < 10 && (r < 3 || total < 0.02); r++) {
        mr_conv2d_evict_weights(c);
        const double t0 = mr_clock_now_s();
        run(c, dir, y, x, scratch);
        const double t = mr_clock_now_s() - t0;
        total += t;
        best = best < 0.0 || t < best ? t : best;
    }
    return best * 1e6;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* c0's oneDNN primitives for h×w in direction dir, or NULL where oneDNN cannot run it */
static const struct mr_conv_dnnl *dnnl_candidate(const struct mr_conv2d *c, int64_t h,
                                                 int64_t w, enum dir dir)
{
    const struct mr_conv_dnnl *p = NULL;
    if (!(dir == DIR_FORWARD ? mr_conv_dnnl_supported(c) : mr_conv_dnnl_grad_supported(c)) ||
        mr_conv_dnnl_get(c, h, w, &p) != MR_OK ||
        (dir == DIR_GRAD && !mr_conv_dnnl_has_grad(p)))
        return NULL;
    return p;
}

/* times the candidates that can run c at h×w in direction dir (the input-gradient: im2col and
 * oneDNN); AUTO when none could be timed */
static enum mr_conv2d_algo measure(const struct mr_conv2d *c0, int64_t h, int64_t w,
                                   enum dir dir, double us[NCAND])
{
    for (int k = 0; k < NCAND; k++)
        us[k] = -1.0;
    if (h + c0->pad[0] + c0->pad[1] < c0->dilation[0] * (c0->kh - 1) + 1 ||
        w + c0->pad[2] + c0->pad[3] < c0->dilation[1] * (c0->kw - 1) + 1)
        return MR_CONV2D_ALGO_AUTO;
    struct mr_conv2d c = *c0;
    c.w = NULL;
    c.wino = NULL;
    c.dnnl = NULL;
    c.dnnl_w = NULL;
    c.dnnl_gw = NULL;
    const int64_t ho = mr_conv2d_out_h(&c, h);
    const int64_t wo = mr_conv2d_out_w(&c, w);
    const bool wino = dir == DIR_FORWARD && mr_conv2d_winograd_supported(&c);
    const struct mr_conv_dnnl *p = dnnl_candidate(&c, h, w, dir); /* c.b: bias or not */
    c.b = NULL;
    int64_t nscr = dir == DIR_FORWARD ? mr_conv2d_im2col_scratch_size(&c, h, w)
                                      : mr_conv2d_im2col_input_grad_scratch_size(&c, h, w);
    if (wino)
        nscr = max64(nscr, mr_conv2d_winograd_scratch_size(&c, h, w, mr_cpu_threads()));
    if (p != NULL)
        nscr = max64(nscr, mr_conv_dnnl_scratch_size(p, dir == DIR_GRAD));
    const int64_t nwino = wino ? mr_conv2d_winograd_weights_size(&c) : 0;
    const int64_t nprep = nwino + (p != NULL ? mr_conv_dnnl_weights_size(p, dir == DIR_GRAD) : 0);
    struct mr_array wts = { 0 };
    struct mr_array bias = { 0 };
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    struct mr_array scratch = { 0 };
    struct mr_array u = { 0 };
    enum mr_conv2d_algo best = MR_CONV2D_ALGO_AUTO; /* a failed allocation: heuristics */
    if (mr_array_init_dims(&wts, MR_DTYPE_F32, 1, c.cout * c.cin * c.kh * c.kw) != MR_OK ||
        mr_array_init_dims(&bias, MR_DTYPE_F32, 1, c.cout) != MR_OK ||
        mr_array_init_dims(&x, MR_DTYPE_F32, 3, c.cin, h, w) != MR_OK ||
        mr_array_init_dims(&y, MR_DTYPE_F32, 3, c.cout, ho, wo) != MR_OK ||
        mr_array_init_dims(&scratch, MR_DTYPE_F32, 1, nscr > 0 ? nscr : 1) != MR_OK ||
        (nprep > 0 && mr_array_init_dims(&u, MR_DTYPE_F32, 1, nprep) != MR_OK))
        goto out;
    fill(mr_array_f32(&wts), mr_array_numel(&wts), 1u);
    fill(mr_array_f32(&bias), c.cout, 2u);
    fill(mr_array_f32(&x), mr_array_numel(&x), 3u);
    fill(mr_array_f32(&y), mr_array_numel(&y), 4u);
    c.w = mr_array_f32(&wts);
    c.b = c0->b != NULL ? mr_array_f32(&bias) : NULL;
    if (wino) {
        mr_conv2d_winograd_weights(&c, mr_array_f32(&u));
        c.wino = mr_array_f32(&u);
    }
    if (p != NULL) {
        mr_conv_dnnl_weights(p, dir == DIR_GRAD, c.w, mr_array_f32(&u) + nwino);
        c.dnnl = p;
        if (dir == DIR_GRAD)
            c.dnnl_gw = mr_array_f32(&u) + nwino;
        else
            c.dnnl_w = mr_array_f32(&u) + nwino;
    }
    double best_us = -1.0;
    for (int k = 0; k < NCAND; k++) {
        const enum mr_conv2d_algo a = candidates[k];
        if ((a == MR_CONV2D_ALGO_DIRECT &&
             (dir == DIR_GRAD || !mr_conv2d_direct_supported(&c))) ||
            (a == MR_CONV2D_ALGO_WINOGRAD && !wino) || (a == MR_CONV2D_ALGO_DNNL && p == NULL))
            continue;
        c.algo = a;
        us[k] = time_conv(&c, dir, &y, &x, &scratch);
        if (best_us < 0.0 || us[k] < best_us) {
            best_us = us[k];
            best = a;
        }
    }
out:
    mr_array_cleanup(&wts);
    mr_array_cleanup(&bias);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&scratch);
    mr_array_cleanup(&u);
    return best;
}

static enum mr_conv2d_algo choose(const struct mr_conv2d *c, int64_t h, int64_t w, enum dir dir)
{
    enum mr_conv2d_algo a = lookup(c, h, w, dir);
    if (a != MR_CONV2D_ALGO_AUTO || mr_settings_get()->conv_plan != MR_CONV_PLAN_MEASURE)
        return a;
    int64_t key[KEY_LEN];
    make_key(c, h, w, key);
    pthread_mutex_lock(&lock);
    const int64_t i = find(key, dir); /* another thread may have measured it meanwhile */
    if (i >= 0) {
        a = table[i].algo;
    } else {
        double us[NCAND];
        a = measure(c, h, w, dir, us);
        if (a != MR_CONV2D_ALGO_AUTO)
            append(key, dir, a, us);
    }
    pthread_mutex_unlock(&lock);
    return a;
}

enum mr_conv2d_algo mr_conv_plan_choose(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    return choose(c, h, w, DIR_FORWARD);
}

enum mr_conv2d_algo mr_conv_plan_choose_grad(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    return choose(c, h, w, DIR_GRAD);
}

const char *mr_conv2d_algo_name(enum mr_conv2d_algo a)
{
    switch (a) {
    case MR_CONV2D_ALGO_IM2COL:
        return "im2col";
    case MR_CONV2D_ALGO_DIRECT:
        return "direct";
    case MR_CONV2D_ALGO_WINOGRAD:
        return "winograd";
    case MR_CONV2D_ALGO_DNNL:
        return "dnnl";
    case MR_CONV2D_ALGO_AUTO:
    default:
        return "auto";
    }
}

/* the header lines a wisdom file must carry to be used by this process */
static void header(char lines[HEADER_LINES][LINE_MAX])
{
    char features[256];
    mr_cpu_features_string(features, sizeof features);
    const char *core = openblas_get_corename();
    const char *config = openblas_get_config();
    snprintf(lines[0], LINE_MAX, "mrirecon-conv-wisdom 2");
    snprintf(lines[1], LINE_MAX, "cpu %s %s", mr_cpu_get()->vendor, mr_cpu_get()->model);
    snprintf(lines[2], LINE_MAX, "features %s isa=%s", features, mr_isa_name(mr_cpu_isa()));
    snprintf(lines[3], LINE_MAX, "threads %d", mr_cpu_threads());
    snprintf(lines[4], LINE_MAX, "blas %s core=%s dnnl=%s", config != NULL ? config : "unknown",
             core != NULL ? core : "unknown", mr_conv_dnnl_version());
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static enum mr_conv2d_algo algo_from_name(const char *s)
{
    for (int k = 0; k < NCAND; k++)
        if (strcmp(s, mr_conv2d_algo_name(candidates[k])) == 0)
            return candidates[k];
    return MR_CONV2D_ALGO_AUTO;
}

/* the first word of a wisdom line for each direction */
static const char *const dir_names[2] = { "conv", "grad" };

/* parses one "conv ..." or "grad ..." line into key, direction, algo and times; false when it
 * does not parse (the input-gradient's algorithm must be im2col or dnnl) */
static bool parse_entry(const char *line, int64_t key[KEY_LEN], enum dir *dir,
                        enum mr_conv2d_algo *algo, double us[NCAND])
{
    char word[8];
    char name[16];
    int used = 0;
    if (sscanf(line,
               "%7s %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
               " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
               " %" SCNd64 " %" SCNd64 " %" SCNd64 " %15s %lf %lf %lf %lf%n",
               word, &key[0], &key[1], &key[2], &key[3], &key[4], &key[5], &key[6], &key[7],
               &key[8], &key[9], &key[10], &key[11], &key[12], &key[13], &key[14], name, &us[0],
               &us[1], &us[2], &us[3], &used) != 21 ||
        line[used] != '\0')
        return false;
    if (strcmp(word, dir_names[DIR_FORWARD]) == 0)
        *dir = DIR_FORWARD;
    else if (strcmp(word, dir_names[DIR_GRAD]) == 0)
        *dir = DIR_GRAD;
    else
        return false;
    *algo = algo_from_name(name);
    for (int k = 0; k < KEY_LEN; k++)
        if (key[k] < 0 || (k < 4 && key[k] < 1))
            return false;
    if (*dir == DIR_GRAD && *algo != MR_CONV2D_ALGO_IM2COL && *algo != MR_CONV2D_ALGO_DNNL)
        return false;
    return *algo != MR_CONV2D_ALGO_AUTO;
}

mr_status mr_conv_wisdom_import(const char *path, char *warning, size_t n)
{
    char want[HEADER_LINES][LINE_MAX];
    char line[LINE_MAX];
    mr_status st = MR_OK;
    header(want);
    if (n > 0)
        warning[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot open wisdom file '%s'", path);
    pthread_mutex_lock(&lock);
    int64_t lineno = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        chomp(line);
        if (lineno <= HEADER_LINES) {
            if (strcmp(line, want[lineno - 1]) != 0) {
                snprintf(warning, n, "wisdom file '%s' was measured with '%s', this run has "
                         "'%s': ignored", path, line, want[lineno - 1]);
                goto out;
            }
            continue;
        }
        int64_t key[KEY_LEN];
        enum dir dir;
        enum mr_conv2d_algo algo;
        double us[NCAND];
        if (!parse_entry(line, key, &dir, &algo, us)) {
            st = MR_FAIL(MR_ERR_FORMAT,
                         "wisdom file '%s' line %" PRId64 ": expected 'conv' or 'grad' and 15 "
                         "sizes, an algorithm (im2col, direct, winograd, dnnl; 'grad': im2col, "
                         "dnnl) and 4 times", path, lineno);
            goto out;
        }
        if (find(key, dir) < 0 && !append(key, dir, algo, us)) {
            st = MR_FAIL(MR_ERR_FORMAT, "wisdom file '%s': more than %d convs", path,
                         MAX_ENTRIES);
            goto out;
        }
    }
    if (ferror(f))
        st = MR_FAIL(MR_ERR_IO, "cannot read wisdom file '%s'", path);
    else if (lineno < HEADER_LINES)
        snprintf(warning, n, "wisdom file '%s' has no complete header: ignored", path);
out:
    pthread_mutex_unlock(&lock);
    fclose(f);
    return st;
}

mr_status mr_conv_wisdom_export(const char *path)
{
    char lines[HEADER_LINES][LINE_MAX];
    char tmp[4096];
    header(lines);
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return MR_FAIL(MR_ERR_IO, "wisdom file name too long: '%s'", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot create wisdom file '%s'", tmp);
    pthread_mutex_lock(&lock);
    for (int i = 0; i < HEADER_LINES; i++)
        fprintf(f, "%s\n", lines[i]);
    const int64_t n = atomic_load_explicit(&count, memory_order_acquire);
    for (int64_t i = 0; i < n; i++) {
        fputs(dir_names[table[i].dir], f);
        for (int k = 0; k < KEY_LEN; k++)
            fprintf(f, " %" PRId64, table[i].key[k]);
        fprintf(f, " %s %.1f %.1f %.1f %.1f\n", mr_conv2d_algo_name(table[i].algo),
                table[i].us[0], table[i].us[1], table[i].us[2], table[i].us[3]);
    }
    pthread_mutex_unlock(&lock);
    const bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        remove(tmp);
        return MR_FAIL(MR_ERR_IO, "cannot write wisdom file '%s'", tmp);
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return MR_FAIL(MR_ERR_IO, "cannot rename '%s' to '%s'", tmp, path);
    }
    return MR_OK;
}
