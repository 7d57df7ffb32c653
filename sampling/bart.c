/*
 * BART 0.8.00 sampling patterns (../shared/specs/sampling.md §3), re-implemented so the masks
 * equal those of `bart poisson` and `bart upat`:
 *   poisson: variable-density Poisson-disc sampling by dart throwing from active points
 *            (Bridson 2007; multi-class variant: Wei, ACM TOG 29:79, 2010), as in BART's
 *            src/poisson.c and src/misc/pd.c (Uecker);
 *   upat:    a regular undersampling lattice plus a fully sampled centre box.
 * BART computes point coordinates and distances in binary32 and draws random numbers as
 * doubles from glibc rand_r(); the float/double mix below is BART's, because which candidate
 * points survive depends on it. BART finds neighbours with a background grid; checking all
 * points gives the same answers (a cell holds at most one point and the grid patch covers
 * the largest exclusion radius); we use our own grid that scans every cell within the
 * candidate's exclusion radius, which is again the same test as checking all points.
 */
#include "sampling/mask.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recon/array.h"

const struct mr_bart_poisson_config mr_bart_poisson_config_default = {
    .y = 128,
    .z = 128,
    .accel_y = 1.0f,
    .accel_z = 1.0f,
    .calib = 0,
    .vardens = 0.0f,
    .ellipse = false,
    .mindist = (float)(1.0 / 1.275), /* BART: float mindist = 1. / 1.275 */
    .seed = 11235,
};

#define BART_RAND_MAX 2147483647

/* glibc rand_r(): three steps of the ANSI C LCG, 11 + 10 + 10 bits */
static int rand_r_glibc(unsigned int *seed)
{
    unsigned int next = *seed;
    int result;

    next *= 1103515245u;
    next += 12345u;
    result = (int)((next / 65536u) % 2048u);
    next *= 1103515245u;
    next += 12345u;
    result <<= 10;
    result ^= (int)((next / 65536u) % 1024u);
    next *= 1103515245u;
    next += 12345u;
    result <<= 10;
    result ^= (int)((next / 65536u) % 1024u);
    *seed = next;
    return result;
}

static double uniform_rand(unsigned int *s)
{
    return (double)rand_r_glibc(s) / (double)BART_RAND_MAX;
}

static float dist2(const float a[2], const float b[2])
{
    float r = 0.0f;
    for (int i = 0; i < 2; i++)
        r += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrtf(r);
}

static float maxn2(const float a[2], const float b[2])
{
    float r = 0.0f;
    for (int i = 0; i < 2; i++)
        r = fmaxf(fabsf(a[i] - b[i]), r);
    return r;
}

/* 1 + |p - (1/2, 1/2)|^2 vard, computed as BART does (float distance, double sum) */
static float vard_scale(const float p[2], float vard)
{
    static const float cen[2] = { 0.5f, 0.5f };
    float d = dist2(cen, p);
    return (float)(1.0 + (double)(d * d * vard));
}

/* Neighbour grid: cells of side `cell` over [0, 1]^2, a linked list of points per cell. */
struct pd_grid {
    int n;        /* cells per axis */
    float cell;
    int *head;    /* n*n, -1 = empty */
    int *next;    /* per point */
};

static int grid_coord(const struct pd_grid *g, double v)
{
    int i = (int)floor(v / (double)g->cell);
    return i < 0 ? 0 : i >= g->n ? g->n - 1 : i;
}

static void grid_add(struct pd_grid *g, const float (*pts)[2], int p)
{
    int c = grid_coord(g, (double)pts[p][0]) * g->n + grid_coord(g, (double)pts[p][1]);
    g->next[p] = g->head[c];
    g->head[c] = p;
}

/* BART's acceptance test: every placed point q must satisfy |c - q| > lim. Only points within
 * lim of c can fail it; they all lie in the cells scanned here (one cell of margin). */
static bool grid_accept(const struct pd_grid *g, const float (*pts)[2], const float c[2],
                        float lim)
{
    int y0 = grid_coord(g, (double)c[0] - (double)lim) - 1;
    int y1 = grid_coord(g, (double)c[0] + (double)lim) + 1;
    int z0 = grid_coord(g, (double)c[1] - (double)lim) - 1;
    int z1 = grid_coord(g, (double)c[1] + (double)lim) + 1;
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < g->n; y++)
        for (int z = z0 < 0 ? 0 : z0; z <= z1 && z < g->n; z++)
            for (int q = g->head[y * g->n + z]; q >= 0; q = g->next[q])
                if (!(dist2(c, pts[q]) > lim))
                    return false;
    return true;
}

/* Fenwick tree over the active flags: BART picks "the sel-th active point in index order" by
 * a linear scan; the same point is found here in O(log n). */
struct active_set {
    int n;
    int top;   /* largest power of two <= n */
    int *tree; /* 1-based partial sums */
};

static void active_set_add(struct active_set *a, int i, int delta)
{
    for (int k = i + 1; k <= a->n; k += k & -k)
        a->tree[k] += delta;
}

/* index of the (sel+1)-th active point (sel counts from 0) */
static int active_set_find(const struct active_set *a, int sel)
{
    int pos = 0;
    int rem = sel + 1;
    for (int step = a->top; step > 0; step >>= 1)
        if (pos + step <= a->n && a->tree[pos + step] < rem) {
            pos += step;
            rem -= a->tree[pos];
        }
    return pos; /* 0-based index = (1-based pos + 1) - 1 */
}

/* poissondisc(): returns the number of points placed, == cap if the capacity was hit */
static int poisson_disc(float (*pts)[2], struct active_set *act, int cap, float vard,
                        float delta, struct pd_grid *g, unsigned int *seed)
{
    int p = 1;
    int a = 1;

    act->n = cap;
    for (act->top = 1; act->top * 2 <= cap; act->top *= 2)
        ;
    memset(act->tree, 0, sizeof(int) * ((size_t)cap + 1));
    active_set_add(act, 0, 1);
    for (int i = 0; i < g->n * g->n; i++)
        g->head[i] = -1;
    grid_add(g, (const float (*)[2])pts, 0);
    while (a > 0) {
        int sel = (int)floor((double)a * uniform_rand(seed)) % a;
        int s = active_set_find(act, sel);
        bool found = false;
        for (int k = 0; k < 30; k++) {
            float d;
            float dd;
            do {
                dd = delta * vard_scale(pts[s], vard);
                for (int j = 0; j < 2; j++) {
                    do
                        pts[p][j] = (float)((double)pts[s][j] +
                                            (uniform_rand(seed) - 0.5) * 4.0 * (double)dd);
                    while (pts[p][j] < 0.0f || pts[p][j] > 1.0f);
                }
                d = dist2(pts[s], pts[p]);
            } while ((double)d < (double)dd || (double)d > 2.0 * (double)dd);

            float lim = vard_scale(pts[p], vard) * delta;
            if (grid_accept(g, (const float (*)[2])pts, pts[p], lim)) {
                grid_add(g, (const float (*)[2])pts, p);
                active_set_add(act, p, 1);
                a++;
                p++;
                if (p == cap)
                    return p;
                found = true;
                break;
            }
        }
        if (!found) {
            active_set_add(act, s, -1);
            a--;
        }
    }
    return p;
}

mr_status mr_mask_bart_poisson(float *mask, const struct mr_bart_poisson_config *cfg,
                               int64_t *points)
{
    const int yy = cfg->y;
    const int zz = cfg->z;

    if (yy < 1 || zz < 1 || yy > 4096 || zz > 4096 || !(cfg->accel_y >= 1.0f) ||
        !(cfg->accel_z >= 1.0f) || cfg->calib < 0 || cfg->calib > yy || cfg->calib > zz ||
        !(cfg->vardens >= 0.0f) || !(cfg->mindist >= 0.05f) || !(cfg->mindist <= 10.0f))
        return MR_FAIL(MR_ERR_ARG, "bart poisson: -Y %d -Z %d -y %g -z %g -C %d -V %g -D %g is "
                       "invalid (sizes 1..4096, accelerations >= 1, 0 <= C <= min(Y, Z), "
                       "V >= 0, 0.05 <= D <= 10)", yy, zz, (double)cfg->accel_y,
                       (double)cfg->accel_z, cfg->calib, (double)cfg->vardens,
                       (double)cfg->mindist);
    /* the largest disc radius must leave room for candidates inside the unit square, or the
     * dart throwing never ends (BART loops forever there) */
    if ((double)cfg->mindist / (double)(yy > zz ? yy : zz) * (1.0 + 0.5 * (double)cfg->vardens) >
        0.25)
        return MR_FAIL(MR_ERR_ARG, "bart poisson: variable density %g is too strong for a "
                       "%dx%d grid", (double)cfg->vardens, yy, zz);

    unsigned int seed = cfg->seed;
    float kspext = (float)(yy > zz ? yy : zz);
    int cap = (int)(1.2 * (double)(kspext * kspext) / (double)(cfg->accel_y * cfg->accel_z));
    float mindist = cfg->mindist / kspext;
    float yscale = cfg->accel_y * (kspext / (float)yy);
    float zscale = cfg->accel_z * (kspext / (float)zz);
    int np = 0;

    memset(mask, 0, sizeof(float) * (size_t)yy * (size_t)zz);
    if (cap < 2)
        cap = 2;
    struct pd_grid grid = { .cell = mindist, .head = NULL, .next = NULL };
    grid.n = (int)ceilf(1.0f / mindist) + 1;
    grid.head = malloc(sizeof(int) * (size_t)grid.n * (size_t)grid.n);
    if (grid.head == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "bart poisson: neighbour grid of %d^2 cells", grid.n);
    for (;;) {
        float (*pts)[2] = malloc(sizeof(*pts) * (size_t)cap);
        struct active_set active = { .tree = malloc(sizeof(int) * ((size_t)cap + 1)) };
        grid.next = malloc(sizeof(int) * (size_t)cap);
        if (pts == NULL || active.tree == NULL || grid.next == NULL) {
            free(pts);
            free(active.tree);
            free(grid.next);
            free(grid.head);
            return MR_FAIL(MR_ERR_NOMEM, "bart poisson: %d points", cap);
        }
        pts[0][0] = 0.5f;
        pts[0][1] = 0.5f;
        int p = poisson_disc(pts, &active, cap, cfg->vardens, mindist, &grid, &seed);
        free(grid.next);
        grid.next = NULL;
        free(active.tree);
        if (p < cap) {
            static const float center[2] = { 0.5f, 0.5f };
            int j = 0;
            for (int i = 0; i < p; i++) {
                pts[i][0] = (float)(((double)pts[i][0] - 0.5) * (double)yscale + 0.5);
                pts[i][1] = (float)(((double)pts[i][1] - 0.5) * (double)zscale + 0.5);
                float e = cfg->ellipse ? dist2(center, pts[i]) : maxn2(center, pts[i]);
                if (e <= 0.5f) {
                    pts[j][0] = pts[i][0];
                    pts[j][1] = pts[i][1];
                    j++;
                }
            }
            np = j;
            for (int i = 0; i < np; i++) {
                int iy = (int)floorf(pts[i][0] * (float)yy);
                int iz = (int)floorf(pts[i][1] * (float)zz);
                if (iy < 0 || iy >= yy || iz < 0 || iz >= zz)
                    continue;
                mask[(int64_t)iz * yy + iy] = 1.0f;
            }
            free(pts);
            break;
        }
        /* capacity hit: BART doubles it and starts again on the same random stream */
        free(pts);
        if (cap > (1 << 29)) {
            free(grid.head);
            return MR_FAIL(MR_ERR_ARG, "bart poisson: too many points for %dx%d", yy, zz);
        }
        cap *= 2;
    }

    free(grid.head);

    /* calibration box from (Y/2 - C/2, Z/2 - C/2) (0.8.00; later versions use (Y - C)/2),
     * counted like BART counts it (newly set samples only) */
    for (int i = 0; i < cfg->calib; i++)
        for (int j = 0; j < cfg->calib; j++) {
            int y = yy / 2 - cfg->calib / 2 + i;
            int z = zz / 2 - cfg->calib / 2 + j;
            if (mask[(int64_t)z * yy + y] == 0.0f) {
                mask[(int64_t)z * yy + y] = 1.0f;
                np++;
            }
        }
    if (points != NULL)
        *points = np;
    return MR_OK;
}

mr_status mr_mask_bart_upat(float *mask, int y, int z, int uy, int uz, int cen)
{
    if (y < 1 || z < 1 || uy < 1 || uz < 1 || cen < 0)
        return MR_FAIL(MR_ERR_ARG, "bart upat: -Y %d -Z %d -y %d -z %d -c %d is invalid", y, z,
                       uy, uz, cen);
    for (int iz = 0; iz < z; iz++)
        for (int iy = 0; iy < y; iy++) {
            bool lattice = iy % uy == 0 && iz % uz == 0;
            bool centre = abs(2 * iy - y) < 2 * cen && abs(2 * iz - z) < 2 * cen;
            mask[(int64_t)iz * y + iy] = lattice || centre ? 1.0f : 0.0f;
        }
    return MR_OK;
}
