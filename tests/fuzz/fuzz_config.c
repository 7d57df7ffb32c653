/*
 * Byte-level harness: a weight file's JSON network config (weights/config.h) and the
 * networks' reading and range-checking of it (networks/net.h mr_net_create). The first byte
 * picks the architecture, the second the options (reference or inference, an iteration
 * override); the rest is the JSON text. Each network is created over an empty tensor store,
 * so creation ends at the first tensor it asks for, after reading the config values that come
 * before it; nothing may be allocated from an unchecked value on the way.
 */
#include <stdlib.h>

#include "fuzz_common.h"
#include "networks/net.h"
#include "recon/status.h"
#include "weights/config.h"
#include "weights/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_generic(const struct mr_config *cfg)
{
    static const char *const keys[] = {"num_cascades", "chans", "pools", "sens_chans",
                                       "time_steps", "variant", "depth", "", "x"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int64_t iv;
        double dv;
        bool bv;
        const char *sv;
        int64_t ia[8];
        bool ba[8];
        int n;
        (void)mr_config_has(cfg, keys[i]);
        (void)mr_config_int(cfg, keys[i], 1, &iv);
        (void)mr_config_int_in(cfg, keys[i], 1, -5, 5, &iv);
        (void)mr_config_double(cfg, keys[i], 0.5, &dv);
        (void)mr_config_double_in(cfg, keys[i], 0.5, -1.0, 1.0, &dv);
        (void)mr_config_double_positive(cfg, keys[i], 0.5, 10.0, &dv);
        (void)mr_config_bool(cfg, keys[i], false, &bv);
        (void)mr_config_string(cfg, keys[i], "d", &sv);
        (void)mr_config_int_array(cfg, keys[i], ia, 0, ia, 8, &n);
        (void)mr_config_bool_array(cfg, keys[i], ba, 0, ba, 8, &n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    struct fz f;
    fz_init(&f, data, size);
    size_t n_nets = 0;
    while (mr_net_registered(n_nets) != NULL)
        n_nets++;
    const char *arch = mr_net_registered((size_t)fz_range(&f, 0, (int64_t)n_nets - 1));
    uint8_t o = fz_u8(&f);
    struct mr_net_options opt = mr_net_options_default;
    opt.inference = (o & 1) != 0;
    opt.iterations = (o & 2) != 0 ? (int)(o >> 2) : 0;

    size_t len;
    const uint8_t *text = fz_rest(&f, &len);
    char *json = fz_strndup(text, len);
    struct mr_config *cfg = NULL;
    struct mr_weights *ws = NULL;
    if (mr_config_parse(json, &cfg) == MR_OK) {
        read_generic(cfg);
        if (mr_weights_create(&ws) == MR_OK) {
            struct mr_net *net = NULL;
            if (mr_net_create(arch, ws, cfg, &opt, &net) == MR_OK)
                mr_net_free(net);
        }
    }
    mr_weights_free(ws);
    mr_config_free(cfg);
    free(json);
    return 0;
}
