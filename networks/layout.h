/*
 * Axis conventions of every network, decided once (STYLE.md "Defined once").
 *
 * Feature maps are F32 (channels, H, W) in C order, exactly a PyTorch NCHW tensor of batch 1,
 * and k-space / coil images are CF32 (coils, H, W): H is the first spatial axis (rows; the
 * readout in fastMRI files) and W the second (columns; the phase-encode lines a 1-D fastMRI mask
 * selects). Convolution kernels (out, in, kh, kw) therefore run kh along H and kw along W, as in
 * the training frameworks, so state_dict tensors are used as they are: no transposes, no flips
 * (PyTorch convolutions are cross-correlations and so are ours).
 *
 * Complex <-> channel packing (e2evn.md §4 steps 1 and 7): n complex images (n, H, W) CF32
 * correspond to 2n real channels (2n, H, W) F32. Channel part·n + k holds part (0 = real,
 * 1 = imaginary) of image k, so all real parts come first and then all imaginary parts. For
 * n = 1 this is [re, im], the channels-first view that every reference network uses (fastMRI /
 * ATOMMIC complex_to_chan_dim, DIRECT's permute to (N, 2, H, W)). A rank-2 (H, W) complex array
 * counts as n = 1. An (n, H, W) array needs a (2n, H, W) one (MR_ASSERT on the element count).
 */
#ifndef MR_NETWORKS_LAYOUT_H
#define MR_NETWORKS_LAYOUT_H

#include "recon/array.h"

void mr_complex_to_channels(struct mr_array *dst, const struct mr_array *src);
void mr_channels_to_complex(struct mr_array *dst, const struct mr_array *src);

#endif
