/* ATOMMIC's inference-time k-space scaling (atommic.h). */
#include "networks/atommic.h"

mr_status mr_atommic_inference_prepare(struct mr_atommic_inference *a, int64_t nc, int64_t h,
                                       int64_t w)
{
    mr_status st = MR_OK;

    mr_atommic_inference_cleanup(a);
    MR_CHECK(mr_kscale_sense_create(nc, h, w, &a->kscale));
    MR_CHECK(mr_array_init_dims(&a->ksp, MR_DTYPE_CF32, 3, nc, h, w));
out:
    if (st != MR_OK)
        mr_atommic_inference_cleanup(a);
    return st;
}

void mr_atommic_inference_cleanup(struct mr_atommic_inference *a)
{
    mr_kscale_sense_free(a->kscale);
    a->kscale = NULL;
    mr_array_cleanup(&a->ksp);
}

mr_status mr_atommic_inference_pre(struct mr_atommic_inference *a, struct mr_net_inputs *in,
                                   float *scale)
{
    mr_status st = mr_kscale_sense_max(a->kscale, in->ksp, in->sens, scale);

    if (st != MR_OK)
        return st;
    mr_kscale_divide(&a->ksp, in->ksp, *scale);
    in->ksp = &a->ksp;
    return MR_OK;
}

void mr_atommic_inference_post(struct mr_array *img, float scale)
{
    float *g = mr_array_f32(img);
    for (int64_t i = 0; i < mr_array_numel(img); i++)
        g[i] *= scale;
}
