/*
 * A conv's weights from a weight store under the state-dict names of PyTorch's Conv2d:
 * "<stem>.weight" (cout, cin, kh, kw) and "<stem>.bias" (cout). The one loader of the
 * networks' convs (U-Net, CIRIM, ConvGRU, RecurrentVarNet).
 */
#ifndef MR_NETWORKS_CONV_WEIGHTS_H
#define MR_NETWORKS_CONV_WEIGHTS_H

#include <stdbool.h>

#include "networks/layers.h"
#include "recon/status.h"
#include "weights/weights.h"

/* Points c->w (and with `bias` c->b) at the store's tensors for c's shape, which the caller has
 * set (mr_conv2d_make and edits); the store must outlive c. Errors: those of mr_weights_get
 * (MR_ERR_WEIGHTS naming the missing or misshapen tensor). */
mr_status mr_conv2d_load(struct mr_conv2d *c, struct mr_weights *ws, const char *stem,
                         bool bias);

#endif
