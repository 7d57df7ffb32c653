/* The adjoint twin of a stride-1 conv (networks/conv_adjoint.h). */
#include "networks/conv_adjoint.h"

bool mr_conv2d_adjoint_supported(const struct mr_conv2d *c)
{
    return c->stride[0] == 1 && c->stride[1] == 1 && c->dilation[0] == 1 &&
           c->dilation[1] == 1 && c->pad_mode == MR_PAD_MODE_ZERO && c->pad[0] < c->kh &&
           c->pad[1] < c->kh && c->pad[2] < c->kw && c->pad[3] < c->kw;
}

mr_status mr_conv2d_adjoint_make(const struct mr_conv2d *c, struct mr_conv2d *twin,
                                 struct mr_array *store)
{
    MR_ASSERT(mr_conv2d_adjoint_supported(c) && c->w != NULL);
    const int64_t kh = c->kh;
    const int64_t kw = c->kw;
    mr_status st = mr_array_init_dims(store, MR_DTYPE_F32, 4, c->cin, c->cout, kh, kw);
    if (st != MR_OK)
        return st;
    float *wt = mr_array_f32(store);
    for (int64_t i = 0; i < c->cin; i++)
        for (int64_t o = 0; o < c->cout; o++)
            for (int64_t a = 0; a < kh; a++)
                for (int64_t b = 0; b < kw; b++)
                    wt[((i * c->cout + o) * kh + a) * kw + b] =
                        c->w[((o * c->cin + i) * kh + (kh - 1 - a)) * kw + (kw - 1 - b)];
    *twin = mr_conv2d_make(c->cout, c->cin, kh, 0);
    twin->kw = kw;
    twin->pad[0] = kh - 1 - c->pad[0];
    twin->pad[1] = kh - 1 - c->pad[1];
    twin->pad[2] = kw - 1 - c->pad[2];
    twin->pad[3] = kw - 1 - c->pad[3];
    twin->w = wt;
    return MR_OK;
}
