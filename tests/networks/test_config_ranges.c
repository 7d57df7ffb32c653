/* Every network's config values are range-checked at create (networks/net.h limits): a
 * weight file asking for absurd work or memory (CIRIM's 10⁹ time steps, a dilation of 100, a
 * patch stride that leaves gaps) fails with a message naming the key and the allowed range,
 * before any tensor is looked up. */
#include "mr_test.h"

#include <string.h>

#include "networks/net.h"
#include "weights/config.h"
#include "weights/weights.h"

struct bad_case {
    const char *arch;
    const char *json;
    const char *key; /* as the message names it */
};

static const struct bad_case bad[] = {
    { "cirim", "{\"time_steps\": 1000000000}", "time_steps" },
    { "cirim", "{\"num_cascades\": 300}", "num_cascades" },
    { "cirim", "{\"conv_dilations\": [1, 100, 1]}", "conv_dilations[1]" },
    { "cirim", "{\"conv_kernels\": [5, 3, 33]}", "conv_kernels[2]" },
    { "cirim", "{\"conv_filters\": [5000, 64, 2]}", "conv_filters[0]" },
    { "cirim", "{\"recurrent_filters\": [64, 5000, 0]}", "recurrent_filters[1]" },
    { "cirim", "{\"recurrent_dilations\": [1, 65, 0]}", "recurrent_dilations[1]" },
    { "e2evn", "{\"num_cascades\": 257}", "num_cascades" },
    { "e2evn", "{\"chans\": 0}", "chans" },
    { "e2evn", "{\"pools\": 9}", "pools" },
    { "e2evn", "{\"sens_pools\": 0}", "sens_pools" },
    { "e2evn", "{\"sens_chans\": 4097}", "sens_chans" },
    { "e2evn", "{\"channels\": 5000}", "channels" },
    { "e2evn", "{\"padding_size\": 2000}", "padding_size" },
    { "e2evn", "{\"pooling_layers\": 0}", "pooling_layers" },
    { "recurrentvarnet", "{\"num_steps\": 1000}", "num_steps" },
    { "recurrentvarnet", "{\"recurrent_hidden_channels\": 0}", "recurrent_hidden_channels" },
    { "recurrentvarnet", "{\"recurrent_num_layers\": 17}", "recurrent_num_layers" },
    { "recurrentvarnet",
      "{\"learned_initializer\": true, \"initializer_initialization\": \"sense\", "
      "\"initializer_dilations\": [1, 1, 2, 100]}",
      "initializer_dilations" },
    { "recurrentvarnet",
      "{\"learned_initializer\": true, \"initializer_initialization\": \"sense\", "
      "\"initializer_multiscale\": 9}",
      "initializer_multiscale" },
    { "recurrentvarnet", "{\"sensitivity_model_num_pool_layers\": 9}",
      "sensitivity_model_num_pool_layers" },
    { "recurrentvarnet", "{\"sensitivity_maps_gaussian\": -1}", "sensitivity_maps_gaussian" },
    { "lpn", "{\"hidden\": 0}", "hidden" },
    { "lpn", "{\"in_dim\": 5000}", "in_dim" },
    { "lpn", "{\"beta\": 0}", "beta" },
    { "lpn", "{\"alpha\": -1}", "alpha" },
    { "lpn", "{\"pnp_iterations\": 2000000}", "pnp_iterations" },
    { "lpn", "{\"pnp_step\": 0}", "pnp_step" },
    { "lpn", "{\"patch_stride\": 129}", "patch_stride" },
    { "lpn", "{\"cg_tol\": 2}", "cg_tol" },
    { "lpn", "{\"admm_rho\": -1}", "admm_rho" },
    { "lpn", "{\"cg_iterations\": -1}", "cg_iterations" },
};

static mr_status create(const char *arch, const char *json, const struct mr_net_options *opt)
{
    struct mr_weights *ws = NULL;
    struct mr_config *cfg = NULL;
    struct mr_net *net = NULL;

    assert_int_equal(mr_weights_create(&ws), MR_OK);
    assert_int_equal(mr_config_parse(json, &cfg), MR_OK);
    mr_status st = mr_net_create(arch, ws, cfg, opt, &net);
    assert_null(net);
    mr_config_free(cfg);
    mr_weights_free(ws);
    return st;
}

static void test_config_values_out_of_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const mr_status st = create(bad[i].arch, bad[i].json, NULL);
        const char *msg = mr_last_error();
        if (!(st == MR_ERR_WEIGHTS || st == MR_ERR_ARG) || strstr(msg, bad[i].key) == NULL ||
            strstr(msg, "outside") == NULL)
            print_error("%s %s: status %d, message '%s'\n", bad[i].arch, bad[i].json, (int)st,
                        msg);
        assert_true(st == MR_ERR_WEIGHTS || st == MR_ERR_ARG);
        assert_non_null(strstr(msg, bad[i].key));
        assert_non_null(strstr(msg, "outside"));
    }
}

/* the control: in-range values get as far as the (missing) tensors */
static void test_config_values_in_range(void **state)
{
    (void)state;
    static const char *const arch[] = { "cirim", "e2evn", "recurrentvarnet", "lpn" };
    static const char *const json[] = {
        "{\"time_steps\": 256, \"num_cascades\": 256, \"conv_dilations\": [1, 64, 1]}",
        "{\"num_cascades\": 256, \"pools\": 8}",
        "{\"num_steps\": 256, \"recurrent_num_layers\": 16}",
        "{\"patch_stride\": 128, \"pnp_iterations\": 1000000, \"beta\": 1e6}",
    };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(create(arch[i], json[i], NULL), MR_ERR_WEIGHTS);
        assert_null(strstr(mr_last_error(), "outside"));
    }
    const struct mr_net_options opt = { .inference = true, .iterations = -1 };
    assert_int_equal(create("lpn", "{}", &opt), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "iterations"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_values_out_of_range),
        cmocka_unit_test(test_config_values_in_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
