/* A conv's weights from a weight store (networks/conv_weights.h). */
#include "networks/conv_weights.h"

#include <stdio.h>

mr_status mr_conv2d_load(struct mr_conv2d *c, struct mr_weights *ws, const char *stem,
                         bool bias)
{
    char name[600];
    const struct mr_array *t = NULL;

    snprintf(name, sizeof(name), "%s.weight", stem);
    mr_status st = mr_weights_get(ws, name, 4, (const int64_t[]){ c->cout, c->cin, c->kh, c->kw },
                                  &t);
    if (st != MR_OK)
        return st;
    c->w = mr_array_f32(t);
    if (!bias)
        return MR_OK;
    snprintf(name, sizeof(name), "%s.bias", stem);
    st = mr_weights_get(ws, name, 1, (const int64_t[]){ c->cout }, &t);
    if (st != MR_OK)
        return st;
    c->b = mr_array_f32(t);
    return MR_OK;
}
