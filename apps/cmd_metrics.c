/*
 * mrirecon metrics: NMSE, PSNR and SSIM of a reconstruction file against a target file, with
 * fastMRI's (evaluate.py, per volume) or ATOMMIC's (tools/evaluation/reconstruction.py, per
 * slice) definitions (sampling/metrics.h; ../shared/specs/ismrmrd.md §3.1-3.2), as JSON.
 *
 * Datasets: the target is the first of reconstruction_rss, reconstruction, target present in
 * the target file (the order fastMRI's and ATOMMIC's evaluation scripts look for; --target-key
 * picks another), the prediction is `reconstruction` (fastMRI's submission format). Both are
 * (slices, H, W) or one (H, W) image; complex data is reduced to its magnitude.
 *
 * Crop: fastMRI centre-crops target and prediction to (W, W) with W = the target's width
 * (fastmri.data.transforms.center_crop, start (n - c) // 2) before scoring; this is the default
 * for --definition fastmri, and --crop / --no-crop force it on or off for either definition.
 * Where the target is shorter than W the crop keeps its full height (fastMRI would refuse).
 *
 * Folders (evaluate.py's --target-path / --predictions-path): every *.h5 of the target folder
 * is scored against the file of the same name in the prediction folder; fastmri reports the
 * per-volume numbers and their mean and sample std over volumes (evaluate.py prints
 * mean +/- 2 std), atommic the mean and std over all slices of all volumes.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "apps/commands.h"
#include "io/h5.h"
#include "recon/crop.h"
#include "sampling/metrics.h"

int mr_main_metrics(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon metrics --target T.h5|DIR --pred P.h5|DIR [--definition fastmri|atommic]\n"
    "                        [--crop | --no-crop] [--target-key K] [--pred-key K]\n"
    "Score a reconstruction against a target; prints JSON on stdout. With two folders, every\n"
    "T/NAME.h5 is scored against P/NAME.h5 and the mean and sample std over volumes\n"
    "(fastmri) or over all slices (atommic) are printed with the per-volume numbers.\n"
    "\n"
    "  -t, --target T.h5     target file: its reconstruction_rss, else reconstruction, else\n"
    "                        target dataset\n"
    "  -p, --pred P.h5       prediction file: its reconstruction dataset\n"
    "  -d, --definition D    fastmri (default): per volume, data range = target volume max,\n"
    "                        SSIM averaged over slices; atommic: every slice normalised by its\n"
    "                        own max, metrics per slice, mean and sample std (ddof 1; ATOMMIC\n"
    "                        prints mean +/- 2 std)\n"
    "      --crop            centre-crop both to (W, W), W = target width (fastMRI evaluate.py;\n"
    "                        the default for fastmri)\n"
    "      --no-crop         score the full images (the default for atommic)\n"
    "      --target-key K    dataset of the target file to use\n"
    "      --pred-key K      dataset of the prediction file to use\n"
    MR_CLI_MAX_MEMORY_HELP
    "  -h, --help            this text\n"
    "\n"
    "Exit: 0 ok, 1 failure (missing file or dataset, shape mismatch), 2 usage.\n";

struct metrics_opts {
    const char *target;
    const char *pred;
    const char *target_key;
    const char *pred_key;
    bool atommic;
    int crop; /* -1: by definition, 0 off, 1 on */
};

/* Reads dataset `key` of path as an F32 (slices, H, W) magnitude volume. */
static mr_status read_volume(const char *path, const char *const *keys, int nkeys,
                             struct mr_array *vol, const char **used)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;
    struct mr_array raw = { 0 };
    const char *key = NULL;

    MR_CHECK(mr_h5_open(path, &h));
    for (int i = 0; i < nkeys && key == NULL; i++)
        if (mr_h5_exists(h, keys[i]))
            key = keys[i];
    if (key == NULL) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' has no dataset %s%s%s%s%s", path, keys[0],
                     nkeys > 1 ? ", " : "", nkeys > 1 ? keys[1] : "", nkeys > 2 ? " or " : "",
                     nkeys > 2 ? keys[2] : "");
        goto out;
    }
    MR_CHECK(mr_h5_read(h, key, &raw));
    if (raw.ndim != 2 && raw.ndim != 3) {
        char buf[96];
        st = MR_FAIL(MR_ERR_SHAPE, "'%s' dataset %s has shape %s; expected (slices, H, W) or "
                     "(H, W)", path, key, mr_array_shape_str(&raw, buf, sizeof(buf)));
        goto out;
    }
    const int64_t s = raw.ndim == 3 ? raw.dims[0] : 1;
    const int64_t hh = raw.dims[raw.ndim - 2];
    const int64_t ww = raw.dims[raw.ndim - 1];
    MR_CHECK(mr_array_init_dims(vol, MR_DTYPE_F32, 3, s, hh, ww));
    float *d = mr_array_f32(vol);
    const int64_t n = s * hh * ww;
    if (raw.dtype == MR_DTYPE_CF32) {
        const float complex *x = mr_array_cf32(&raw);
        for (int64_t i = 0; i < n; i++)
            d[i] = cabsf(x[i]);
    } else {
        memcpy(d, raw.data, sizeof(float) * (size_t)n);
    }
    MR_CHECK(mr_array_check_finite(vol, key));
    *used = key;
out:
    if (st != MR_OK)
        mr_array_cleanup(vol);
    mr_array_cleanup(&raw);
    mr_h5_close(h);
    return st;
}

/* dst = centre crop (fastMRI center_crop) of src to (ch, cw); src at least that large. */
static mr_status crop_volume(const struct mr_array *src, int64_t ch, int64_t cw,
                             struct mr_array *dst, const char *what)
{
    const int64_t s = src->dims[0];
    const int64_t h = src->dims[1];
    const int64_t w = src->dims[2];
    if (h < ch || w < cw)
        return MR_FAIL(MR_ERR_SHAPE, "%s images are %lld x %lld, smaller than the %lld x %lld "
                       "crop", what, (long long)h, (long long)w, (long long)ch, (long long)cw);
    mr_status st = mr_array_init_dims(dst, MR_DTYPE_F32, 3, s, ch, cw);
    return st != MR_OK ? st : mr_center_crop(dst, src);
}

static void mean_std(const double *v, int64_t n, double *mean, double *std)
{
    double m = 0.0;
    double q = 0.0;
    for (int64_t i = 0; i < n; i++)
        m += v[i];
    m /= (double)n;
    for (int64_t i = 0; i < n; i++)
        q += (v[i] - m) * (v[i] - m);
    *mean = m;
    *std = n > 1 ? sqrt(q / (double)(n - 1)) : 0.0;
}

/* The numbers of one target/prediction pair. */
struct pair_result {
    const char *tkey; /* dataset used (static strings or the option) */
    const char *pkey;
    int64_t slices;
    int64_t ch; /* scored image size */
    int64_t cw;
    struct mr_metrics vol;   /* fastmri */
    struct mr_metrics *per;  /* atommic: one per slice (malloc'd) */
};

static mr_status score_pair(const struct metrics_opts *o, const char *tpath, const char *ppath,
                            struct pair_result *r)
{
    mr_status st = MR_OK;
    struct mr_array tgt = { 0 };
    struct mr_array prd = { 0 };
    struct mr_array tc = { 0 };
    struct mr_array pc = { 0 };
    static const char *const target_keys[] = { "reconstruction_rss", "reconstruction",
                                               "target" };
    const char *const *tk = target_keys;
    int ntk = 3;
    const char *pk = o->pred_key != NULL ? o->pred_key : "reconstruction";
    const bool crop = o->crop >= 0 ? o->crop == 1 : !o->atommic;

    memset(r, 0, sizeof(*r));
    if (o->target_key != NULL) {
        tk = &o->target_key;
        ntk = 1;
    }
    MR_CHECK(read_volume(tpath, tk, ntk, &tgt, &r->tkey));
    MR_CHECK(read_volume(ppath, &pk, 1, &prd, &r->pkey));
    if (tgt.dims[0] != prd.dims[0]) {
        st = MR_FAIL(MR_ERR_SHAPE, "target '%s' has %lld slices but prediction '%s' has %lld",
                     tpath, (long long)tgt.dims[0], ppath, (long long)prd.dims[0]);
        goto out;
    }
    r->ch = tgt.dims[1];
    r->cw = tgt.dims[2];
    if (crop) {
        r->ch = r->cw < r->ch ? r->cw : r->ch;
        MR_CHECK(crop_volume(&tgt, r->ch, r->cw, &tc, "target"));
        MR_CHECK(crop_volume(&prd, r->ch, r->cw, &pc, "prediction"));
    } else {
        if (!mr_array_same_shape(&tgt, &prd)) {
            char a[96];
            char b[96];
            st = MR_FAIL(MR_ERR_SHAPE, "target %s and prediction %s differ in shape (use "
                         "--crop)", mr_array_shape_str(&tgt, a, sizeof(a)),
                         mr_array_shape_str(&prd, b, sizeof(b)));
            goto out;
        }
        MR_CHECK(mr_array_init_copy(&tc, &tgt));
        MR_CHECK(mr_array_init_copy(&pc, &prd));
    }
    r->slices = tc.dims[0];
    if (!o->atommic) {
        st = mr_metrics_fastmri(&tc, &pc, &r->vol);
    } else {
        r->per = calloc((size_t)r->slices, sizeof(*r->per));
        if (r->per == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "per-slice metrics of %lld slices", (long long)r->slices);
            goto out;
        }
        st = mr_metrics_atommic(&tc, &pc, r->per);
    }
    if (st != MR_OK)
        mr_fail_context(st, "scoring '%s' against '%s'", ppath, tpath);
out:
    if (st != MR_OK) {
        free(r->per);
        r->per = NULL;
    }
    mr_array_cleanup(&tgt);
    mr_array_cleanup(&prd);
    mr_array_cleanup(&tc);
    mr_array_cleanup(&pc);
    return st;
}

static const char *const metric_keys[3] = { "nmse", "psnr", "ssim" };

static double metric_of(const struct mr_metrics *m, int k)
{
    return k == 0 ? m->nmse : k == 1 ? m->psnr : m->ssim;
}

/* "nmse", "nmse_std", ... = mean and sample std (ddof 1) of n values of each metric */
static mr_status add_mean_std(cJSON *obj, const struct mr_metrics *m, int64_t n)
{
    double *vals = calloc((size_t)(n > 0 ? n : 1), sizeof(*vals));
    if (vals == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "metric summary");
    for (int k = 0; k < 3; k++) {
        double mean;
        double sd;
        char key[32];
        for (int64_t i = 0; i < n; i++)
            vals[i] = metric_of(&m[i], k);
        mean_std(vals, n, &mean, &sd);
        cJSON_AddNumberToObject(obj, metric_keys[k], mean);
        snprintf(key, sizeof(key), "%s_std", metric_keys[k]);
        cJSON_AddNumberToObject(obj, key, sd);
    }
    free(vals);
    return MR_OK;
}

static void add_metrics(cJSON *obj, const struct mr_metrics *m)
{
    for (int k = 0; k < 3; k++)
        cJSON_AddNumberToObject(obj, metric_keys[k], metric_of(m, k));
}

static mr_status print_json(cJSON *root)
{
    char *text = cJSON_Print(root);
    if (text == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "JSON output");
    printf("%s\n", text);
    fflush(stdout);
    cJSON_free(text);
    return MR_OK;
}

/* One target file against one prediction file. */
/* The JSON output's object, opened with the definition and the target. */
static mr_status json_begin(const struct metrics_opts *o, cJSON **root)
{
    *root = cJSON_CreateObject();
    if (*root == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "JSON output");
    cJSON_AddStringToObject(*root, "definition", o->atommic ? "atommic" : "fastmri");
    cJSON_AddStringToObject(*root, "target", o->target);
    return MR_OK;
}

static mr_status run_file(const struct metrics_opts *o)
{
    mr_status st = MR_OK;
    struct pair_result r = { 0 };
    cJSON *root = NULL;
    const bool crop = o->crop >= 0 ? o->crop == 1 : !o->atommic;

    MR_CHECK(score_pair(o, o->target, o->pred, &r));
    MR_CHECK(json_begin(o, &root));
    cJSON_AddStringToObject(root, "target_key", r.tkey);
    cJSON_AddStringToObject(root, "pred", o->pred);
    cJSON_AddStringToObject(root, "pred_key", r.pkey);
    cJSON_AddNumberToObject(root, "slices", (double)r.slices);
    cJSON *shape = cJSON_AddArrayToObject(root, "shape");
    cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)r.ch));
    cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)r.cw));
    cJSON_AddBoolToObject(root, "crop", crop);
    if (!o->atommic) {
        add_metrics(root, &r.vol);
    } else {
        MR_CHECK(add_mean_std(root, r.per, r.slices));
        cJSON *arr = cJSON_AddArrayToObject(root, "per_slice");
        for (int64_t i = 0; i < r.slices; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(arr, e);
            add_metrics(e, &r.per[i]);
        }
    }
    st = print_json(root);
out:
    free(r.per);
    cJSON_Delete(root);
    return st;
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.h5 of the target folder against the file of the same name in the prediction folder
 * (fastMRI evaluate.py): fastmri = per-volume numbers, mean and std over volumes; atommic =
 * per-slice numbers of every volume, mean and std over all slices. */
static mr_status run_dir(const struct metrics_opts *o)
{
    mr_status st = MR_OK;
    char **names = NULL;
    size_t n = 0;
    size_t cap = 0;
    struct mr_metrics *all = NULL;
    int64_t nall = 0;
    cJSON *root = NULL;
    DIR *d = opendir(o->target);
    struct dirent *e;

    if (d == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot read folder '%s': %s", o->target, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 3 || strcmp(e->d_name + len - 3, ".h5") != 0)
            continue;
        if (n == cap) {
            cap = cap > 0 ? 2 * cap : 64;
            char **v = realloc(names, cap * sizeof(*v));
            if (v == NULL) {
                st = MR_FAIL(MR_ERR_NOMEM, "file list of '%s'", o->target);
                goto out;
            }
            names = v;
        }
        names[n] = malloc(len + 1);
        if (names[n] == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "file list of '%s'", o->target);
            goto out;
        }
        memcpy(names[n++], e->d_name, len + 1);
    }
    if (n == 0) {
        st = MR_FAIL(MR_ERR_ARG, "folder '%s' has no .h5 files", o->target);
        goto out;
    }
    qsort(names, n, sizeof(*names), cmp_name);
    MR_CHECK(json_begin(o, &root));
    cJSON_AddStringToObject(root, "pred", o->pred);
    cJSON_AddNumberToObject(root, "volumes", (double)n);
    cJSON *vols = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        char tp[4096];
        char pp[4096];
        struct pair_result r;
        snprintf(tp, sizeof(tp), "%s/%s", o->target, names[i]);
        snprintf(pp, sizeof(pp), "%s/%s", o->pred, names[i]);
        st = score_pair(o, tp, pp, &r);
        if (st != MR_OK) {
            cJSON_Delete(vols);
            goto out;
        }
        cJSON *v = cJSON_CreateObject();
        cJSON_AddItemToArray(vols, v);
        cJSON_AddStringToObject(v, "file", names[i]);
        cJSON_AddNumberToObject(v, "slices", (double)r.slices);
        int64_t add = o->atommic ? r.slices : 1;
        struct mr_metrics *grown = realloc(all, (size_t)(nall + add) * sizeof(*all));
        if (grown == NULL) {
            free(r.per);
            cJSON_Delete(vols);
            st = MR_FAIL(MR_ERR_NOMEM, "metrics of '%s'", o->target);
            goto out;
        }
        all = grown;
        if (o->atommic) {
            memcpy(all + nall, r.per, sizeof(*all) * (size_t)r.slices);
            st = add_mean_std(v, r.per, r.slices);
        } else {
            all[nall] = r.vol;
            add_metrics(v, &r.vol);
        }
        nall += add;
        free(r.per);
        if (st != MR_OK) {
            cJSON_Delete(vols);
            goto out;
        }
    }
    MR_CHECK(add_mean_std(root, all, nall));
    cJSON_AddItemToObject(root, "per_volume", vols);
    st = print_json(root);
out:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(all);
    cJSON_Delete(root);
    return st;
}

static mr_status run(const struct metrics_opts *o)
{
    const bool td = is_dir(o->target);
    if (td != is_dir(o->pred))
        return MR_FAIL(MR_ERR_ARG, "--target and --pred must both be files or both folders "
                       "('%s', '%s')", o->target, o->pred);
    return td ? run_dir(o) : run_file(o);
}

int mr_main_metrics(int argc, char *argv[])
{
    struct metrics_opts o = { .crop = -1 };
    static const struct option opts[] = {
        { "target", required_argument, NULL, 't' },
        { "pred", required_argument, NULL, 'p' },
        { "definition", required_argument, NULL, 'd' },
        { "crop", no_argument, NULL, 'C' },
        { "no-crop", no_argument, NULL, 'N' },
        { "target-key", required_argument, NULL, 'T' },
        { "pred-key", required_argument, NULL, 'P' },
        MR_CLI_MAX_MEMORY_OPTION,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    mr_cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "t:p:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': o.target = optarg; break;
        case 'p': o.pred = optarg; break;
        case 'd':
            if (strcmp(optarg, "fastmri") == 0) {
                o.atommic = false;
            } else if (strcmp(optarg, "atommic") == 0) {
                o.atommic = true;
            } else {
                fprintf(stderr, "mrirecon metrics: --definition must be fastmri or atommic, "
                        "not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'C': o.crop = 1; break;
        case 'N': o.crop = 0; break;
        case 'T': o.target_key = optarg; break;
        case 'P': o.pred_key = optarg; break;
        case MR_CLI_OPT_MAX_MEMORY:
            if (!mr_cli_max_memory("metrics", optarg))
                return 2;
            break;
        case 'h': fputs(help, stdout); return 0;
        default: return mr_cli_unknown_option("metrics", argv[optind - 1], help);
        }
    }
    if (argc != optind || o.target == NULL || o.pred == NULL) {
        fputs(help, stderr);
        return 2;
    }
    if (run(&o) != MR_OK) {
        fprintf(stderr, "mrirecon metrics: %s\n", mr_last_error());
        return 1;
    }
    return 0;
}
