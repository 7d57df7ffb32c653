/*
 * Run-time switches of the whole engine, in one place: the application sets them once, before
 * it creates plans, networks or stages (apps/ reads its options and environment and calls
 * mr_settings_set); library code reads them with mr_settings_get and never reads environment
 * variables itself. The defaults are what an application gets without setting anything.
 *
 * Not synchronised: set them while no computation runs (at start-up, as FFTW's planner flags).
 */
#ifndef MR_RECON_SETTINGS_H
#define MR_RECON_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "recon/cpu.h"
#include "recon/status.h"

/* FFTW planner rigour (recon/fft.c): AUTO follows conv_plan (ESTIMATE: FFTW_ESTIMATE;
 * MEASURE: FFTW_MEASURE for images of at least 96×96 values); the others apply to every size */
enum mr_fft_planner {
    MR_FFT_PLANNER_AUTO = 0,
    MR_FFT_PLANNER_ESTIMATE,
    MR_FFT_PLANNER_MEASURE,
    MR_FFT_PLANNER_PATIENT,
};

/* how a conv without an algorithm of its own picks one (networks/conv_plan.h) */
enum mr_conv_plan {
    MR_CONV_PLAN_ESTIMATE = 0, /* the built-in heuristics, or the wisdom loaded for a shape */
    MR_CONV_PLAN_MEASURE,      /* time the candidates on each new shape and keep the fastest */
};

/* one algorithm for every conv that can run it (tests, A/B runs), or AUTO */
enum mr_conv_force {
    MR_CONV_FORCE_AUTO = 0,
    MR_CONV_FORCE_IM2COL,      /* im2col + SGEMM (1×1: SGEMM alone) */
    MR_CONV_FORCE_DIRECT,      /* the AVX-512 direct kernel where it applies */
    MR_CONV_FORCE_WINOGRAD,    /* Winograd F(4×4, 3×3) for every 3×3 stride-1 conv */
    MR_CONV_FORCE_NO_WINOGRAD, /* AUTO without Winograd */
    MR_CONV_FORCE_DNNL,        /* oneDNN's conv (and input-gradient) where it applies */
};

struct mr_settings {
    enum mr_isa isa_max;             /* cap on the kernels' instruction set (recon/cpu.h) */
    enum mr_fft_planner fft_planner;
    enum mr_conv_plan conv_plan;
    enum mr_conv_force conv_force;
    bool cirim_full_fft;             /* CIRIM: full 2-D FFTs in its data consistency (A/B) */
    bool e2evn_kspace;               /* E2EVN: cascades in k-space, no shortcut (A/B) */
};

/* isa_max AVX512 (no cap), everything else 0/false */
extern const struct mr_settings mr_settings_default;

/* The settings in force (mr_settings_default until mr_settings_set). Never NULL. */
const struct mr_settings *mr_settings_get(void);

/* Copies *s into the settings in force. */
void mr_settings_set(const struct mr_settings *s);

/*
 * Sets one switch of *s from text, as options and environment variables spell it:
 *   "isa"            generic | avx2 | avx512
 *   "fft-planner"    auto | estimate | measure | patient
 *   "conv-plan"      estimate | measure
 *   "conv-algo"      auto | im2col | direct | winograd | no-winograd | dnnl
 *   "conv-winograd"  always | never (= conv-algo winograd | no-winograd)
 *   "cirim-full-fft", "e2evn-kspace"   any value turns the switch on
 * MR_ERR_ARG naming the key and the accepted values when value (or key) is not one of these.
 */
mr_status mr_settings_parse(struct mr_settings *s, const char *key, const char *value);

/* The environment variables an application maps onto keys of mr_settings_parse
 * ({ "MR_FFT_PLANNER", "fft-planner" }, ...), terminated by { NULL, NULL }. */
struct mr_settings_env_name {
    const char *env;
    const char *key;
};
extern const struct mr_settings_env_name mr_settings_env_names[];

/* Applies each variable of mr_settings_env_names that lookup(name) returns non-NULL for
 * (the application passes getenv). Stops at the first value mr_settings_parse rejects. */
mr_status mr_settings_parse_env(struct mr_settings *s, char *(*lookup)(const char *name));

#endif
