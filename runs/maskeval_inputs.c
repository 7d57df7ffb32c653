/* maskeval's inputs: method and mask specs, the volume readers, the input list (maskeval_run.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/fastmri.h"
#include "io/h5.h"
#include "io/npy.h"
#include "pipeline/output.h"
#include "runs/maskeval_run.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

const char *mr_maskeval_base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b != NULL ? b + 1 : path;
}

uint64_t mr_maskeval_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* ---- methods and masks -------------------------------------------------------------------- */

mr_status mr_maskeval_method_parse(const char *s, struct mr_maskeval_method *out)
{
    struct mr_maskeval_method m;
    memset(&m, 0, sizeof(m));
    if (strlen(s) == 0 || strlen(s) >= sizeof(m.label))
        return MR_FAIL(MR_ERR_ARG, "method '%s': expected a method of the table (zf, sense, cg, "
                       "cs, ...), options after ':', or a weight file .h5", s);
    snprintf(m.label, sizeof(m.label), "%s", s);
    mr_method_config_init(&m.cfg);
    mr_status st = mr_method_config_parse(&m.cfg, s);
    if (st != MR_OK)
        return st;
    *out = m;
    return MR_OK;
}

mr_status mr_maskeval_mask_parse(const char *s, struct mr_maskeval_mask *out)
{
    struct mr_maskeval_mask m;
    memset(&m, 0, sizeof(m));
    if (strlen(s) == 0 || strlen(s) >= sizeof(m.label))
        return MR_FAIL(MR_ERR_ARG, "mask '%s': expected a mask spec or a .npy file", s);
    snprintf(m.label, sizeof(m.label), "%s", s);
    if (ends_with(s, ".npy")) {
        m.is_file = true;
    } else {
        mr_status st = mr_mask_spec_parse(s, &m.spec);
        if (st != MR_OK)
            return st;
    }
    *out = m;
    return MR_OK;
}

const char *mr_maskeval_mask_kind(const struct mr_maskeval_mask *m)
{
    return m->is_file ? "file" : mr_mask_kind_name(m->spec.kind);
}

mr_status mr_maskeval_mask_make(const struct mr_maskeval_mask *m, const char *file, int64_t h,
                                int64_t w, struct mr_array *mask)
{
    if (m->is_file)
        return mr_npy_read_mask(m->label, h, w, mask);
    return mr_mask_spec_generate(&m->spec, h, w, mr_maskeval_base_name(file), mask, NULL, NULL);
}

/* ---- inputs ------------------------------------------------------------------------------- */

static bool fastmri_probe(const char *path)
{
    struct mr_h5 *h = NULL;
    if (mr_h5_open(path, &h) != MR_OK)
        return false;
    bool ok = mr_h5_exists(h, "kspace");
    mr_h5_close(h);
    return ok;
}

static mr_status fastmri_open(const char *path, void **ctx, struct mr_maskeval_volume_info *vi)
{
    struct mr_fastmri *f = NULL;
    mr_status st = mr_fastmri_open(path, &f);
    if (st != MR_OK)
        return st;
    const struct mr_fastmri_info *in = mr_fastmri_info(f);
    vi->slices = in->slices;
    vi->coils = in->coils;
    vi->h = in->h;
    vi->w = in->w;
    mr_output_shape(in, in->h, in->w, true, &vi->recon_h, &vi->recon_w);
    *ctx = f;
    return MR_OK;
}

static mr_status fastmri_read_slice(void *ctx, int64_t slice, struct mr_array *ksp)
{
    return mr_fastmri_read_kspace(ctx, slice, ksp);
}

static void fastmri_close(void *ctx)
{
    mr_fastmri_close(ctx);
}

static const struct mr_maskeval_source_ops fastmri_source = {
    .name = "fastmri", .probe = fastmri_probe, .open = fastmri_open,
    .read_slice = fastmri_read_slice, .close = fastmri_close,
};

/* Readers tried in order; the ISMRMRD dataset reader goes here. */
static const struct mr_maskeval_source_ops *const sources[] = { &fastmri_source };

mr_status mr_maskeval_source_open(const char *path, const struct mr_maskeval_source_ops **ops,
                                  void **ctx, struct mr_maskeval_volume_info *vi)
{
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
        if (sources[i]->probe(path)) {
            *ops = sources[i];
            return sources[i]->open(path, ctx, vi);
        }
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    fclose(f);
    return MR_FAIL(MR_ERR_FORMAT, "'%s' is not a fastMRI k-space file (no 'kspace' dataset)",
                   path);
}


static mr_status strlist_add(struct mr_strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap > 0 ? 2 * l->cap : 16;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "file list");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(s);
    if (l->v[l->n] == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "file list");
    l->n++;
    return MR_OK;
}

void mr_strlist_free(struct mr_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int mr_strlist_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* files as given; folders expanded to their *.h5 files, sorted */
mr_status mr_maskeval_expand_inputs(const struct mr_maskeval_config *cfg,
                                    struct mr_strlist *files)
{
    for (int i = 0; i < cfg->ninputs; i++) {
        const char *in = cfg->inputs[i];
        struct stat sb;
        if (stat(in, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            mr_status st = strlist_add(files, in);
            if (st != MR_OK)
                return st;
            continue;
        }
        DIR *d = opendir(in);
        if (d == NULL)
            return MR_FAIL(MR_ERR_IO, "cannot read folder '%s': %s", in, strerror(errno));
        size_t first = files->n;
        struct dirent *e;
        mr_status st = MR_OK;
        while (st == MR_OK && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' || !ends_with(e->d_name, ".h5"))
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s%s%s", in, ends_with(in, "/") ? "" : "/",
                     e->d_name);
            st = strlist_add(files, path);
        }
        closedir(d);
        if (st != MR_OK)
            return st;
        if (files->n == first)
            return MR_FAIL(MR_ERR_ARG, "folder '%s' has no .h5 files", in);
        qsort(files->v + first, files->n - first, sizeof(char *), mr_strlist_cmp);
    }
    return MR_OK;
}

