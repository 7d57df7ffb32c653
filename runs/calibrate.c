/* Trust-reference calibration (calibrate.h). */
#include "runs/calibrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runs/maskeval_run.h"

struct collected {
    struct mr_trust_features *v;
    int64_t n;
    int64_t cap;
};

static mr_status collect(void *arg, int64_t index, const struct mr_trust_report *r)
{
    struct collected *c = arg;
    (void)index;
    if (c->n == c->cap) {
        int64_t cap = c->cap > 0 ? 2 * c->cap : 16;
        struct mr_trust_features *v = realloc(c->v, sizeof(*v) * (size_t)cap);
        if (v == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "calibration reports");
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = mr_trust_features_of(r);
    return MR_OK;
}

mr_status mr_calibrate_run(const struct mr_calibrate_config *cfg, struct mr_trust_reference *out)
{
    mr_status st = MR_OK;
    struct mr_maskeval_config mc = mr_maskeval_config_default; /* its input lister */
    struct mr_strlist files = { 0 };
    struct collected col = { 0 };
    struct mr_volume_config vc = cfg->volume;
    char data[256];

    if (cfg->volume.method.weights[0] == '\0')
        return MR_FAIL(MR_ERR_ARG, "calibration needs a network weight file");
    if (cfg->ninputs < 1)
        return MR_FAIL(MR_ERR_ARG, "calibration needs input files or folders");
    mc.inputs = cfg->inputs;
    mc.ninputs = cfg->ninputs;
    MR_CHECK(mr_maskeval_expand_inputs(&mc, &files));
    vc.report_path = NULL;
    vc.on_report = collect;
    vc.on_report_arg = &col;
    const int nm = cfg->nmasks > 0 ? cfg->nmasks : 1;
    for (size_t i = 0; i < files.n; i++) {
        const int64_t before = col.n;
        for (int k = 0; k < nm; k++) {
            vc.mask_path = cfg->nmasks > 0 ? cfg->masks[k] : cfg->volume.mask_path;
            st = mr_volume_reconstruct(&vc, files.v[i], NULL, NULL);
            if (st != MR_OK) {
                mr_fail_context(st, "calibration input '%s'%s%s", files.v[i],
                                vc.mask_path != NULL ? " with the mask " : "",
                                vc.mask_path != NULL ? vc.mask_path : "");
                goto out;
            }
        }
        if (cfg->progress != NULL)
            cfg->progress(cfg->progress_arg, files.v[i], (int64_t)i + 1, (int64_t)files.n,
                          col.n - before);
    }
    snprintf(data, sizeof(data), "%lld slices of %zu file(s) x %d mask(s): %s%s",
             (long long)col.n, files.n, nm, cfg->inputs[0], cfg->ninputs > 1 ? ", ..." : "");
    MR_CHECK(mr_trust_reference_fit(col.v, col.n, data, out));
out:
    free(col.v);
    mr_strlist_free(&files);
    return st;
}
