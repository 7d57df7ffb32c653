/* The built-in rows of the method table (pipeline/method.c); each defined in its own file. */
#ifndef MR_PIPELINE_METHOD_ROWS_H
#define MR_PIPELINE_METHOD_ROWS_H

#include "pipeline/method.h"

extern const struct mr_method_ops mr_method_zf;      /* method_classic.c */
extern const struct mr_method_ops mr_method_sense;   /* method_classic.c */
extern const struct mr_method_ops mr_method_cg;      /* method_classic.c */
extern const struct mr_method_ops mr_method_cs;      /* method_classic.c */
extern const struct mr_method_ops mr_method_model;   /* method_network.c */
extern const struct mr_method_ops mr_method_pnp_lpn; /* method_network.c */

#endif
