/* PnP solvers (recon/pnp.h) on a small odd-sized SENSE problem with an analytic prior,
 * R(u) = μ/2 ‖u‖² (prox_{λR}(v) = v / (1 + λμ)), whose minimiser is known in closed form
 * through the normal equations (solved here by CG to high accuracy): PGD and ADMM converge to
 * it, their first iterations follow the written-out updates (ADMM order "132"), the stopping
 * rule, warm starts and argument errors. */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <string.h>

#include "recon/cg.h"
#include "recon/pnp.h"
#include "recon/sense.h"
#include "recon/vec.h"

#define NC 3
#define H 9
#define W 12
#define MU 0.3f

struct problem {
    struct mr_sense *s;
    struct mr_linop *A;
    struct mr_array y;
    struct mr_pnp *pnp;
};

/* ---- the Tikhonov prior ---------------------------------------------------------------- */

struct tik {
    float mu;
    int calls;
    float last_lambda;
};

static void tik_prox(void *ctx, float lambda, struct mr_array *dst, const struct mr_array *src)
{
    struct tik *t = ctx;
    t->calls++;
    t->last_lambda = lambda;
    mr_array_copy(dst, src);
    mr_vec_scale(dst, 1.0f / (1.0f + lambda * t->mu));
}

static const struct mr_prior_ops tik_ops = { .name = "tikhonov", .prox = tik_prox, .free = NULL };

/* ---- setup ------------------------------------------------------------------------------- */

static void problem_init(struct problem *p)
{
    struct mr_array sens;
    struct mr_array mask;
    struct mr_array x;
    struct mr_test_rng rng;

    assert_int_equal(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H,
                                        (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W), MR_OK);
    mr_test_rand(&sens, 1);
    float complex *s = mr_array_cf32(&sens);
    for (int64_t i = 0; i < H * W; i++) { /* Σ_c |S_c|² = 1 */
        double n2 = 0.0;
        for (int c = 0; c < NC; c++)
            n2 += (double)(crealf(s[c * H * W + i]) * crealf(s[c * H * W + i]) +
                           cimagf(s[c * H * W + i]) * cimagf(s[c * H * W + i]));
        for (int c = 0; c < NC; c++)
            s[c * H * W + i] /= (float)sqrt(n2);
    }
    mr_test_rng_seed(&rng, 2);
    for (int64_t j = 0; j < W; j++) { /* random columns, centre always */
        bool on = j == W / 2 || mr_test_rng_uniform(&rng) < 0.5;
        for (int64_t i = 0; i < H; i++)
            mr_array_f32(&mask)[i * W + j] = on ? 1.0f : 0.0f;
    }
    assert_int_equal(mr_sense_create(NC, H, W, &mr_fft_config_default, &p->s), MR_OK);
    assert_int_equal(mr_sense_set_maps(p->s, &sens), MR_OK);
    assert_int_equal(mr_sense_set_mask(p->s, &mask), MR_OK);
    assert_int_equal(mr_sense_linop_create(p->s, &p->A), MR_OK);
    assert_int_equal(mr_array_init_dims(&p->y, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H,
                                        (int64_t)W), MR_OK);
    mr_test_rand(&x, 3);
    mr_linop_forward(p->A, &p->y, &x);
    assert_int_equal(mr_pnp_create(p->A, &p->pnp), MR_OK);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&x);
}

static void problem_cleanup(struct problem *p)
{
    mr_pnp_free(p->pnp);
    mr_linop_free(p->A);
    mr_sense_free(p->s);
    mr_array_cleanup(&p->y);
}

/* x* = argmin ½‖Ax − y‖² + (τ/2)‖x‖², i.e. (AᴴA + τI) x = Aᴴy, by CG to convergence */
static void exact_solution(const struct problem *p, float tau, struct mr_array *xs)
{
    struct mr_array b;
    struct mr_cg *cg = NULL;
    struct mr_cg_config cfg = mr_cg_config_default;
    cfg.iters = 500;
    cfg.lambda = tau;
    cfg.tol = 1e-7f;
    assert_int_equal(mr_array_init_dims(&b, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W), MR_OK);
    assert_int_equal(mr_cg_create(2, (const int64_t[]){ H, W }, &cg), MR_OK);
    mr_linop_adjoint(p->A, &b, &p->y);
    mr_array_zero(xs);
    assert_int_equal(mr_cg_solve(cg, &cfg, p->A, &b, xs, NULL), MR_OK);
    mr_cg_free(cg);
    mr_array_cleanup(&b);
}

/* The test problem with the Tikhonov prior, a default configuration and two (H, W) images:
 * x (the solver's) and xs (a reference). prior points into the fixture: not copied. */
struct fixture {
    struct problem p;
    struct tik t;
    struct mr_prior prior;
    struct mr_pnp_config cfg;
    struct mr_pnp_info info;
    struct mr_array x;
    struct mr_array xs;
};

static void fixture_init(struct fixture *f)
{
    f->t = (struct tik){ .mu = MU };
    f->prior = (struct mr_prior){ &tik_ops, &f->t };
    f->cfg = mr_pnp_config_default;
    problem_init(&f->p);
    assert_int_equal(mr_array_init_dims(&f->x, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_like(&f->xs, &f->x), MR_OK);
}

static void fixture_cleanup(struct fixture *f)
{
    mr_array_cleanup(&f->x);
    mr_array_cleanup(&f->xs);
    problem_cleanup(&f->p);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_pgd_converges_to_regularised_least_squares(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.cfg.iters = 2000;
    f.cfg.step = 0.9f;
    f.cfg.lambda = 0.5f;
    f.cfg.tol = 1e-7f;
    /* fixed point: ½‖Ax − y‖² + λ μ/2 ‖x‖² */
    assert_int_equal(mr_pnp_pgd(f.p.pnp, &f.cfg, f.p.A, &f.prior, &f.p.y, &f.x, &f.info, NULL),
                     MR_OK);
    assert_true(f.info.converged);
    assert_true(f.info.iters < f.cfg.iters);
    assert_int_equal(f.t.calls, f.info.iters);
    assert_true(fabsf(f.t.last_lambda - f.cfg.lambda * f.cfg.step) < 1e-7f);
    exact_solution(&f.p, f.cfg.lambda * MU, &f.xs);
    assert_nrmse_below(&f.x, &f.xs, 1e-5);
    fixture_cleanup(&f);
}

static void test_admm_converges_to_regularised_least_squares(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.cfg.iters = 500;
    f.cfg.rho = 0.5f;
    f.cfg.scale = 2.0f;
    f.cfg.lambda = 0.8f;
    f.cfg.cg_tol = 1e-7f;
    f.cfg.cg_iters = 100;
    f.cfg.tol = 1e-7f;
    /* minimises s‖y − Ax‖² + λ μ/2 ‖x‖²  ⇔  (AᴴA + λμ/(2s)) x = Aᴴy */
    assert_int_equal(mr_pnp_admm(f.p.pnp, &f.cfg, f.p.A, &f.prior, &f.p.y, &f.x, &f.info, NULL),
                     MR_OK);
    assert_true(f.info.converged);
    assert_true(fabsf(f.t.last_lambda - f.cfg.lambda / f.cfg.rho) < 1e-7f);
    exact_solution(&f.p, f.cfg.lambda * MU / (2.0f * f.cfg.scale), &f.xs);
    assert_nrmse_below(&f.x, &f.xs, 1e-4);
    fixture_cleanup(&f);
}

/* the first iterations written out by hand */
struct record {
    const struct problem *p;
    const struct mr_pnp_config *cfg;
    bool admm;
    int seen;
    double err;
    struct mr_array x0;
    struct mr_array z1;
};

/* the probes "x_00", "z_01", "x_01", ...: checks x₀ and the first iteration */
static void record_probe(void *arg, const char *name, int64_t index, const struct mr_array *a)
{
    struct record *r = arg;
    const struct problem *p = r->p;
    const struct mr_array *x = a;
    const struct mr_array *z = &r->z1;
    struct mr_array e;
    struct mr_array g;
    struct mr_array res;

    assert_int_equal(index, -1);
    if (strcmp(name, "z_01") == 0)
        mr_array_copy(&r->z1, a);
    if (name[0] != 'x')
        return;
    r->seen++;
    if (strcmp(name, "x_00") == 0) {
        mr_array_copy(&r->x0, x);
        /* x₀ = Aᴴy */
        assert_int_equal(mr_array_init_like(&e, x), MR_OK);
        mr_linop_adjoint(p->A, &e, &p->y);
        r->err = fmax(r->err, mr_test_nrmse(x, &e));
        mr_array_cleanup(&e);
        return;
    }
    if (strcmp(name, "x_01") != 0)
        return;
    assert_int_equal(mr_array_init_like(&e, x), MR_OK);
    assert_int_equal(mr_array_init_like(&g, x), MR_OK);
    assert_int_equal(mr_array_init_like(&res, &p->y), MR_OK);
    if (!r->admm) {
        /* z₁ = x₀ − η Aᴴ(A x₀ − y), x₁ = z₁ / (1 + λημ) */
        mr_linop_forward(p->A, &res, &r->x0);
        mr_vec_axpy(&res, -1.0f, &p->y);
        mr_linop_adjoint(p->A, &g, &res);
        mr_array_copy(&e, &r->x0);
        mr_vec_axpy(&e, -r->cfg->step, &g);
        r->err = fmax(r->err, mr_test_nrmse(z, &e));
        mr_vec_scale(&e, 1.0f / (1.0f + r->cfg->lambda * r->cfg->step * MU));
        r->err = fmax(r->err, mr_test_nrmse(x, &e));
    } else {
        /* u₁ = x₁ − z₀ (u₀ = 0, z₀ = x₀); z₁ = prox(x₁ + u₁) = (2x₁ − x₀) / (1 + (λ/ρ)μ) */
        mr_array_copy(&e, x);
        mr_vec_scale(&e, 2.0f);
        mr_vec_axpy(&e, -1.0f, &r->x0);
        mr_vec_scale(&e, 1.0f / (1.0f + r->cfg->lambda / r->cfg->rho * MU));
        r->err = fmax(r->err, mr_test_nrmse(z, &e));
        /* x₁ solves (AᴴA + μ'I) x = Aᴴy + μ' x₀ with μ' = ρ/(2s): check the residual */
        const float m = r->cfg->rho / (2.0f * r->cfg->scale);
        mr_linop_adjoint(p->A, &g, &p->y);
        mr_vec_axpy(&g, m, &r->x0);
        mr_linop_normal(p->A, &e, x);
        mr_vec_axpy(&e, m, x);
        r->err = fmax(r->err, mr_test_nrmse(&e, &g));
    }
    mr_array_cleanup(&e);
    mr_array_cleanup(&g);
    mr_array_cleanup(&res);
}

static void check_first_iteration(bool admm)
{
    struct problem p;
    struct tik t = { .mu = MU };
    struct mr_prior prior = { &tik_ops, &t };
    struct mr_pnp_config cfg = mr_pnp_config_default;
    struct record rec = { 0 };
    const struct mr_probe probe = { .fn = record_probe, .ctx = &rec };
    struct mr_array x;

    problem_init(&p);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_like(&rec.x0, &x), MR_OK);
    assert_int_equal(mr_array_init_like(&rec.z1, &x), MR_OK);
    rec.p = &p;
    rec.cfg = &cfg;
    rec.admm = admm;
    cfg.iters = 3;
    cfg.step = 1.0f;
    cfg.lambda = 0.7f;
    cfg.rho = 0.2f;
    cfg.scale = 1.0f;
    cfg.cg_iters = 200;
    cfg.cg_tol = 1e-7f;
    mr_array_cf32(&x)[0] = 99.0f; /* ignored without warm_start */
    if (admm)
        assert_int_equal(mr_pnp_admm(p.pnp, &cfg, p.A, &prior, &p.y, &x, NULL, &probe), MR_OK);
    else
        assert_int_equal(mr_pnp_pgd(p.pnp, &cfg, p.A, &prior, &p.y, &x, NULL, &probe), MR_OK);
    assert_int_equal(rec.seen, 4);
    mr_test_assert_below("first iteration", rec.err, admm ? 1e-5 : 1e-6, __FILE__, __LINE__);

    mr_array_cleanup(&rec.x0);
    mr_array_cleanup(&rec.z1);
    mr_array_cleanup(&x);
    problem_cleanup(&p);
}

static void test_pgd_first_iteration(void **state)
{
    (void)state;
    check_first_iteration(false);
}

static void test_admm_first_iteration_order_132(void **state)
{
    (void)state;
    check_first_iteration(true);
}

static void test_warm_start_and_zero_iterations(void **state)
{
    (void)state;
    struct fixture f;
    struct mr_array aty;
    fixture_init(&f);
    struct mr_array *x = &f.x;
    struct mr_array *x0 = &f.xs; /* the warm start */
    struct mr_pnp_config *cfg = &f.cfg;
    assert_int_equal(mr_array_init_like(&aty, x), MR_OK);
    mr_linop_adjoint(f.p.A, &aty, &f.p.y);
    mr_test_rand(x0, 9);
    cfg->iters = 0;
    mr_array_copy(x, x0);
    assert_int_equal(mr_pnp_pgd(f.p.pnp, cfg, f.p.A, &f.prior, &f.p.y, x, NULL, NULL), MR_OK);
    assert_true(mr_test_nrmse(x, &aty) == 0.0);
    cfg->warm_start = true;
    mr_array_copy(x, x0);
    assert_int_equal(mr_pnp_pgd(f.p.pnp, cfg, f.p.A, &f.prior, &f.p.y, x, NULL, NULL), MR_OK);
    assert_true(mr_test_nrmse(x, x0) == 0.0);
    assert_int_equal(mr_pnp_admm(f.p.pnp, cfg, f.p.A, &f.prior, &f.p.y, x, NULL, NULL), MR_OK);
    assert_true(mr_test_nrmse(x, x0) == 0.0);
    assert_int_equal(f.t.calls, 0);
    mr_array_cleanup(&aty);
    fixture_cleanup(&f);
}

static void test_argument_errors(void **state)
{
    (void)state;
    struct problem p;
    struct tik t = { .mu = MU };
    struct mr_prior prior = { &tik_ops, &t };
    struct mr_prior none = { 0 };
    struct mr_pnp_config cfg = mr_pnp_config_default;
    struct mr_array x;
    struct mr_array small;

    problem_init(&p);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_dims(&small, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)(W - 1)),
                     MR_OK);
    cfg.iters = -1;
    assert_int_equal(mr_pnp_pgd(p.pnp, &cfg, p.A, &prior, &p.y, &x, NULL, NULL), MR_ERR_ARG);
    assert_int_equal(mr_pnp_admm(p.pnp, &cfg, p.A, &prior, &p.y, &x, NULL, NULL), MR_ERR_ARG);
    cfg = mr_pnp_config_default;
    cfg.step = 0.0f;
    assert_int_equal(mr_pnp_pgd(p.pnp, &cfg, p.A, &prior, &p.y, &x, NULL, NULL), MR_ERR_ARG);
    cfg = mr_pnp_config_default;
    cfg.rho = 0.0f;
    assert_int_equal(mr_pnp_admm(p.pnp, &cfg, p.A, &prior, &p.y, &x, NULL, NULL), MR_ERR_ARG);
    cfg = mr_pnp_config_default;
    assert_int_equal(mr_pnp_pgd(p.pnp, &cfg, p.A, &none, &p.y, &x, NULL, NULL), MR_ERR_ARG);
    assert_int_equal(mr_pnp_pgd(p.pnp, &cfg, p.A, &prior, &p.y, &small, NULL, NULL), MR_ERR_ARG);
    /* a step far beyond 2/‖A‖² with no damping diverges to non-finite values */
    struct tik ident = { .mu = 0.0f };
    struct mr_prior id = { &tik_ops, &ident };
    cfg.step = 1e6f;
    cfg.iters = 200;
    assert_int_equal(mr_pnp_pgd(p.pnp, &cfg, p.A, &id, &p.y, &x, NULL, NULL), MR_ERR_DATA);
    assert_int_equal(t.calls, 0);

    mr_array_cleanup(&x);
    mr_array_cleanup(&small);
    problem_cleanup(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pgd_converges_to_regularised_least_squares),
        cmocka_unit_test(test_admm_converges_to_regularised_least_squares),
        cmocka_unit_test(test_pgd_first_iteration),
        cmocka_unit_test(test_admm_first_iteration_order_132),
        cmocka_unit_test(test_warm_start_and_zero_iterations),
        cmocka_unit_test(test_argument_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
