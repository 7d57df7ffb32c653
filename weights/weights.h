/*
 * The weight file and the tensor store networks load from.
 *
 * File layout (HDF5; full description in weights/README.md):
 *   root attribute  architecture  string  "e2evn" | "cirim" | "recurrentvarnet" | "lpn".
 *                                         Only the leading identifier counts, case-folded:
 *                                         "E2EVN (fastMRI VarNet: ...)" names e2evn, so the
 *                                         golden files are weight files as they are.
 *   root attribute  config        string  JSON object: the reference constructor arguments under
 *                                         the reference framework's own names (for E2EVN also
 *                                         "variant": "fastmri" | "atommic"; see networks/e2evn.h).
 *                                         Optional; missing means "{}" (all defaults).
 *   /weights/<key>                float32 one dataset per state_dict entry, named exactly as the
 *                                         training state_dict names it
 *                                         ("cascades.0.model.unet.conv.layers.4.weight"),
 *                                         shape as in PyTorch, C order, no transposes.
 * Other root attributes and datasets are ignored (a golden case file also holds its inputs,
 * outputs and intermediates).
 *
 * The store keeps every tensor in memory. Networks borrow tensors with mr_weights_get, which
 * checks the shape and marks the tensor used; after building a network,
 * mr_weights_check_unused reports keys nothing asked for (a converter or config mistake).
 *
 * Threads: a store is read-only after loading, except for the "used" marks set by
 * mr_weights_get; build networks from one store on one thread.
 */
#ifndef MR_WEIGHTS_WEIGHTS_H
#define MR_WEIGHTS_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/status.h"
#include "weights/config.h"

struct mr_weights;

/* An empty store with architecture "" and config "{}" (for building weights in code and for
 * tests). Errors: MR_ERR_NOMEM. */
mr_status mr_weights_create(struct mr_weights **out);

/* Loads a weight file (layout above). Every tensor must be finite; each tensor and the sum of
 * all of them must fit the memory limit (recon/array.h mr_memory_check). Errors: MR_ERR_IO /
 * MR_ERR_FORMAT (unreadable file, not HDF5, missing `architecture` attribute or /weights
 * group, damaged sizes), MR_ERR_WEIGHTS (a tensor is complex or holds NaN/Inf, naming the
 * tensor and the element; `config` is not a JSON object), MR_ERR_NOMEM (out of memory, or over
 * the memory limit). Messages name the file. */
mr_status mr_weights_load(const char *path, struct mr_weights **out);

/* Writes the store as a weight file (architecture, config, every tensor). Errors: MR_ERR_IO. */
mr_status mr_weights_save(const struct mr_weights *ws, const char *path);

/* Frees the store and every tensor. Tensors borrowed from it die with it. NULL ok. */
void mr_weights_free(struct mr_weights *ws);

/* Adds a tensor under name, taking over arr's data (arr is left empty). F32 only.
 * Errors: MR_ERR_ARG (duplicate name, not F32), MR_ERR_NOMEM (arr is then still cleaned up). */
mr_status mr_weights_add_take(struct mr_weights *ws, const char *name, struct mr_array *arr);

/* Sets the architecture string (normalised as described above) and the config JSON.
 * Errors: MR_ERR_WEIGHTS (config is not a JSON object), MR_ERR_NOMEM. */
mr_status mr_weights_set_architecture(struct mr_weights *ws, const char *architecture);
mr_status mr_weights_set_config(struct mr_weights *ws, const char *json);

/* The normalised architecture name ("e2evn"), the raw attribute as stored, the config JSON
 * text and the parsed config; all borrowed, valid until the store is freed or changed. */
const char *mr_weights_architecture(const struct mr_weights *ws);
const char *mr_weights_architecture_raw(const struct mr_weights *ws);
const char *mr_weights_config_json(const struct mr_weights *ws);
const struct mr_config *mr_weights_config(const struct mr_weights *ws);

/* Borrows the tensor `name`, checking it has rank ndim and the given dims (PyTorch order),
 * and marks it used. *out stays valid until the store is freed.
 * Errors: MR_ERR_WEIGHTS "missing key 'name'" or "'name' has shape (a, b) in the file,
 * expected (c, d)". */
mr_status mr_weights_get(struct mr_weights *ws, const char *name, int ndim,
                         const int64_t *dims, const struct mr_array **out);

/* True if the store holds name (does not mark it used). */
bool mr_weights_has(const struct mr_weights *ws, const char *name);

/* Number of tensors, and the i-th name / whether it has been used (i < count; insertion or
 * file order). */
size_t mr_weights_count(const struct mr_weights *ws);
const char *mr_weights_name(const struct mr_weights *ws, size_t i);
bool mr_weights_used(const struct mr_weights *ws, size_t i);

/* Total number of float parameters held. */
int64_t mr_weights_numel(const struct mr_weights *ws);

/* MR_OK if every tensor was used, else MR_ERR_WEIGHTS naming how many were not and the
 * first few keys. */
mr_status mr_weights_check_unused(const struct mr_weights *ws);

/* Clears every "used" mark (to build a second network from the same store). */
void mr_weights_reset_used(struct mr_weights *ws);

#endif
