/*
 * RecurrentVarNet forward-pass benchmark: loads a weight file that also holds one case's
 * inputs (/kspace, /mask, /sensitivity_map, as `bench/torch_recurrentvarnet.py make` and the
 * model-level goldens write them; the FFT convention from the config's "fft_centered"),
 * builds the network, prepares it once and times `reps` forward passes. Prints one JSON line
 * (times, best, peak RSS) and optionally writes the output k-space as OUT.h5 /output.
 * Threads: OMP_NUM_THREADS (the kernels' OpenMP and OpenBLAS).
 *
 *   bench_recurrentvarnet FILE.h5 [reps] [OUT.h5]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "networks/recurrentvarnet.h"
#include "recon/clock.h"

struct run_ctx {
    struct mr_recurrentvarnet *net;
    struct mr_bench_case *c;
};

static mr_status run_once(void *ctx)
{
    struct run_ctx *r = ctx;
    return mr_recurrentvarnet_run(r->net, &r->c->out, &r->c->ksp, &r->c->mask, &r->c->sens,
                                  NULL, NULL);
}

static mr_status bench(const char *path, int reps, const char *out_path)
{
    mr_status st = MR_OK;
    struct mr_bench_case c;
    struct mr_recurrentvarnet *net = NULL;
    struct mr_recurrentvarnet_config cfg;

    MR_CHECK(mr_bench_case_open(path, true, &c));
    MR_CHECK(mr_recurrentvarnet_config_parse(mr_weights_config(c.ws), &cfg));
    MR_CHECK(mr_recurrentvarnet_create(c.ws, "", &cfg, &net));
    const int64_t nc = c.ksp.dims[0];
    const int64_t h = c.ksp.dims[1];
    const int64_t w = c.ksp.dims[2];
    MR_CHECK(mr_array_init_like(&c.out, &c.ksp));

    double t0 = mr_clock_now_s();
    MR_CHECK(mr_recurrentvarnet_prepare(net, nc, h, w));
    double t_prepare = mr_clock_now_s() - t0;
    printf("{\"engine\": \"c\", \"threads\": \"%s\", \"size\": [%lld, %lld, %lld], "
           "\"steps\": %lld, \"hidden\": %lld, \"layers\": %lld, \"prepare_s\": %.4f, "
           "\"times_s\": [",
           getenv("OMP_NUM_THREADS") != NULL ? getenv("OMP_NUM_THREADS") : "default",
           (long long)nc, (long long)h, (long long)w, (long long)cfg.num_steps,
           (long long)cfg.hidden, (long long)cfg.layers, t_prepare);
    struct run_ctx r = { net, &c };
    MR_CHECK(mr_bench_time_runs(run_once, &r, reps));
    printf(", \"rss_before_load_mib\": %.1f}\n", c.rss_before);
    MR_CHECK(mr_bench_write_output(out_path, &c.out));
out:
    mr_recurrentvarnet_free(net);
    mr_bench_case_cleanup(&c);
    return st;
}

int main(int argc, char *argv[])
{
    return mr_bench_main(argc, argv, "bench_recurrentvarnet", 1, bench);
}
