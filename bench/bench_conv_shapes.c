/*
 * Every distinct conv shape of the given networks at their bench sizes, forward and (LPN)
 * input-gradient, against oneDNN: each network is prepared in MEASURE mode (networks/conv_plan.h:
 * that collects its conv keys and the plan's choice), then each key is timed afresh here, one
 * algorithm after the other (so they share the machine's load): im2col + SGEMM, the direct
 * kernel, Winograd, oneDNN (with its reorders), and the default estimate-mode choice (AUTO
 * without wisdom). Prints a markdown table in milliseconds (best of `reps` after a warm-up;
 * "-" where an algorithm cannot run the shape; every run with the weights evicted from the
 * caches first, as the plan times them), then the number of shapes where the measured
 * plan's choice, the best of our own algorithms and the estimate-mode choice are slower than
 * oneDNN. Threads: OMP_NUM_THREADS.
 *
 *   bench_conv_shapes [reps] NAME=FILE.h5 ...
 *
 * FILE: a weight file as bench/torch_*.py make writes it (with /kspace for the registry networks,
 * prepared for its coils × H × W); NAME starting with "lpn": the LPN (its 128×128 patch).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/cli_settings.h"
#include "apps/openblas_fix.h"
#include "io/h5.h"
#include "networks/conv_dnnl.h"
#include "networks/conv_plan.h"
#include "networks/layers.h"
#include "networks/lpn.h"
#include "networks/net.h"
#include "recon/clock.h"
#include "recon/settings.h"
#include "weights/weights.h"

enum { KEY_LEN = 15, NALGO = 5, MAX_KEYS = 256 };

/* the columns: our algorithms, oneDNN, then AUTO in estimate mode */
static const enum mr_conv2d_algo algos[NALGO] = {
    MR_CONV2D_ALGO_IM2COL, MR_CONV2D_ALGO_DIRECT, MR_CONV2D_ALGO_WINOGRAD,
    MR_CONV2D_ALGO_DNNL,   MR_CONV2D_ALGO_AUTO,
};

struct key {
    int64_t k[KEY_LEN];
    bool grad;
    enum mr_conv2d_algo pick; /* the measured plan's choice */
};

struct counts {
    int rows;
    int pick_slower;
    int own_slower;
    int estimate_slower;
};

static void set_plan(enum mr_conv_plan plan)
{
    struct mr_settings s = *mr_settings_get();
    s.conv_plan = plan;
    s.conv_force = MR_CONV_FORCE_AUTO;
    mr_settings_set(&s);
}

/* prepares the network of `path` for its bench size (collecting its conv keys) and frees it */
static mr_status prepare_network(const char *name, const char *path)
{
    mr_status st = MR_OK;
    struct mr_weights *ws = NULL;
    struct mr_h5 *h5 = NULL;
    struct mr_net *net = NULL;
    struct mr_lpn *lpn = NULL;
    struct mr_array ksp = { 0 };
    MR_CHECK(mr_weights_load(path, &ws));
    if (strncmp(name, "lpn", 3) == 0) {
        MR_CHECK(mr_lpn_create(ws, &lpn));
    } else {
        MR_CHECK(mr_net_create_from_weights(ws, NULL, &net));
        MR_CHECK(mr_h5_open(path, &h5));
        MR_CHECK(mr_h5_read(h5, "/kspace", &ksp));
        MR_CHECK(mr_net_prepare(net, ksp.dims[0], ksp.dims[1], ksp.dims[2]));
    }
out:
    mr_lpn_free(lpn);
    mr_net_free(net);
    mr_h5_close(h5);
    mr_array_cleanup(&ksp);
    mr_weights_free(ws);
    return st;
}

static enum mr_conv2d_algo algo_by_name(const char *s)
{
    for (int a = 0; a < NALGO; a++)
        if (strcmp(s, mr_conv2d_algo_name(algos[a])) == 0)
            return algos[a];
    return MR_CONV2D_ALGO_AUTO;
}

/* the keys of the wisdom (exported to a temporary file and read back) */
static mr_status collect_keys(struct key *keys, int *n)
{
    char path[64];
    char line[512];
    snprintf(path, sizeof path, "/tmp/bench_conv_shapes_%d.wisdom", (int)getpid());
    mr_status st = mr_conv_wisdom_export(path);
    if (st != MR_OK)
        return st;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot read back '%s'", path);
    *n = 0;
    while (fgets(line, sizeof line, f) != NULL && *n < MAX_KEYS) {
        struct key *k = &keys[*n];
        char word[8];
        char name[16];
        if (sscanf(line,
                   "%7s %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
                   " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
                   " %" SCNd64 " %" SCNd64 " %" SCNd64 " %15s",
                   word, &k->k[0], &k->k[1], &k->k[2], &k->k[3], &k->k[4], &k->k[5], &k->k[6],
                   &k->k[7], &k->k[8], &k->k[9], &k->k[10], &k->k[11], &k->k[12], &k->k[13],
                   &k->k[14], name) != 17)
            continue; /* a header line */
        k->grad = strcmp(word, "grad") == 0;
        k->pick = algo_by_name(name);
        (*n)++;
    }
    fclose(f);
    remove(path);
    return MR_OK;
}

static unsigned long long rng = 88172645463325252ULL;

static void fill(float *p, int64_t n, float scale)
{
    for (int64_t i = 0; i < n; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        p[i] = scale * (float)((double)(rng >> 11) / 9007199254740992.0 - 0.5);
    }
}

/* best of reps runs (after one warm-up) of c in its pass, in ms, each with the weights out of
 * cache as the plan times them (networks/conv_plan.h) */
static double time_pass(const struct mr_conv2d *c, bool grad, struct mr_array *x,
                        struct mr_array *y, struct mr_array *scratch, int reps)
{
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
        mr_conv2d_evict_weights(c);
        const double t0 = mr_clock_now_s();
        if (grad)
            mr_conv2d_input_grad(c, x, y, scratch, false);
        else
            mr_conv2d_forward(c, y, x, scratch);
        const double t = mr_clock_now_s() - t0;
        if (r > 0 && t < best)
            best = t;
    }
    return best * 1e3;
}

/* times algorithm a on key k: NAN where it cannot run the shape; the oneDNN implementation's
 * name to impl (for a == DNNL) */
static double time_algo(const struct key *k, enum mr_conv2d_algo a, int reps, const char **impl)
{
    struct mr_conv2d c = mr_conv2d_make(k->k[0], k->k[1], k->k[2], 0);
    c.kw = k->k[3];
    c.stride[0] = k->k[4];
    c.stride[1] = k->k[5];
    c.dilation[0] = k->k[6];
    c.dilation[1] = k->k[7];
    for (int i = 0; i < 4; i++)
        c.pad[i] = k->k[8 + i];
    c.pad_mode = (enum mr_pad_mode)k->k[12];
    const int64_t h = k->k[13];
    const int64_t w = k->k[14];
    const int64_t nw = c.cout * c.cin * c.kh * c.kw;
    float *wt = malloc(sizeof(float) * (size_t)nw);
    float *b = malloc(sizeof(float) * (size_t)c.cout);
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    struct mr_array scratch = { 0 };
    struct mr_array store = { 0 };
    double t = NAN;
    if (wt == NULL || b == NULL)
        goto out;
    fill(wt, nw, 1.0f / sqrtf((float)(c.cin * c.kh * c.kw)));
    fill(b, c.cout, 1.0f);
    c.w = wt;
    c.b = b;
    c.algo = a;
    if (mr_conv2d_prepare_for(&c, &store, h, w, k->grad) != MR_OK)
        goto out;
    if ((a == MR_CONV2D_ALGO_DIRECT && (k->grad || !mr_conv2d_uses_direct(&c))) ||
        (a == MR_CONV2D_ALGO_WINOGRAD && (k->grad || c.wino == NULL)) ||
        (a == MR_CONV2D_ALGO_DNNL && (k->grad ? c.dnnl_gw : c.dnnl_w) == NULL))
        goto out;
    if (a == MR_CONV2D_ALGO_DNNL)
        *impl = mr_conv_dnnl_impl(c.dnnl, k->grad);
    const int64_t ns = k->grad ? mr_conv2d_input_grad_scratch_size(&c, h, w)
                               : mr_conv2d_scratch_size(&c, h, w);
    if (mr_array_init_dims(&x, MR_DTYPE_F32, 3, c.cin, h, w) != MR_OK ||
        mr_array_init_dims(&y, MR_DTYPE_F32, 3, c.cout, mr_conv2d_out_h(&c, h),
                           mr_conv2d_out_w(&c, w)) != MR_OK ||
        mr_array_init_dims(&scratch, MR_DTYPE_F32, 1, ns > 0 ? ns : 1) != MR_OK)
        goto out;
    fill(mr_array_f32(&x), mr_array_numel(&x), 1.0f);
    fill(mr_array_f32(&y), mr_array_numel(&y), 1.0f);
    t = time_pass(&c, k->grad, &x, &y, &scratch, reps);
out:
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&scratch);
    mr_array_cleanup(&store);
    free(wt);
    free(b);
    return t;
}

static void print_ms(double t)
{
    if (isnan(t))
        printf(" - |");
    else
        printf(" %.3f |", t);
}

static const char *const pad_names[3] = { "zero", "repl", "refl" };

/* one table row per key; adds to the counts */
static void bench_keys(const char *name, const struct key *keys, int n, int reps,
                       struct counts *cnt)
{
    for (int i = 0; i < n; i++) {
        const struct key *k = &keys[i];
        double t[NALGO];
        const char *impl = "-";
        /* the estimate-mode column runs without wisdom: the built-in heuristics */
        for (int a = 0; a < NALGO; a++)
            t[a] = time_algo(k, algos[a], reps, &impl);
        const int64_t *v = k->k;
        printf("| %s | %s | %" PRId64 "→%" PRId64 " %" PRId64 "×%" PRId64 " s%" PRId64
               " d%" PRId64 " p%" PRId64 " %s | %" PRId64 "×%" PRId64 " |",
               name, k->grad ? "grad" : "fwd", v[0], v[1], v[2], v[3], v[4], v[6], v[8],
               pad_names[v[12] >= 0 && v[12] < 3 ? v[12] : 0], v[13], v[14]);
        double own = NAN;
        for (int a = 0; a < NALGO; a++) {
            print_ms(t[a]);
            if (a < 3 && !isnan(t[a]) && (isnan(own) || t[a] < own))
                own = t[a];
        }
        double pick = NAN;
        for (int a = 0; a < NALGO; a++)
            if (algos[a] == k->pick)
                pick = t[a];
        const double dnnl = t[3];
        printf(" %s | %s | %s |\n", mr_conv2d_algo_name(k->pick), impl,
               isnan(dnnl) ? "-" : (own <= dnnl ? "yes" : "no"));
        cnt->rows++;
        if (!isnan(dnnl)) {
            cnt->pick_slower += pick > dnnl;
            cnt->own_slower += own > dnnl;
            cnt->estimate_slower += t[4] > dnnl;
        }
        fflush(stdout);
    }
}

int main(int argc, char *argv[])
{
    mr_openblas_fix_coretype(argv); /* AVX-512 GEMM kernels, as mrirecon does */
    if (!mr_cli_settings_env("bench_conv_shapes"))
        return 2;
    int first = 1;
    int reps = 5;
    if (argc > 1 && strchr(argv[1], '=') == NULL) {
        reps = atoi(argv[1]);
        first = 2;
    }
    if (reps < 1 || first >= argc) {
        fputs("usage: bench_conv_shapes [reps] NAME=FILE.h5 ...\n", stderr);
        return 2;
    }
    printf("oneDNN %s; best of %d, ms; own ≤ oneDNN: the best of im2col/direct/Winograd\n\n",
           mr_conv_dnnl_version(), reps);
    printf("| net | pass | shape | input | im2col | direct | Winograd | oneDNN | estimate "
           "(AUTO) | plan picks | oneDNN impl | own ≤ oneDNN |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    struct counts cnt = { 0 };
    static struct key keys[MAX_KEYS];
    for (int i = first; i < argc; i++) {
        char name[64];
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof name) {
            fprintf(stderr, "bench_conv_shapes: expected NAME=FILE.h5, not '%s'\n", argv[i]);
            return 2;
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - argv[i]), argv[i]);
        int n = 0;
        mr_conv_wisdom_forget();
        set_plan(MR_CONV_PLAN_MEASURE);
        mr_status st = prepare_network(name, eq + 1);
        if (st == MR_OK)
            st = collect_keys(keys, &n);
        set_plan(MR_CONV_PLAN_ESTIMATE);
        mr_conv_wisdom_forget();
        if (st != MR_OK) {
            fprintf(stderr, "bench_conv_shapes: %s: %s\n", eq + 1, mr_last_error());
            return 1;
        }
        bench_keys(name, keys, n, reps, &cnt);
    }
    printf("\nshapes where the chosen algorithm is slower than oneDNN: %d (of %d; the measure "
           "plan's pick, oneDNN among its candidates)\n",
           cnt.pick_slower, cnt.rows);
    printf("shapes where the best of our own algorithms is slower than oneDNN: %d\n",
           cnt.own_slower);
    printf("shapes where the estimate-mode choice is slower than oneDNN: %d\n",
           cnt.estimate_slower);
    return 0;
}
