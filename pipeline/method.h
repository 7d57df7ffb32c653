/*
 * Reconstruction methods: every way this engine reconstructs one slice, behind one interface and
 * in one table (pipeline/method.c), so that `recon`, `maskeval`, the stage and batch runs all
 * reach every method the same way. A new method is its own file plus one row of the table.
 *
 *   zf       root sum of squares of the zero-filled coil images          (recon/classic.h)
 *   sense    SENSE (Roemer) combination of the zero-filled coil images   (recon/classic.h)
 *   cg       CG-SENSE, Tikhonov-regularised                              (recon/classic.h)
 *   cs       L1-wavelet compressed sensing by FISTA                      (recon/classic.h)
 *   model    a network of networks/registry.c, from its weight file, with its framework's
 *            inference-time processing (networks/net.h mr_net_infer); an LPN weight file is
 *            plug-and-play with the LPN prior
 *   pnp-lpn  the same row under the name users know for LPN plug-and-play
 *
 * A method instance is made for one size, (C, H, W), with everything it needs (plans,
 * buffers, weights) and then runs slice after slice without allocating. One instance per
 * thread. Inputs of one slice (struct mr_slice):
 *   ksp   (C, H, W) CF32, centred k-space (DC at (H/2, W/2)), zero where not sampled
 *   mask  (H, W) F32, nonzero = sampled
 *   maps  (C, H, W) CF32 coil sensitivities (Σ_c |S_c|² = 1 inside the object), or NULL:
 *         pipeline/pipeline.h decides where they come from (struct mr_method_config.maps)
 * and the output is the magnitude image (H, W) F32 in the units of the zero-filled image
 * (orthonormal centred FFT, so |x| ≈ RSS of the coil images).
 */
#ifndef MR_PIPELINE_METHOD_H
#define MR_PIPELINE_METHOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/classic.h"
#include "recon/espirit.h"
#include "recon/probe.h"

/* Where coil sensitivities come from when a method needs them and the caller gives none. */
enum mr_maps_source {
    MR_MAPS_ESPIRIT = 0, /* ESPIRiT of the slice's calibration region (recon/espirit.h) */
    MR_MAPS_ACS = 1,     /* the method's own low-resolution ACS estimate (recon/coils.h; cg and
                          * cs refine it, classic.h) */
    MR_MAPS_FILE = 2,    /* the caller passes them (e.g. the input file's sensitivity_map) */
};

/* Parses "espirit" | "acs" | "file". Errors: MR_ERR_ARG. */
mr_status mr_maps_source_parse(const char *s, enum mr_maps_source *out);
const char *mr_maps_source_name(enum mr_maps_source maps);

#define MR_METHOD_NAME_MAX 32
#define MR_METHOD_PATH_MAX 1024

struct mr_method_config {
    char name[MR_METHOD_NAME_MAX];     /* a row of the table */
    char weights[MR_METHOD_PATH_MAX];  /* weight file, for rows that take one ("" none) */
    struct mr_classic_config classic;  /* FFT, CG / CS iterations and λ, ACS-map settings; the
                                        * FFT also of the networks' SENSE normalisation */
    int iterations;                    /* > 0: iterations of iterative networks (LPN PnP) */
    enum mr_maps_source maps;
    struct mr_espirit_config espirit;  /* for MR_MAPS_ESPIRIT */
};
/* *cfg = "cs", no weights, mr_classic_config_default, ESPIRiT maps (mr_espirit_config_default,
 * `bart ecalib -m1`, with crop 0: maps everywhere). A function rather than a const default
 * (STYLE.md) because it is built from the recon/ defaults, which C cannot copy at compile time. */
void mr_method_config_init(struct mr_method_config *cfg);

/*
 * Sets one option by name, as the command line, the stage's config text and maskeval's method
 * specs spell them: method (a row name), weights (a path: also selects "model" unless the
 * method is "pnp-lpn"), iterations (1..100000: cg, cs, LPN PnP), lambda (>= 0: cg, cs, relative
 * as in recon/classic.h), maps (espirit | acs | file), espirit_crop ([0, 1)).
 * Errors: MR_ERR_ARG naming the key and what was expected (cfg unchanged).
 */
mr_status mr_method_config_set(struct mr_method_config *cfg, const char *key, const char *value);

/*
 * Parses a method spec over *cfg: "NAME" or "NAME:key=value,key=value" (keys of
 * mr_method_config_set; "iters" is accepted for "iterations"), "pnp-lpn:W.h5", or a path ending
 * in ".h5" (a network weight file: "model" with these weights). Errors: MR_ERR_ARG.
 */
mr_status mr_method_config_parse(struct mr_method_config *cfg, const char *spec);

/* One slice's inputs (see the top of this file); all borrowed. */
struct mr_slice {
    const struct mr_array *ksp;
    const struct mr_array *mask;
    const struct mr_array *maps;
};

struct mr_method_ops {
    const char *name;
    const char *summary;   /* one line for usage texts */
    bool takes_weights;    /* needs cfg->weights */
    /* Everything for nc coils of h×w. Errors: MR_ERR_ARG (config), MR_ERR_SHAPE (a size the
     * method cannot run on), MR_ERR_WEIGHTS, MR_ERR_NOMEM, ... */
    mr_status (*create)(const struct mr_method_config *cfg, int64_t nc, int64_t h, int64_t w,
                        void **ctx);
    /* Whether run uses coil maps (NULL: never). */
    bool (*needs_maps)(const void *ctx);
    /* Whether the output scales with the input, f(a·y) = a·f(y) (NULL: yes; e.g. a network
     * fed raw k-space does not): pipeline.h rescales out-of-range k-space only for those. */
    bool (*scales_with_data)(const void *ctx);
    /* What outputs record as the method (NULL: the row name), e.g. a network's architecture. */
    const char *(*label)(const void *ctx);
    /* mag (H, W) F32 of one slice; no allocation. maps is NULL only with MR_MAPS_ACS (the
     * method estimates them) or when needs_maps is false. probe (may be NULL) receives the
     * report's numbers (recon/dc.h mr_dc_emit: "dc_residual", "unsampled_energy" of each
     * estimate, the last one the result's; solvers' "regularizer", "objective";
     * pipeline/trust.h) when it wants values. Errors: MR_ERR_DATA (inputs the method cannot
     * use), the solvers' and networks' own. */
    mr_status (*run)(void *ctx, const struct mr_slice *s, struct mr_array *mag,
                     const struct mr_probe *probe);
    void (*free)(void *ctx);
};

/* The row called name (built in or registered), or NULL. */
const struct mr_method_ops *mr_method_lookup(const char *name);

/* The i-th row (built-in rows first, then registered ones), or NULL past the end. */
const struct mr_method_ops *mr_method_at(size_t i);

/* "zf, sense, cg, cs, model, pnp-lpn" (and registered rows) into buf, for messages. */
const char *mr_method_names(char *buf, size_t len);

/*
 * Adds a row at run time (a plug-in of a program linking this library, or a test): ops is
 * borrowed and must outlive every use. Not thread-safe: register before reconstructing.
 * Errors: MR_ERR_ARG (no name, create or run; a name already in the table; table full).
 */
mr_status mr_method_register(const struct mr_method_ops *ops);

#endif
