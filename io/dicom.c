/*
 * DICOM MR Image Storage instances (io/dicom.h): series defaults and UIDs, the 16-bit intensity
 * scaling, image geometry, and one file = one data set handed to DCMTK (io/dicom_dcmtk.h)
 * through an atomic temporary file; the peer spec and C-STORE. Attribute choices follow PS3.3
 * A.4 (MR Image IOD) and C.7/C.8.3 (modules), value representations PS3.5 6.2.
 */
#include "io/dicom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "io/dicom_dcmtk.h"

#define MR_DICOM_MAX_SIDE 65535
#define MR_DICOM_MAX_IS 2147483647LL /* IS: a signed 32-bit integer */

void mr_dicom_series_init(struct mr_dicom_series *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->patient_name, sizeof(s->patient_name), MR_DICOM_DEFAULT_PATIENT_NAME);
    snprintf(s->patient_id, sizeof(s->patient_id), MR_DICOM_DEFAULT_PATIENT_ID);
    snprintf(s->series_description, sizeof(s->series_description), "mrirecon");
    s->series_number = 1;
    s->patient_weight_kg = (double)NAN;
    s->field_strength_t = (double)NAN;
    s->imaging_frequency_mhz = (double)NAN;
    s->tr_ms = (double)NAN;
    s->te_ms = (double)NAN;
    s->ti_ms = (double)NAN;
    s->flip_angle_deg = (double)NAN;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void mr_dicom_set_text(char *dst, size_t cap, const char *src)
{
    while (is_blank(*src))
        src++;
    size_t n = strlen(src);
    while (n > 0 && is_blank(src[n - 1]))
        n--;
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0u) == 0x80u) /* inside a character */
            n--;
    }
    memmove(dst, src, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)dst[i];
        dst[i] = c == '\\' ? '/' : (c < 0x20u || c == 0x7Fu) ? ' ' : dst[i];
    }
    dst[n] = '\0';
}

mr_status mr_dicom_series_uids(struct mr_dicom_series *s, const char *seed)
{
    char *const uids[3] = { s->study_uid, s->frame_uid, s->series_uid };
    static const char *const names[3] = { "study", "frame of reference", "series" };
    for (int i = 0; i < 3; i++)
        if (uids[i][0] != '\0' && !mr_dicom_uid_valid(uids[i]))
            return MR_FAIL(MR_ERR_ARG, "DICOM %s UID '%s' is not a valid UID", names[i],
                           uids[i]);
    if (seed == NULL) {
        if (s->study_uid[0] == '\0')
            mr_dcmtk_unique_uid(MR_DCMTK_UID_STUDY, s->study_uid);
        if (s->frame_uid[0] == '\0')
            mr_dcmtk_unique_uid(MR_DCMTK_UID_INSTANCE, s->frame_uid);
        if (s->series_uid[0] == '\0')
            mr_dcmtk_unique_uid(MR_DCMTK_UID_SERIES, s->series_uid);
        s->reproducible = false;
        return MR_OK;
    }
    size_t n = strlen(seed) + sizeof(s->series_description) + 64;
    char *name = malloc(n);
    if (name == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "DICOM UID name");
    if (s->study_uid[0] == '\0') {
        snprintf(name, n, "mrirecon:study:%s", seed);
        mr_dicom_uid_from_name(name, s->study_uid);
    }
    if (s->frame_uid[0] == '\0') {
        snprintf(name, n, "mrirecon:frame:%s", seed);
        mr_dicom_uid_from_name(name, s->frame_uid);
    }
    if (s->series_uid[0] == '\0') {
        snprintf(name, n, "mrirecon:series:%s:%lld:%s", seed, (long long)s->series_number,
                 s->series_description);
        mr_dicom_uid_from_name(name, s->series_uid);
    }
    free(name);
    s->reproducible = true;
    return MR_OK;
}

/* x rounded to 10 significant digits, as "%.10g" writes it into a decimal string (DS), and
 * moved by whole units of the last digit until it is not above (dir < 0) / below (dir > 0) x */
static double round10(double x, int dir)
{
    char b[32];
    snprintf(b, sizeof(b), "%.10g", x);
    double r = strtod(b, NULL);
    while ((dir < 0 && r > x) || (dir > 0 && r < x)) {
        /* |r| * 1e-9 is one to ten units of the tenth significant digit */
        snprintf(b, sizeof(b), "%.10g", r + (double)dir * fabs(r) * 1e-9);
        r = strtod(b, NULL);
    }
    return r;
}

void mr_dicom_scale_range(double lo, double hi, struct mr_dicom_scale *out)
{
    MR_ASSERT(isfinite(lo) && isfinite(hi));
    lo = lo < 0.0 ? lo : 0.0;
    hi = hi > 0.0 ? hi : 0.0;
    /* b <= lo and b + 65535 slope >= hi, so every value lands inside 0..65535 */
    const double b = round10(lo, -1);
    double slope = hi > b ? round10((hi - b) / 65535.0, 1) : 1.0;
    while (b + 65535.0 * slope < hi)
        slope = round10(slope + slope * 1e-9, 1);
    out->intercept = b;
    out->slope = slope;
}

mr_status mr_dicom_scale_fit(const float *v, size_t n, struct mr_dicom_scale *out)
{
    if (n == 0)
        return MR_FAIL(MR_ERR_ARG, "DICOM intensity scaling of no values");
    double lo = 0.0;
    double hi = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return MR_FAIL(MR_ERR_DATA, "image value %zu is %s: nothing is written", i,
                           isnan(v[i]) ? "NaN" : "infinite");
        lo = (double)v[i] < lo ? (double)v[i] : lo;
        hi = (double)v[i] > hi ? (double)v[i] : hi;
    }
    mr_dicom_scale_range(lo, hi, out);
    return MR_OK;
}

void mr_dicom_image_place(struct mr_dicom_image *im, const double centre[3],
                          const double row_dir[3], const double col_dir[3])
{
    const double cx = (double)(im->cols / 2) * im->pixel_spacing[1];
    const double cy = (double)(im->rows / 2) * im->pixel_spacing[0];
    for (int i = 0; i < 3; i++) {
        im->row_dir[i] = row_dir[i];
        im->col_dir[i] = col_dir[i];
        im->position[i] = centre[i] - cx * row_dir[i] - cy * col_dir[i];
    }
}

static double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* unit and orthogonal within 1e-3 */
static bool directions_ok(const double r[3], const double c[3])
{
    return fabs(sqrt(dot3(r, r)) - 1.0) < 1e-3 && fabs(sqrt(dot3(c, c)) - 1.0) < 1e-3 &&
           fabs(dot3(r, c)) < 1e-3;
}

mr_status mr_dicom_image_from_ismrmrd(const ISMRMRD_Image *im, struct mr_dicom_image *out)
{
    static const double axial_row[3] = { 1.0, 0.0, 0.0 };
    static const double axial_col[3] = { 0.0, 1.0, 0.0 };
    const ISMRMRD_ImageHeader *h = &im->head;
    struct mr_dicom_image d;
    double centre[3];
    double rd[3];
    double pd[3];

    memset(&d, 0, sizeof(d));
    if (h->data_type != ISMRMRD_FLOAT || h->channels != 1 || h->matrix_size[2] != 1)
        return MR_FAIL(MR_ERR_ARG, "image %u: DICOM takes one channel of 2-D float magnitude "
                       "(data type %u, %u channels, matrix z %u)", h->image_index,
                       h->data_type, h->channels, h->matrix_size[2]);
    d.cols = h->matrix_size[0];
    d.rows = h->matrix_size[1];
    if (d.rows < 1 || d.cols < 1 || d.rows > MR_DICOM_MAX_SIDE || d.cols > MR_DICOM_MAX_SIDE)
        return MR_FAIL(MR_ERR_ARG, "image %u of %lld x %lld: DICOM sides are 1..%d",
                       h->image_index, (long long)d.cols, (long long)d.rows, MR_DICOM_MAX_SIDE);
    for (int i = 0; i < 3; i++)
        if (!(isfinite(h->field_of_view[i]) && h->field_of_view[i] > 0.0f))
            return MR_FAIL(MR_ERR_ARG, "image %u: field of view %g x %g x %g mm is not "
                           "positive", h->image_index, (double)h->field_of_view[0],
                           (double)h->field_of_view[1], (double)h->field_of_view[2]);
    d.data = im->data;
    d.instance_number = h->image_index;
    if (im->attribute_string != NULL && h->attribute_string_len > 0)
        mr_dicom_comments_from_meta(im->attribute_string, d.comments, sizeof(d.comments));
    d.pixel_spacing[0] = (double)h->field_of_view[1] / (double)d.rows;
    d.pixel_spacing[1] = (double)h->field_of_view[0] / (double)d.cols;
    d.slice_thickness = (double)h->field_of_view[2];
    bool unset = true;
    for (int i = 0; i < 3; i++) {
        centre[i] = (double)h->position[i];
        rd[i] = (double)h->read_dir[i];
        pd[i] = (double)h->phase_dir[i];
        unset = unset && rd[i] == 0.0 && pd[i] == 0.0;
    }
    if (!unset && !directions_ok(rd, pd))
        return MR_FAIL(MR_ERR_ARG, "image %u: read_dir (%g, %g, %g) and phase_dir (%g, %g, "
                       "%g) are not orthogonal unit vectors", h->image_index, rd[0], rd[1],
                       rd[2], pd[0], pd[1], pd[2]);
    mr_dicom_image_place(&d, centre, unset ? axial_row : rd, unset ? axial_col : pd);
    mr_status st = mr_dicom_scale_fit(d.data, (size_t)(d.rows * d.cols), &d.scale);
    if (st != MR_OK)
        return mr_fail_context(st, "image %u", h->image_index);
    *out = d;
    return MR_OK;
}

/* ---- the data set ------------------------------------------------------------------------ */

#define MAX_ELEMENTS 80

/* The elements of one instance; formatted values live in pool. */
struct dataset {
    struct mr_dcmtk_element el[MAX_ELEMENTS];
    size_t n;
    char pool[8192];
    size_t used;
};

static void put(struct dataset *ds, uint16_t g, uint16_t e, const char *vr, const char *value)
{
    MR_ASSERT(ds->n < MAX_ELEMENTS);
    ds->el[ds->n++] = (struct mr_dcmtk_element){ g, e, vr, value };
}

static void putf(struct dataset *ds, uint16_t g, uint16_t e, const char *vr, const char *fmt,
                 ...) MR_PRINTF_LIKE(5, 6);

static void putf(struct dataset *ds, uint16_t g, uint16_t e, const char *vr, const char *fmt,
                 ...)
{
    va_list ap;
    char *dst = ds->pool + ds->used;
    va_start(ap, fmt);
    int k = vsnprintf(dst, sizeof(ds->pool) - ds->used, fmt, ap);
    va_end(ap);
    MR_ASSERT(k >= 0 && (size_t)k < sizeof(ds->pool) - ds->used);
    ds->used += (size_t)k + 1;
    put(ds, g, e, vr, dst);
}

/* A decimal string (DS, at most 16 characters) of x: the most significant digits that fit. */
static const char *ds_text(char buf[24], double x)
{
    for (int digits = 10; digits > 0; digits--) {
        snprintf(buf, 24, "%.*g", digits, x);
        if (strlen(buf) <= 16)
            break;
    }
    return buf;
}

/* DS of x, or an empty value (type 2) / nothing (type 3) when x is not finite */
static void put_ds(struct dataset *ds, uint16_t g, uint16_t e, double x, bool type2)
{
    char b[24];
    if (isfinite(x))
        putf(ds, g, e, "DS", "%s", ds_text(b, x));
    else if (type2)
        put(ds, g, e, "DS", "");
}

static void put_ds3(struct dataset *ds, uint16_t g, uint16_t e, const double *x, int n)
{
    char b[6][24];
    MR_ASSERT(n == 2 || n == 3 || n == 6);
    if (n == 2)
        putf(ds, g, e, "DS", "%s\\%s", ds_text(b[0], x[0]), ds_text(b[1], x[1]));
    else if (n == 3)
        putf(ds, g, e, "DS", "%s\\%s\\%s", ds_text(b[0], x[0]), ds_text(b[1], x[1]),
             ds_text(b[2], x[2]));
    else
        putf(ds, g, e, "DS", "%s\\%s\\%s\\%s\\%s\\%s", ds_text(b[0], x[0]), ds_text(b[1], x[1]),
             ds_text(b[2], x[2]), ds_text(b[3], x[3]), ds_text(b[4], x[4]), ds_text(b[5], x[5]));
}

/* type 3 text: only when known */
static void put_opt(struct dataset *ds, uint16_t g, uint16_t e, const char *vr, const char *v)
{
    if (v[0] != '\0')
        put(ds, g, e, vr, v);
}

static void build(struct dataset *ds, const struct mr_dicom_series *s,
                  const struct mr_dicom_image *im, const char *sop_uid)
{
    double iop[6];
    double normal[3];
    for (int i = 0; i < 3; i++) {
        iop[i] = im->row_dir[i];
        iop[3 + i] = im->col_dir[i];
    }
    normal[0] = im->row_dir[1] * im->col_dir[2] - im->row_dir[2] * im->col_dir[1];
    normal[1] = im->row_dir[2] * im->col_dir[0] - im->row_dir[0] * im->col_dir[2];
    normal[2] = im->row_dir[0] * im->col_dir[1] - im->row_dir[1] * im->col_dir[0];

    put(ds, 0x0008, 0x0005, "CS", "ISO_IR 192");
    put(ds, 0x0008, 0x0008, "CS", "DERIVED\\SECONDARY");
    put(ds, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.4"); /* MR Image Storage */
    put(ds, 0x0008, 0x0018, "UI", sop_uid);
    put(ds, 0x0008, 0x0020, "DA", s->study_date);
    put_opt(ds, 0x0008, 0x0021, "DA", s->series_date);
    put(ds, 0x0008, 0x0030, "TM", s->study_time);
    put_opt(ds, 0x0008, 0x0031, "TM", s->series_time);
    put(ds, 0x0008, 0x0050, "SH", s->accession_number);
    put(ds, 0x0008, 0x0060, "CS", "MR");
    put(ds, 0x0008, 0x0070, "LO", s->manufacturer);
    put_opt(ds, 0x0008, 0x0080, "LO", s->institution);
    put(ds, 0x0008, 0x0090, "PN", s->referring_physician);
    put_opt(ds, 0x0008, 0x1010, "SH", s->station);
    put_opt(ds, 0x0008, 0x1030, "LO", s->study_description);
    put_opt(ds, 0x0008, 0x103E, "LO", s->series_description);
    put_opt(ds, 0x0008, 0x1090, "LO", s->model);
    put_opt(ds, 0x0008, 0x2111, "ST", s->derivation);
    put(ds, 0x0010, 0x0010, "PN", s->patient_name);
    put(ds, 0x0010, 0x0020, "LO", s->patient_id);
    put(ds, 0x0010, 0x0030, "DA", s->patient_birth_date);
    put(ds, 0x0010, 0x0040, "CS", s->patient_sex);
    put_ds(ds, 0x0010, 0x1030, s->patient_weight_kg, false);
    put_opt(ds, 0x0018, 0x0015, "CS", s->body_part);
    put(ds, 0x0018, 0x0020, "CS", "RM");   /* research mode: a reconstruction */
    put(ds, 0x0018, 0x0021, "CS", "NONE");
    put(ds, 0x0018, 0x0022, "CS", "");
    put(ds, 0x0018, 0x0023, "CS", "2D");
    put_ds(ds, 0x0018, 0x0050, im->slice_thickness > 0.0 ? im->slice_thickness : (double)NAN,
           true);
    put_ds(ds, 0x0018, 0x0080, s->tr_ms, true);
    put_ds(ds, 0x0018, 0x0081, s->te_ms, true);
    put_ds(ds, 0x0018, 0x0082, s->ti_ms, false);
    put_ds(ds, 0x0018, 0x0084, s->imaging_frequency_mhz, false);
    put_ds(ds, 0x0018, 0x0087, s->field_strength_t, false);
    put(ds, 0x0018, 0x0091, "IS", "");
    put(ds, 0x0018, 0x1020, "LO", "mrirecon");
    put_opt(ds, 0x0018, 0x1030, "LO", s->protocol_name);
    put_ds(ds, 0x0018, 0x1314, s->flip_angle_deg, false);
    put(ds, 0x0018, 0x5100, "CS", s->patient_position);
    put(ds, 0x0020, 0x000D, "UI", s->study_uid);
    put(ds, 0x0020, 0x000E, "UI", s->series_uid);
    put(ds, 0x0020, 0x0010, "SH", s->study_id);
    putf(ds, 0x0020, 0x0011, "IS", "%lld", (long long)s->series_number);
    putf(ds, 0x0020, 0x0013, "IS", "%lld", (long long)im->instance_number);
    put_opt(ds, 0x0020, 0x4000, "LT", im->comments);
    put_ds3(ds, 0x0020, 0x0032, im->position, 3);
    put_ds3(ds, 0x0020, 0x0037, iop, 6);
    put(ds, 0x0020, 0x0052, "UI", s->frame_uid);
    put(ds, 0x0020, 0x1040, "LO", "");
    put_ds(ds, 0x0020, 0x1041, dot3(im->position, normal), false);
    put(ds, 0x0028, 0x0002, "US", "1");
    put(ds, 0x0028, 0x0004, "CS", "MONOCHROME2");
    putf(ds, 0x0028, 0x0010, "US", "%lld", (long long)im->rows);
    putf(ds, 0x0028, 0x0011, "US", "%lld", (long long)im->cols);
    put_ds3(ds, 0x0028, 0x0030, im->pixel_spacing, 2);
    put(ds, 0x0028, 0x0100, "US", "16");
    put(ds, 0x0028, 0x0101, "US", "16");
    put(ds, 0x0028, 0x0102, "US", "15");
    put(ds, 0x0028, 0x0103, "US", "0");
    put_ds(ds, 0x0028, 0x1052, im->scale.intercept, true);
    put_ds(ds, 0x0028, 0x1053, im->scale.slope, true);
    put(ds, 0x0028, 0x1054, "LO", "US");
}

/* Everything a file needs that the caller could get wrong, before anything is written. */
static mr_status check(const char *path, const struct mr_dicom_series *s,
                       const struct mr_dicom_image *im)
{
    if (im->rows < 1 || im->cols < 1 || im->rows > MR_DICOM_MAX_SIDE ||
        im->cols > MR_DICOM_MAX_SIDE || im->rows * im->cols * 2 > (int64_t)UINT32_MAX - 1)
        return MR_FAIL(MR_ERR_ARG, "'%s': an image of %lld x %lld pixels does not fit DICOM "
                       "(sides 1..%d, pixel data below 4 GiB)", path, (long long)im->rows,
                       (long long)im->cols, MR_DICOM_MAX_SIDE);
    if (im->instance_number < 0 || im->instance_number > MR_DICOM_MAX_IS ||
        s->series_number < 0 || s->series_number > MR_DICOM_MAX_IS)
        return MR_FAIL(MR_ERR_ARG, "'%s': instance number %lld or series number %lld outside "
                       "0..%lld", path, (long long)im->instance_number,
                       (long long)s->series_number, MR_DICOM_MAX_IS);
    if (!mr_dicom_uid_valid(s->study_uid) || !mr_dicom_uid_valid(s->series_uid) ||
        !mr_dicom_uid_valid(s->frame_uid) ||
        (im->sop_uid[0] != '\0' && !mr_dicom_uid_valid(im->sop_uid)))
        return MR_FAIL(MR_ERR_ARG, "'%s': study, series, frame or instance UID missing or not "
                       "valid (mr_dicom_series_uids makes them)", path);
    bool finite = isfinite(im->slice_thickness) && isfinite(im->scale.intercept) &&
                  isfinite(im->scale.slope) && im->scale.slope > 0.0;
    for (int i = 0; i < 3; i++)
        finite = finite && isfinite(im->position[i]);
    for (int i = 0; i < 2; i++)
        finite = finite && isfinite(im->pixel_spacing[i]) && im->pixel_spacing[i] > 0.0;
    if (!finite || !directions_ok(im->row_dir, im->col_dir))
        return MR_FAIL(MR_ERR_ARG, "'%s': image geometry or scaling is not valid (finite "
                       "position, orthogonal unit directions, positive spacing and slope)",
                       path);
    return MR_OK;
}

/* stored = round((v - intercept) / slope), clamped to 0..65535 */
static mr_status quantise(const char *path, const struct mr_dicom_image *im, uint16_t *out)
{
    const int64_t n = im->rows * im->cols;
    for (int64_t i = 0; i < n; i++) {
        const double v = (double)im->data[i];
        if (!isfinite(v))
            return MR_FAIL(MR_ERR_DATA, "'%s': pixel (%lld, %lld) is %s: nothing is written",
                           path, (long long)(i / im->cols), (long long)(i % im->cols),
                           isnan(v) ? "NaN" : "infinite");
        double q = nearbyint((v - im->scale.intercept) / im->scale.slope);
        out[i] = (uint16_t)(q < 0.0 ? 0.0 : q > 65535.0 ? 65535.0 : q);
    }
    return MR_OK;
}

mr_status mr_dicom_write(const char *path, const struct mr_dicom_series *s,
                         const struct mr_dicom_image *im)
{
    mr_status st = MR_OK;
    struct mr_atomic_file af = { 0 };
    struct dataset *ds = NULL;
    uint16_t *px = NULL;
    char sop_uid[MR_DICOM_UID_SIZE];
    char err[512];

    MR_CHECK(check(path, s, im));
    const size_t n = (size_t)(im->rows * im->cols);
    ds = calloc(1, sizeof(*ds));
    px = malloc(sizeof(*px) * n);
    if (ds == NULL || px == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "'%s': %zu pixels", path, n);
        goto out;
    }
    MR_CHECK(quantise(path, im, px));
    if (im->sop_uid[0] != '\0') {
        snprintf(sop_uid, sizeof(sop_uid), "%s", im->sop_uid);
    } else if (s->reproducible) {
        char name[128];
        snprintf(name, sizeof(name), "mrirecon:instance:%s:%lld", s->series_uid,
                 (long long)im->instance_number);
        mr_dicom_uid_from_name(name, sop_uid);
    } else {
        mr_dcmtk_unique_uid(MR_DCMTK_UID_INSTANCE, sop_uid);
    }
    build(ds, s, im, sop_uid);
    MR_CHECK(mr_atomic_file_open(&af, path));
    if (mr_dcmtk_write(af.f, ds->el, ds->n, px, n, err, sizeof(err)) != 0) {
        st = MR_FAIL(MR_ERR_IO, "cannot write DICOM file '%s': %s", path, err);
        goto out;
    }
    st = mr_atomic_file_commit(&af);
out:
    mr_atomic_file_abort(&af);
    free(ds);
    free(px);
    return st;
}

/* ---- C-STORE ------------------------------------------------------------------------------ */

bool mr_dicom_aet_valid(const char *a)
{
    size_t n = strlen(a);
    bool blank = true;
    if (n == 0 || n > 16)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c < 0x20u || c >= 0x7Fu || c == '\\')
            return false;
        blank = blank && c == ' ';
    }
    return !blank;
}

mr_status mr_dicom_peer_parse(const char *spec, struct mr_dicom_peer *out)
{
    struct mr_dicom_peer p;
    const char *h = spec;
    const char *hend;
    const char *rest;

    memset(&p, 0, sizeof(p));
    if (*h == '[') {
        h++;
        hend = strchr(h, ']');
        if (hend == NULL || hend[1] != ':')
            return MR_FAIL(MR_ERR_ARG, "'%s': expected HOST:PORT:AET (IPv6 as [ADDR]:PORT:AET)",
                           spec);
        rest = hend + 2;
    } else {
        hend = strchr(h, ':');
        if (hend == NULL)
            return MR_FAIL(MR_ERR_ARG, "'%s': expected HOST:PORT:AET", spec);
        rest = hend + 1;
    }
    if (hend == h || (size_t)(hend - h) >= sizeof(p.host))
        return MR_FAIL(MR_ERR_ARG, "'%s': the host is empty or longer than %zu characters", spec,
                       sizeof(p.host) - 1);
    memcpy(p.host, h, (size_t)(hend - h));
    long port = 0;
    const char *q = rest;
    while (*q >= '0' && *q <= '9' && port <= 65535)
        port = port * 10 + (*q++ - '0');
    if (q == rest || *q != ':' || port < 1 || port > 65535)
        return MR_FAIL(MR_ERR_ARG, "'%s': the port must be a number 1..65535 followed by "
                       ":AET", spec);
    p.port = (int)port;
    if (!mr_dicom_aet_valid(q + 1))
        return MR_FAIL(MR_ERR_ARG, "'%s': the AE title '%s' must be 1 to 16 characters, no "
                       "backslash or control character, not only spaces", spec, q + 1);
    snprintf(p.called_aet, sizeof(p.called_aet), "%s", q + 1);
    *out = p;
    return MR_OK;
}

mr_status mr_dicom_send(const char *const *files, size_t n, const char *host, int port,
                        const char *called_aet, const char *calling_aet)
{
    char err[1024];
    if (calling_aet == NULL)
        calling_aet = MR_DICOM_CALLING_AET;
    if (n == 0)
        return MR_FAIL(MR_ERR_ARG, "DICOM send: no files");
    if (!mr_dicom_aet_valid(called_aet) || !mr_dicom_aet_valid(calling_aet) || port < 1 || port > 65535 ||
        host[0] == '\0')
        return MR_FAIL(MR_ERR_ARG, "DICOM send: peer '%s@%s:%d' or calling AE title '%s' is "
                       "not valid", called_aet, host, port, calling_aet);
    if (mr_dcmtk_store(files, n, host, port, called_aet, calling_aet, err, sizeof(err)) != 0)
        return MR_FAIL(MR_ERR_IO, "DICOM send to %s@%s:%d: %s", called_aet, host, port, err);
    return MR_OK;
}

mr_status mr_dicom_file_name(const char *dir, int64_t instance, char *buf, size_t cap)
{
    int n = (int)strlen(dir);
    while (n > 1 && dir[n - 1] == '/') /* "out/" names the folder "out" */
        n--;
    int k = snprintf(buf, cap, "%.*s/IM%05lld.dcm", n, dir, (long long)instance);
    if (k < 0 || (size_t)k >= cap)
        return MR_FAIL(MR_ERR_ARG, "DICOM file name in '%s' is too long", dir);
    return MR_OK;
}

/* the value of meta attribute name ("" when absent): <name>NAME</name><value>V</value> */
static void meta_value(const char *meta, const char *name, char *out, size_t len)
{
    char key[96];
    snprintf(key, sizeof(key), "<name>%s</name>", name);
    out[0] = '\0';
    const char *p = strstr(meta, key);
    if (p == NULL || (p = strstr(p + strlen(key), "<value>")) == NULL)
        return;
    p += strlen("<value>");
    const char *e = strstr(p, "</value>");
    if (e == NULL)
        return;
    size_t n = (size_t)(e - p) < len - 1 ? (size_t)(e - p) : len - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

void mr_dicom_comments_from_meta(const char *meta, char *out, size_t len)
{
    char res[32];
    char score[32];
    char flag[8];
    char reason[160];

    out[0] = '\0';
    meta_value(meta, "mrirecon.dc_residual", res, sizeof(res));
    if (res[0] == '\0')
        return;
    meta_value(meta, "mrirecon.trust_score", score, sizeof(score));
    meta_value(meta, "mrirecon.trust_flag", flag, sizeof(flag));
    meta_value(meta, "mrirecon.trust_reason", reason, sizeof(reason));
    snprintf(out, len, "mrirecon trust: dc_residual %s, score %s, flag %s%s%s", res, score,
             flag[0] != '\0' ? flag : "0", reason[0] != '\0' ? ": " : "", reason);
}
