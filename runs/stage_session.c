/* One MRD stream session of the stage (see stage_session.h). */
#include "runs/stage_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* an image kept for the DICOM series: its header and a copy of its data */
struct kept_image {
    ISMRMRD_ImageHeader head;
    float *data;
};

struct mr_stage_session {
    struct mr_stage_session_config cfg;
    struct mr_stage_config stage_cfg; /* cfg.stage with the stream's config applied */
    struct mr_stage *stage;
    int out_fd;
    char what[128];
    bool done;
    char *xml; /* the stream's header, for the DICOM series (cfg.dicom_dir) */
    size_t xml_len;
    struct kept_image *kept;
    size_t nkept;
    size_t cap_kept;
};

/* Keeps a copy of im for the DICOM series written at CLOSE. */
static mr_status keep_image(struct mr_stage_session *s, const ISMRMRD_Image *im)
{
    if (s->nkept == s->cap_kept) {
        size_t cap = s->cap_kept > 0 ? 2 * s->cap_kept : 16;
        struct kept_image *k = realloc(s->kept, cap * sizeof(*k));
        if (k == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "%s: images kept for DICOM", s->what);
        s->kept = k;
        s->cap_kept = cap;
    }
    const size_t bytes = ismrmrd_size_of_image_data(im);
    float *copy = malloc(bytes > 0 ? bytes : 1);
    if (copy == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "%s: an image of %zu bytes kept for DICOM", s->what, bytes);
    memcpy(copy, im->data, bytes);
    s->kept[s->nkept].head = im->head;
    s->kept[s->nkept].data = copy;
    s->nkept++;
    return MR_OK;
}

static mr_status sink_image(void *ctx, const ISMRMRD_Image *im)
{
    struct mr_stage_session *s = ctx;
    mr_status st = mr_mrd_write_image(s->out_fd, im);
    if (st == MR_OK && s->cfg.dicom_dir != NULL)
        st = keep_image(s, im);
    return st;
}

/* The kept images as one DICOM series folder (and sent, when configured). */
static mr_status write_dicom(struct mr_stage_session *s)
{
    mr_status st = MR_OK;
    struct mr_dicom_series series;
    struct mr_dicom_image *ims = calloc(s->nkept > 0 ? s->nkept : 1, sizeof(*ims));
    char dir[4200];

    if (ims == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "%s: DICOM images", s->what);
    for (size_t i = 0; i < s->nkept; i++) {
        ISMRMRD_Image view;
        memset(&view, 0, sizeof(view));
        view.head = s->kept[i].head;
        view.data = s->kept[i].data;
        MR_CHECK(mr_dicom_image_from_ismrmrd(&view, &ims[i]));
    }
    MR_CHECK(mr_output_dicom_series(&series, s->xml, s->xml_len, s->what, &s->stage_cfg.method,
                                    mr_stage_label(s->stage),
                                    (int64_t)s->stage_cfg.image_series_index + 1,
                                    &s->cfg.dicom));
    if (snprintf(dir, sizeof(dir), "%s/%s", s->cfg.dicom_dir, series.series_uid) >=
        (int)sizeof(dir)) {
        st = MR_FAIL(MR_ERR_ARG, "DICOM folder name '%s' is too long", s->cfg.dicom_dir);
        goto out;
    }
    MR_CHECK(mr_output_write_dicom(dir, &series, ims, s->nkept, &s->cfg.dicom));
    if (!s->cfg.quiet)
        fprintf(stderr, "mrirecon stage: %s: DICOM series '%s'%s\n", s->what, dir,
                s->cfg.dicom.send != NULL ? ", sent" : "");
out:
    free(ims);
    return st;
}

mr_status mr_stage_session_create(const struct mr_stage_session_config *cfg, int out_fd,
                                  const char *what, struct mr_stage_session **out)
{
    struct mr_stage_session *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (s == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "stage session");
    s->cfg = *cfg;
    s->stage_cfg = cfg->stage;
    s->out_fd = out_fd;
    snprintf(s->what, sizeof(s->what), "%s", what);
    if (cfg->config_text != NULL) {
        mr_status st = mr_stage_config_parse_text(&s->stage_cfg, cfg->config_text,
                                                  strlen(cfg->config_text));
        if (st != MR_OK) {
            free(s);
            return st;
        }
    }
    *out = s;
    return MR_OK;
}

void mr_stage_session_free(struct mr_stage_session *s)
{
    if (s == NULL)
        return;
    mr_stage_free(s->stage);
    for (size_t i = 0; i < s->nkept; i++)
        free(s->kept[i].data);
    free(s->kept);
    free(s->xml);
    free(s);
}

bool mr_stage_session_done(const struct mr_stage_session *s)
{
    return s->done;
}

int mr_stage_session_open_slices(const struct mr_stage_session *s)
{
    return s->stage != NULL ? mr_stage_open_slices(s->stage) : 0;
}

/* CONFIG_FILE: a name that is a method without weights ("cs", "cs.xml") selects it */
static void config_file_preset(struct mr_stage_session *s, const char *name)
{
    char base[64];
    size_t n = strlen(name);
    if (n >= 4 && strcmp(name + n - 4, ".xml") == 0)
        n -= 4;
    if (n < sizeof(base)) {
        memcpy(base, name, n);
        base[n] = '\0';
        const struct mr_method_ops *ops = mr_method_lookup(base);
        if (ops != NULL && !ops->takes_weights &&
            mr_stage_config_set(&s->stage_cfg, "method", base) == MR_OK)
            return;
    }
    if (!s->cfg.quiet)
        fprintf(stderr, "mrirecon stage: %s: config file '%s' is not a method; defaults kept\n",
                s->what, name);
}

mr_status mr_stage_session_handle(struct mr_stage_session *s, const struct mr_mrd_message *m)
{
    mr_status st = MR_OK;
    const struct mr_stage_sink sink = { .image = sink_image, .ctx = s };

    if (s->done)
        return MR_FAIL(MR_ERR_FORMAT, "%s: %s message after CLOSE", s->what,
                       mr_mrd_id_name(m->id));
    switch (m->id) {
    case MR_MRD_CONFIG_FILE:
    case MR_MRD_CONFIG_TEXT:
        if (s->stage != NULL)
            return MR_FAIL(MR_ERR_FORMAT, "%s: %s message after the header", s->what,
                           mr_mrd_id_name(m->id));
        if (m->id == MR_MRD_CONFIG_FILE)
            config_file_preset(s, m->text);
        else
            st = mr_stage_config_parse_text(&s->stage_cfg, m->text, m->text_len);
        return st;
    case MR_MRD_HEADER:
        if (s->stage != NULL)
            return MR_FAIL(MR_ERR_FORMAT, "%s: a second HEADER message", s->what);
        if (s->cfg.dicom_dir != NULL) {
            s->xml = malloc(m->text_len + 1);
            if (s->xml == NULL)
                return MR_FAIL(MR_ERR_NOMEM, "%s: the header", s->what);
            memcpy(s->xml, m->text, m->text_len + 1);
            s->xml_len = m->text_len;
        }
        return mr_stage_create(&s->stage_cfg, m->text, m->text_len, &sink, &s->stage);
    case MR_MRD_ACQUISITION:
        if (s->stage == NULL)
            return MR_FAIL(MR_ERR_FORMAT, "%s: ACQUISITION before the HEADER message", s->what);
        return mr_stage_push(s->stage, &m->acq);
    case MR_MRD_WAVEFORM:
        return MR_OK;
    case MR_MRD_TEXT:
        if (!s->cfg.quiet)
            fprintf(stderr, "mrirecon stage: %s says: %s\n", s->what, m->text);
        return MR_OK;
    case MR_MRD_CLOSE:
        if (s->stage != NULL) {
            MR_CHECK(mr_stage_close(s->stage));
            if (mr_stage_images(s->stage) == 0)
                return MR_FAIL(MR_ERR_DATA, "%s: the stream gave no image (%lld acquisition(s), "
                               "none of them imaging)", s->what,
                               (long long)mr_stage_acquisitions(s->stage));
            if (s->cfg.dicom_dir != NULL)
                MR_CHECK(write_dicom(s));
        }
        MR_CHECK(mr_mrd_write_close(s->out_fd));
        s->done = true;
        if (!s->cfg.quiet)
            fprintf(stderr, "mrirecon stage: %s: %lld image(s)\n", s->what,
                    (long long)(s->stage != NULL ? mr_stage_images(s->stage) : 0));
        return MR_OK;
    case MR_MRD_ERROR:
        return MR_FAIL(MR_ERR_DATA, "%s: the peer sent an error: %s", s->what, m->text);
    default:
        return MR_FAIL(MR_ERR_FORMAT, "%s: unexpected %s message (id %u) in an input stream",
                       s->what, mr_mrd_id_name(m->id), m->id);
    }
out:
    return st;
}

void mr_stage_session_fail(struct mr_stage_session *s, mr_status st)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s", mr_last_error());
    /* best effort: the peer may be gone; keep the session's error as the last one */
    (void)mr_mrd_write_error(s->out_fd, msg);
    (void)mr_mrd_write_close(s->out_fd);
    s->done = true;
    MR_FAIL(st, "%s", msg);
}

mr_status mr_stage_session_serve_fd(const struct mr_stage_session_config *cfg, int in_fd,
                                    int out_fd, const char *what)
{
    struct mr_stage_session *s = NULL;
    struct mr_mrd_reader r;
    struct mr_mrd_message m;
    mr_status st = mr_stage_session_create(cfg, out_fd, what, &s);

    if (st != MR_OK)
        return st;
    mr_mrd_reader_init(&r, in_fd, what);
    mr_mrd_message_init(&m);
    while (!mr_stage_session_done(s)) {
        st = mr_mrd_read(&r, &m);
        if (st != MR_OK && mr_mrd_reader_eof(&r) && mr_stage_session_open_slices(s) > 0)
            mr_fail_context(st, "%d slice(s) incomplete", mr_stage_session_open_slices(s));
        if (st == MR_OK)
            st = mr_stage_session_handle(s, &m);
        if (st != MR_OK) {
            mr_stage_session_fail(s, st);
            break;
        }
    }
    mr_mrd_message_cleanup(&m);
    mr_stage_session_free(s);
    return st;
}
