/*
 * oneDNN's convolution as a conv algorithm (conv_dnnl.h), through its C API (dnnl.h, v2.x):
 * a convolution forward_inference primitive and a backward_data one (its hint: the
 * forward_training descriptor of the same conv), created with "any" activation and weight
 * layouts, user-managed scratchpads, and reorders between our plain nchw maps and the layouts
 * oneDNN picked. The input-gradient's accumulate mode is a reorder with a sum post-op.
 */
#include "networks/conv_dnnl.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recon/cpu.h"

#ifdef MR_DNNL
#include <dnnl.h>

/* cin cout kh kw stride(2) dilation(2) pad(4) h w bias threads */
enum { KEY_LEN = 16, IMPL_LEN = 64 };

/* one primitive with its scratchpad (NULL when it needs none) */
struct step {
    dnnl_primitive_t prim;
    dnnl_memory_t pad;
    int64_t pad_floats;
};

/* one direction: forward (in = x, out = y) or backward data (in = gout, out = gin) */
struct dir {
    struct step conv;
    struct step in_reorder;      /* plain in → blocked in; .prim NULL when oneDNN uses plain */
    struct step out_reorder;     /* blocked out → plain out; .prim NULL likewise */
    struct step out_sum;         /* out_blk added to plain out (backward only) */
    struct step w_reorder;       /* plain oihw weights → this direction's layout */
    dnnl_memory_t in_plain;
    dnnl_memory_t in_blk;
    dnnl_memory_t out_plain;
    dnnl_memory_t out_blk;
    dnnl_memory_t wts;
    dnnl_memory_t wts_plain;
    dnnl_memory_t bias;          /* forward with bias only */
    int64_t in_floats;           /* scratch for the blocked input (0 when plain) */
    int64_t out_floats;          /* scratch for the blocked (or, backward, summed) output */
    int64_t w_floats;            /* this direction's weights, rounded up to 16 */
    char impl[IMPL_LEN];
};

struct mr_conv_dnnl {
    int64_t key[KEY_LEN];
    pthread_mutex_t lock; /* the memory objects' handles are set per run */
    dnnl_stream_t stream;
    bool has_grad;
    struct dir fwd;
    struct dir bwd;
};

static dnnl_engine_t engine;
static dnnl_status_t engine_status = dnnl_success;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mr_conv_dnnl *table[MR_CONV_DNNL_MAX];
static int table_count;

static void engine_init(void)
{
    engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
}

static int64_t round16(int64_t n)
{
    return (n + 15) / 16 * 16;
}

static int64_t md_floats(const dnnl_memory_desc_t *md)
{
    return round16((int64_t)((dnnl_memory_desc_get_size(md) + sizeof(float) - 1) /
                             sizeof(float)));
}

static void make_key(const struct mr_conv2d *c, int64_t h, int64_t w, int64_t key[KEY_LEN])
{
    const int64_t k[KEY_LEN] = { c->cin, c->cout, c->kh, c->kw, c->stride[0], c->stride[1],
                                 c->dilation[0], c->dilation[1], c->pad[0], c->pad[1],
                                 c->pad[2], c->pad[3], h, w, c->b != NULL, mr_cpu_threads() };
    memcpy(key, k, sizeof k);
}

/* a oneDNN status as ours, naming what failed and the shape */
static mr_status fail(dnnl_status_t s, const char *what, const int64_t *key)
{
    const mr_status code =
        s == dnnl_out_of_memory ? MR_ERR_NOMEM : MR_ERR_UNSUPPORTED;
    return MR_FAIL(code,
                   "oneDNN %s failed (status %d) for the conv %" PRId64 "->%" PRId64 " %" PRId64
                   "x%" PRId64 " stride %" PRId64 " dilation %" PRId64 " on %" PRId64 "x%" PRId64,
                   what, (int)s, key[0], key[1], key[2], key[3], key[4], key[6], key[12],
                   key[13]);
}

#define DNNL_TRY(call, what)                                                                  \
    do {                                                                                      \
        const dnnl_status_t s_ = (call);                                                      \
        if (s_ != dnnl_success) {                                                             \
            st = fail(s_, what, p->key);                                                      \
            goto out;                                                                         \
        }                                                                                     \
    } while (0)

static dnnl_primitive_attr_t user_scratchpad_attr(bool sum)
{
    dnnl_primitive_attr_t a = NULL;
    dnnl_post_ops_t po = NULL;
    if (dnnl_primitive_attr_create(&a) != dnnl_success)
        return NULL;
    if (dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user) != dnnl_success)
        goto bad;
    if (sum) {
        if (dnnl_post_ops_create(&po) != dnnl_success ||
            dnnl_post_ops_append_sum(po, 1.0f) != dnnl_success ||
            dnnl_primitive_attr_set_post_ops(a, po) != dnnl_success)
            goto bad;
        dnnl_post_ops_destroy(po);
    }
    return a;
bad:
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(a);
    return NULL;
}

/* creates step s from primitive descriptor pd (consumed) */
static dnnl_status_t step_init(struct step *s, dnnl_primitive_desc_t pd)
{
    const dnnl_memory_desc_t *pmd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    dnnl_status_t r = dnnl_primitive_create(&s->prim, pd);
    if (r == dnnl_success && pmd != NULL && dnnl_memory_desc_get_size(pmd) > 0) {
        s->pad_floats = md_floats(pmd);
        r = dnnl_memory_create(&s->pad, pmd, engine, DNNL_MEMORY_NONE);
    }
    dnnl_primitive_desc_destroy(pd);
    return r;
}

/* a reorder step from → to (with a sum post-op when sum) */
static dnnl_status_t reorder_init(struct step *s, const dnnl_memory_desc_t *from,
                                  const dnnl_memory_desc_t *to, bool sum)
{
    dnnl_primitive_attr_t a = user_scratchpad_attr(sum);
    if (a == NULL)
        return dnnl_out_of_memory;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t r = dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, a);
    dnnl_primitive_attr_destroy(a);
    return r == dnnl_success ? step_init(s, pd) : r;
}

static void step_destroy(struct step *s)
{
    dnnl_primitive_destroy(s->prim);
    dnnl_memory_destroy(s->pad);
}

static void dir_destroy(struct dir *d)
{
    step_destroy(&d->conv);
    step_destroy(&d->in_reorder);
    step_destroy(&d->out_reorder);
    step_destroy(&d->out_sum);
    step_destroy(&d->w_reorder);
    dnnl_memory_t *m[] = { &d->in_plain, &d->in_blk, &d->out_plain, &d->out_blk,
                           &d->wts,      &d->wts_plain, &d->bias };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        dnnl_memory_destroy(*m[i]);
}

static void entry_free(struct mr_conv_dnnl *p)
{
    if (p == NULL)
        return;
    dir_destroy(&p->fwd);
    dir_destroy(&p->bwd);
    if (p->stream != NULL)
        dnnl_stream_destroy(p->stream);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/*
 * Fills direction d from its convolution primitive descriptor pd (consumed): the memory objects
 * of the plain and chosen layouts and the reorders between them. in/out name the conv's input
 * and output queries (src/dst forward, diff_dst/diff_src backward).
 */
static dnnl_status_t dir_init(struct dir *d, dnnl_primitive_desc_t pd, dnnl_query_t in_q,
                              dnnl_query_t out_q, const dnnl_memory_desc_t *in_plain,
                              const dnnl_memory_desc_t *out_plain,
                              const dnnl_memory_desc_t *w_plain,
                              const dnnl_memory_desc_t *bias_md, bool out_sum)
{
    const char *impl = "";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(d->impl, sizeof d->impl, "%s", impl);
    /* copies: the descriptors belong to pd, which step_init consumes */
    const dnnl_memory_desc_t in_md = *dnnl_primitive_desc_query_md(pd, in_q, 0);
    const dnnl_memory_desc_t out_md = *dnnl_primitive_desc_query_md(pd, out_q, 0);
    const dnnl_memory_desc_t w_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_status_t r = step_init(&d->conv, pd);
    if (r != dnnl_success)
        return r;
    const bool in_blocked = dnnl_memory_desc_equal(&in_md, in_plain) == 0;
    const bool out_blocked = dnnl_memory_desc_equal(&out_md, out_plain) == 0;
    d->in_floats = in_blocked ? md_floats(&in_md) : 0;
    d->out_floats = out_blocked || out_sum ? md_floats(&out_md) : 0;
    d->w_floats = md_floats(&w_md);
    if ((r = dnnl_memory_create(&d->in_plain, in_plain, engine, DNNL_MEMORY_NONE)) != 0 ||
        (r = dnnl_memory_create(&d->in_blk, &in_md, engine, DNNL_MEMORY_NONE)) != 0 ||
        (r = dnnl_memory_create(&d->out_plain, out_plain, engine, DNNL_MEMORY_NONE)) != 0 ||
        (r = dnnl_memory_create(&d->out_blk, &out_md, engine, DNNL_MEMORY_NONE)) != 0 ||
        (r = dnnl_memory_create(&d->wts, &w_md, engine, DNNL_MEMORY_NONE)) != 0 ||
        (r = dnnl_memory_create(&d->wts_plain, w_plain, engine, DNNL_MEMORY_NONE)) != 0 ||
        (bias_md != NULL &&
         (r = dnnl_memory_create(&d->bias, bias_md, engine, DNNL_MEMORY_NONE)) != 0) ||
        (in_blocked && (r = reorder_init(&d->in_reorder, in_plain, &in_md, false)) != 0) ||
        (out_blocked && (r = reorder_init(&d->out_reorder, &out_md, out_plain, false)) != 0) ||
        (out_sum && (r = reorder_init(&d->out_sum, &out_md, out_plain, true)) != 0))
        return r;
    return reorder_init(&d->w_reorder, w_plain, &w_md, false);
}

static mr_status entry_create(const int64_t key[KEY_LEN], struct mr_conv_dnnl **out)
{
    mr_status st = MR_OK;
    struct mr_conv_dnnl *p = calloc(1, sizeof *p);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fwd_pd = NULL;
    dnnl_primitive_desc_t hint_pd = NULL;
    dnnl_primitive_desc_t bwd_pd = NULL;
    if (p == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "cannot allocate a oneDNN conv");
    memcpy(p->key, key, sizeof p->key);
    pthread_mutex_init(&p->lock, NULL);
    const int64_t cin = key[0], cout = key[1], kh = key[2], kw = key[3];
    const int64_t h = key[12], w = key[13];
    const int64_t ho = (h + key[8] + key[9] - key[6] * (kh - 1) - 1) / key[4] + 1;
    const int64_t wo = (w + key[10] + key[11] - key[7] * (kw - 1) - 1) / key[5] + 1;
    const dnnl_dims_t src_dims = { 1, cin, h, w };
    const dnnl_dims_t dst_dims = { 1, cout, ho, wo };
    const dnnl_dims_t w_dims = { cout, cin, kh, kw };
    const dnnl_dims_t b_dims = { cout };
    const dnnl_dims_t strides = { key[4], key[5] };
    const dnnl_dims_t dilates = { key[6] - 1, key[7] - 1 }; /* oneDNN counts the gaps */
    const dnnl_dims_t pad_l = { key[8], key[10] };
    const dnnl_dims_t pad_r = { key[9], key[11] };
    const bool bias = key[14] != 0;
    dnnl_memory_desc_t src_plain, dst_plain, w_plain, b_md, src_any, dst_any, w_any;
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&src_plain, 4, src_dims, dnnl_f32, dnnl_nchw), "desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_plain, 4, dst_dims, dnnl_f32, dnnl_nchw), "desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&w_plain, 4, w_dims, dnnl_f32, dnnl_oihw), "desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dnnl_f32, dnnl_x), "desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any),
             "desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any),
             "desc");
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&w_any, 4, w_dims, dnnl_f32, dnnl_format_tag_any),
             "desc");
    attr = user_scratchpad_attr(false);
    if (attr == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "cannot allocate oneDNN attributes");
        goto out;
    }
    DNNL_TRY(dnnl_stream_create(&p->stream, engine, dnnl_stream_default_flags), "stream");

    dnnl_convolution_desc_t fd;
    DNNL_TRY(dnnl_dilated_convolution_forward_desc_init(
                 &fd, dnnl_forward_inference, dnnl_convolution_direct, &src_any, &w_any,
                 bias ? &b_md : NULL, &dst_any, strides, dilates, pad_l, pad_r),
             "forward descriptor");
    DNNL_TRY(dnnl_primitive_desc_create(&fwd_pd, &fd, attr, engine, NULL), "forward");
    const dnnl_status_t rf = dir_init(&p->fwd, fwd_pd, dnnl_query_src_md, dnnl_query_dst_md,
                                      &src_plain, &dst_plain, &w_plain, bias ? &b_md : NULL,
                                      false);
    fwd_pd = NULL;
    DNNL_TRY(rf, "forward primitive");

    /* the input-gradient (dilation 1 only, as mr_conv2d_input_grad) */
    if (key[6] == 1 && key[7] == 1) {
        dnnl_convolution_desc_t hd;
        dnnl_convolution_desc_t bd;
        DNNL_TRY(dnnl_convolution_forward_desc_init(&hd, dnnl_forward_training,
                                                    dnnl_convolution_direct, &src_any, &w_any,
                                                    NULL, &dst_any, strides, pad_l, pad_r),
                 "forward descriptor");
        DNNL_TRY(dnnl_primitive_desc_create(&hint_pd, &hd, NULL, engine, NULL), "forward");
        DNNL_TRY(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct,
                                                          &src_any, &w_any, &dst_any, strides,
                                                          pad_l, pad_r),
                 "backward-data descriptor");
        DNNL_TRY(dnnl_primitive_desc_create(&bwd_pd, &bd, attr, engine, hint_pd),
                 "backward data");
        const dnnl_status_t rb =
            dir_init(&p->bwd, bwd_pd, dnnl_query_diff_dst_md, dnnl_query_diff_src_md,
                     &dst_plain, &src_plain, &w_plain, NULL, true);
        bwd_pd = NULL;
        DNNL_TRY(rb, "backward-data primitive");
        p->has_grad = true;
    }
    *out = p;
    p = NULL;
out:
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_desc_destroy(hint_pd);
    dnnl_primitive_desc_destroy(bwd_pd);
    dnnl_primitive_attr_destroy(attr);
    entry_free(p);
    return st;
}

bool mr_conv_dnnl_supported(const struct mr_conv2d *c)
{
    return c->pad_mode == MR_PAD_MODE_ZERO;
}

bool mr_conv_dnnl_grad_supported(const struct mr_conv2d *c)
{
    return mr_conv_dnnl_supported(c) && c->dilation[0] == 1 && c->dilation[1] == 1;
}

mr_status mr_conv_dnnl_get(const struct mr_conv2d *c, int64_t h, int64_t w,
                           const struct mr_conv_dnnl **out)
{
    MR_ASSERT(mr_conv_dnnl_supported(c));
    pthread_once(&engine_once, engine_init);
    if (engine_status != dnnl_success)
        return MR_FAIL(MR_ERR_UNSUPPORTED, "oneDNN has no CPU engine (status %d)",
                       (int)engine_status);
    int64_t key[KEY_LEN];
    make_key(c, h, w, key);
    mr_status st = MR_OK;
    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < table_count; i++)
        if (memcmp(table[i]->key, key, sizeof key) == 0) {
            *out = table[i];
            goto out;
        }
    if (table_count == MR_CONV_DNNL_MAX) {
        st = MR_FAIL(MR_ERR_UNSUPPORTED, "more than %d oneDNN conv shapes", MR_CONV_DNNL_MAX);
        goto out;
    }
    struct mr_conv_dnnl *p = NULL;
    st = entry_create(key, &p);
    if (st == MR_OK) {
        table[table_count++] = p;
        *out = p;
    }
out:
    pthread_mutex_unlock(&table_lock);
    return st;
}

bool mr_conv_dnnl_matches(const struct mr_conv_dnnl *p, const struct mr_conv2d *c, int64_t h,
                          int64_t w)
{
    int64_t key[KEY_LEN];
    make_key(c, h, w, key);
    return memcmp(p->key, key, (KEY_LEN - 1) * sizeof key[0]) == 0;
}

bool mr_conv_dnnl_has_grad(const struct mr_conv_dnnl *p)
{
    return p->has_grad;
}

int64_t mr_conv_dnnl_weights_size(const struct mr_conv_dnnl *p, bool grad)
{
    MR_ASSERT(!grad || p->has_grad);
    return grad ? p->bwd.w_floats : p->fwd.w_floats;
}

/* runs the reorder step s from → to; the caller holds p->lock */
static void run_reorder(const struct mr_conv_dnnl *p, const struct step *s, dnnl_memory_t from,
                        dnnl_memory_t to, float *scratch)
{
    dnnl_exec_arg_t args[3] = { { DNNL_ARG_FROM, from }, { DNNL_ARG_TO, to },
                                { DNNL_ARG_SCRATCHPAD, s->pad } };
    if (s->pad != NULL)
        MR_ASSERT(dnnl_memory_set_data_handle(s->pad, scratch) == dnnl_success);
    MR_ASSERT(dnnl_primitive_execute(s->prim, p->stream, s->pad != NULL ? 3 : 2, args) ==
              dnnl_success);
}

static void set(dnnl_memory_t m, const void *ptr)
{
    MR_ASSERT(dnnl_memory_set_data_handle(m, (void *)ptr) == dnnl_success);
}

void mr_conv_dnnl_weights(const struct mr_conv_dnnl *p, bool grad, const float *w, float *dst)
{
    MR_ASSERT(!grad || p->has_grad);
    struct mr_conv_dnnl *q = (struct mr_conv_dnnl *)p; /* the lock and handles only */
    const struct dir *d = grad ? &p->bwd : &p->fwd;
    /* a weight reorder needing a scratchpad has not been seen (plain oihw to oneDNN's blocks) */
    MR_ASSERT(d->w_reorder.pad == NULL);
    pthread_mutex_lock(&q->lock);
    set(d->wts_plain, w);
    set(d->wts, dst);
    run_reorder(p, &d->w_reorder, d->wts_plain, d->wts, NULL);
    MR_ASSERT(dnnl_stream_wait(p->stream) == dnnl_success);
    pthread_mutex_unlock(&q->lock);
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* floats of scratchpad for the steps of d (they run one after another) */
static int64_t dir_pad_floats(const struct dir *d)
{
    return max64(max64(d->conv.pad_floats, d->in_reorder.pad_floats),
                 max64(d->out_reorder.pad_floats, d->out_sum.pad_floats));
}

int64_t mr_conv_dnnl_scratch_size(const struct mr_conv_dnnl *p, bool grad)
{
    const struct dir *d = grad ? &p->bwd : &p->fwd;
    MR_ASSERT(!grad || p->has_grad);
    return d->in_floats + d->out_floats + dir_pad_floats(d);
}

/* runs direction d: in (plain) → conv → out (plain, or added to it with sum) */
static void run_dir(const struct mr_conv_dnnl *p, struct dir *d, const float *wts,
                    const float *bias, float *out, const float *in, float *scratch,
                    int64_t nscratch, bool sum, bool grad)
{
    MR_ASSERT(nscratch >= d->in_floats + d->out_floats + dir_pad_floats(d));
    float *in_blk = scratch;
    float *out_blk = scratch + d->in_floats;
    float *pad = out_blk + d->out_floats;
    struct mr_conv_dnnl *q = (struct mr_conv_dnnl *)p; /* the lock and handles only */
    pthread_mutex_lock(&q->lock);
    set(d->in_plain, in);
    set(d->out_plain, out);
    set(d->wts, wts);
    dnnl_memory_t conv_in = d->in_plain;
    if (d->in_reorder.prim != NULL) {
        set(d->in_blk, in_blk);
        run_reorder(p, &d->in_reorder, d->in_plain, d->in_blk, pad);
        conv_in = d->in_blk;
    }
    const bool via_blk = d->out_reorder.prim != NULL || sum;
    if (via_blk)
        set(d->out_blk, out_blk);
    dnnl_exec_arg_t args[5] = {
        { grad ? DNNL_ARG_DIFF_DST : DNNL_ARG_SRC, conv_in },
        { DNNL_ARG_WEIGHTS, d->wts },
        { grad ? DNNL_ARG_DIFF_SRC : DNNL_ARG_DST, via_blk ? d->out_blk : d->out_plain },
    };
    int nargs = 3;
    if (d->conv.pad != NULL) {
        set(d->conv.pad, pad);
        args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, d->conv.pad };
    }
    if (bias != NULL) {
        set(d->bias, bias);
        args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_BIAS, d->bias };
    }
    MR_ASSERT(dnnl_primitive_execute(d->conv.prim, p->stream, nargs, args) == dnnl_success);
    if (sum)
        run_reorder(p, &d->out_sum, d->out_blk, d->out_plain, pad);
    else if (via_blk)
        run_reorder(p, &d->out_reorder, d->out_blk, d->out_plain, pad);
    MR_ASSERT(dnnl_stream_wait(p->stream) == dnnl_success);
    pthread_mutex_unlock(&q->lock);
}

void mr_conv_dnnl_forward(const struct mr_conv_dnnl *p, const float *wts, const float *bias,
                          float *y, const float *x, float *scratch, int64_t nscratch)
{
    MR_ASSERT((bias != NULL) == (p->key[14] != 0));
    struct mr_conv_dnnl *q = (struct mr_conv_dnnl *)p;
    run_dir(p, &q->fwd, wts, bias, y, x, scratch, nscratch, false, false);
}

void mr_conv_dnnl_input_grad(const struct mr_conv_dnnl *p, const float *wts, float *gin,
                             const float *gout, float *scratch, int64_t nscratch,
                             bool accumulate)
{
    MR_ASSERT(p->has_grad);
    struct mr_conv_dnnl *q = (struct mr_conv_dnnl *)p;
    run_dir(p, &q->bwd, wts, NULL, gin, gout, scratch, nscratch, accumulate, true);
}

const char *mr_conv_dnnl_impl(const struct mr_conv_dnnl *p, bool grad)
{
    return grad ? p->bwd.impl : p->fwd.impl;
}

bool mr_conv_dnnl_blocked(const struct mr_conv_dnnl *p, bool grad)
{
    const struct dir *d = grad ? &p->bwd : &p->fwd;
    return d->in_reorder.prim != NULL || d->out_reorder.prim != NULL;
}

static char version[32];

static void version_init(void)
{
    const dnnl_version_t *v = dnnl_version();
    snprintf(version, sizeof version, "%d.%d.%d", v->major, v->minor, v->patch);
}

const char *mr_conv_dnnl_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, version_init);
    return version;
}

#else /* built without oneDNN: no conv is supported, so nothing below is reached */

bool mr_conv_dnnl_supported(const struct mr_conv2d *c)
{
    (void)c;
    return false;
}

bool mr_conv_dnnl_grad_supported(const struct mr_conv2d *c)
{
    (void)c;
    return false;
}

mr_status mr_conv_dnnl_get(const struct mr_conv2d *c, int64_t h, int64_t w,
                           const struct mr_conv_dnnl **out)
{
    (void)c;
    (void)h;
    (void)w;
    (void)out;
    return MR_FAIL(MR_ERR_UNSUPPORTED, "built without oneDNN (CMake MR_DNNL)");
}

bool mr_conv_dnnl_matches(const struct mr_conv_dnnl *p, const struct mr_conv2d *c, int64_t h,
                          int64_t w)
{
    (void)p;
    (void)c;
    (void)h;
    (void)w;
    return false;
}

bool mr_conv_dnnl_has_grad(const struct mr_conv_dnnl *p)
{
    (void)p;
    return false;
}

int64_t mr_conv_dnnl_weights_size(const struct mr_conv_dnnl *p, bool grad)
{
    (void)p;
    (void)grad;
    MR_ASSERT(false);
    return 0;
}

void mr_conv_dnnl_weights(const struct mr_conv_dnnl *p, bool grad, const float *w, float *dst)
{
    (void)p;
    (void)grad;
    (void)w;
    (void)dst;
    MR_ASSERT(false);
}

int64_t mr_conv_dnnl_scratch_size(const struct mr_conv_dnnl *p, bool grad)
{
    (void)p;
    (void)grad;
    MR_ASSERT(false);
    return 0;
}

void mr_conv_dnnl_forward(const struct mr_conv_dnnl *p, const float *wts, const float *bias,
                          float *y, const float *x, float *scratch, int64_t nscratch)
{
    (void)p;
    (void)wts;
    (void)bias;
    (void)y;
    (void)x;
    (void)scratch;
    (void)nscratch;
    MR_ASSERT(false);
}

void mr_conv_dnnl_input_grad(const struct mr_conv_dnnl *p, const float *wts, float *gin,
                             const float *gout, float *scratch, int64_t nscratch,
                             bool accumulate)
{
    (void)p;
    (void)wts;
    (void)gin;
    (void)gout;
    (void)scratch;
    (void)nscratch;
    (void)accumulate;
    MR_ASSERT(false);
}

const char *mr_conv_dnnl_impl(const struct mr_conv_dnnl *p, bool grad)
{
    (void)p;
    (void)grad;
    return "none";
}

bool mr_conv_dnnl_blocked(const struct mr_conv_dnnl *p, bool grad)
{
    (void)p;
    (void)grad;
    return false;
}

const char *mr_conv_dnnl_version(void)
{
    return "none";
}

#endif
