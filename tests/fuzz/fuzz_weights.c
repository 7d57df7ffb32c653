/*
 * Structure-aware harness: weight files (weights/weights.h). The fuzzer's bytes decide the
 * root attributes `architecture` (a registered network's name, or fuzzed text, or another
 * type) and `config` (fuzzed JSON text, or another type), whether /weights is a group, a
 * dataset or absent, and its tensors: names, types, ranks, dims, storage and contents (NaN
 * and Inf included; tests/fuzz/fuzz_h5.h). The file is loaded with mr_weights_load and, when
 * it loads, a network is built from it as `recon --weights` does (mr_net_create_from_weights:
 * the config's values and the tensors' shapes checked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_h5.h"
#include "networks/net.h"
#include "weights/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tensor_names[] = {
    "cascades.0.dc_weight", "cascades.0.model.unet.down_sample_layers.0.layers.0.weight",
    "sens_net.norm_unet.unet.final_conv.weight", "weight", "cascades.1.dc_weight", "x.bias"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    struct fz z;
    fz_init(&z, data, size);
    const char *path = fz_scratch_path("weights.h5");

    size_t n_nets = 0;
    while (mr_net_registered(n_nets) != NULL)
        n_nets++;
    char arch[80];
    size_t alen;
    if (!fz_rare(&z)) {
        snprintf(arch, sizeof arch, "%s",
                 mr_net_registered((size_t)fz_range(&z, 0, (int64_t)n_nets - 1)));
        alen = strlen(arch);
    } else {
        const uint8_t *a = fz_chunk(&z, sizeof arch - 1, &alen);
        memcpy(arch, a, alen);
        arch[alen] = '\0';
    }
    size_t clen;
    const uint8_t *cfg = fz_chunk(&z, 2048, &clen);

    hid_t fid = fzh_create(path);
    fzh_attribute(&z, fid, "architecture", FZH_STRING, arch, alen);
    fzh_attribute(&z, fid, "config", FZH_STRING, (const char *)cfg, clen);
    int kind = (int)fz_range(&z, 0, 7);
    if (kind == 6) {
        fzh_object(&z, fid, "weights", FZH_REAL, 1, NULL, 0);
    } else if (kind != 7) {
        hid_t g = H5Gcreate2(fid, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        for (int i = 0, n = (int)(fz_range(&z, 0, 5) + 1) % 6; g >= 0 && i < n; i++) {
            char name[96];
            if (!fz_rare(&z)) {
                snprintf(name, sizeof name, "%s",
                         tensor_names[fz_range(&z, 0, (int64_t)(sizeof tensor_names /
                                                                 sizeof tensor_names[0]) - 1)]);
            } else {
                size_t nlen;
                const uint8_t *s = fz_chunk(&z, 64, &nlen);
                snprintf(name, sizeof name, "t%d_%.*s", i, (int)nlen, (const char *)s);
                for (char *c = name; *c != '\0'; c++)
                    if (*c == '/')
                        *c = '_'; /* a path separator would make a group */
            }
            fzh_object(&z, g, name, FZH_REAL, (int)fz_range(&z, 1, 4), NULL, 0);
        }
        if (g >= 0)
            H5Gclose(g);
    }
    H5Fclose(fid);

    struct mr_weights *ws = NULL;
    if (mr_weights_load(path, &ws) == MR_OK) {
        struct mr_net_options opt = mr_net_options_default;
        opt.inference = fz_bool(&z);
        struct mr_net *net = NULL;
        if (mr_net_create_from_weights(ws, &opt, &net) == MR_OK)
            mr_net_free(net);
        (void)mr_weights_check_unused(ws);
        mr_weights_free(ws);
    }
    return 0;
}
