/*
 * ISMRMRD datasets through the ISMRMRD 1.8 C API (see ismrmrd.h). The library reports errors
 * through a global callback and otherwise answers with int codes (and 0 counts on error); every
 * call is wrapped here so that failures become mr_status with the file named and the library's
 * own last message appended.
 */
#include "io/ismrmrd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "io/h5.h"

/* ---- the library's error channel ---------------------------------------------------------- */

static _Thread_local char lib_msg[512];

static void lib_error(const char *file, int line, const char *function, int code, const char *msg)
{
    (void)file;
    (void)line;
    (void)code;
    snprintf(lib_msg, sizeof(lib_msg), "%s: %s", function != NULL ? function : "ismrmrd",
             msg != NULL ? msg : "error");
}

/* Installs our handler (idempotent) and forgets the previous message. */
static void lib_begin(void)
{
    ismrmrd_set_error_handler(lib_error);
    lib_msg[0] = '\0';
}

static const char *lib_last(void)
{
    return lib_msg[0] != '\0' ? lib_msg : "no detail from the ISMRMRD library";
}

/* ---- probing and checks ------------------------------------------------------------------- */

mr_status mr_ismrmrd_probe(const char *path, bool *is_ismrmrd)
{
    struct mr_h5 *h = NULL;
    mr_status st = mr_h5_open(path, &h);

    if (st == MR_ERR_FORMAT) { /* not HDF5: not ISMRMRD either */
        *is_ismrmrd = false;
        return MR_OK;
    }
    if (st != MR_OK)
        return st;
    *is_ismrmrd = mr_h5_exists(h, "/dataset/xml");
    mr_h5_close(h);
    return MR_OK;
}

mr_status mr_ismrmrd_check_acquisition_header(const ISMRMRD_AcquisitionHeader *h,
                                              const char *what)
{
    uint64_t ns = h->number_of_samples;
    if (h->active_channels < 1)
        return MR_FAIL(MR_ERR_FORMAT, "%s: acquisition (scan_counter %u) has no active channel",
                       what, h->scan_counter);
    if (ns * h->active_channels > MR_ISMRMRD_MAX_ACQ_SAMPLES ||
        ns * h->trajectory_dimensions > MR_ISMRMRD_MAX_ACQ_SAMPLES)
        return MR_FAIL(MR_ERR_FORMAT,
                       "%s: acquisition (scan_counter %u) of %u samples x %u channels x %u "
                       "trajectory dimensions is over the limit of %llu values",
                       what, h->scan_counter, h->number_of_samples, h->active_channels,
                       h->trajectory_dimensions, (unsigned long long)MR_ISMRMRD_MAX_ACQ_SAMPLES);
    return MR_OK;
}

/* ---- configuration XML ---------------------------------------------------------------------- */

/* The text of the first child element called name, or NULL (xmlFree the result). */
static xmlChar *child_text(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return xmlNodeGetContent(c);
    return NULL;
}

static mr_status walk_properties(const xmlNode *n, mr_ismrmrd_property_fn fn, void *ctx)
{
    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "property") == 0) {
            xmlChar *name = xmlGetProp(n, BAD_CAST "name");
            xmlChar *value = xmlGetProp(n, BAD_CAST "value");
            if (name == NULL)
                name = child_text(n, "name");
            if (value == NULL)
                value = child_text(n, "value");
            mr_status st = MR_OK;
            if (name != NULL)
                st = fn(ctx, (const char *)name, value != NULL ? (const char *)value : "");
            xmlFree(name);
            xmlFree(value);
            if (st != MR_OK)
                return st;
            continue;
        }
        mr_status st = walk_properties(n->children, fn, ctx);
        if (st != MR_OK)
            return st;
    }
    return MR_OK;
}

mr_status mr_ismrmrd_config_properties(const char *xml, size_t len, mr_ismrmrd_property_fn fn,
                                       void *ctx)
{
    mr_status st = MR_OK;
    xmlParserCtxtPtr pctx = NULL;
    xmlDocPtr doc = NULL;

    if (len > (size_t)INT32_MAX)
        return MR_FAIL(MR_ERR_FORMAT, "configuration XML of %zu bytes is too large", len);
    pctx = xmlNewParserCtxt();
    if (pctx == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "XML parser for the configuration");
    doc = xmlCtxtReadMemory(pctx, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        const xmlError *e = xmlCtxtGetLastError(pctx);
        char msg[256] = "empty document";
        if (e != NULL && e->message != NULL) {
            snprintf(msg, sizeof(msg), "%s", e->message);
            size_t k = strlen(msg);
            if (k > 0 && msg[k - 1] == '\n')
                msg[k - 1] = '\0';
        }
        st = MR_FAIL(MR_ERR_FORMAT, "configuration is not well-formed XML (line %d: %s)",
                     e != NULL ? e->line : 0, msg);
        goto out;
    }
    st = walk_properties(xmlDocGetRootElement(doc), fn, ctx);
out:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(pctx);
    return st;
}

/* ---- reading ------------------------------------------------------------------------------ */

struct mr_ismrmrd_file {
    ISMRMRD_Dataset dset;
    bool dset_init; /* ismrmrd_close_dataset must run (it also frees the names) */
    char *path;
    char *xml;
    size_t xml_len;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

mr_status mr_ismrmrd_open(const char *path, struct mr_ismrmrd_file **out)
{
    mr_status st = MR_OK;
    bool is_ismrmrd = false;
    bool has_xml = false;
    struct mr_ismrmrd_file *f = NULL;

    struct mr_h5 *h = NULL;
    st = mr_h5_open(path, &h);
    if (st == MR_OK) {
        is_ismrmrd = mr_h5_exists(h, "/dataset");
        has_xml = mr_h5_exists(h, "/dataset/xml");
        mr_h5_close(h);
    } else if (st == MR_ERR_FORMAT) {
        st = MR_OK; /* not HDF5 */
    }
    MR_CHECK(st);
    if (!is_ismrmrd) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is not an ISMRMRD file (no /dataset group)", path);
        goto out;
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL || (f->path = dup_str(path)) == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ISMRMRD reader for '%s'", path);
        goto out;
    }
    lib_begin();
    if (ismrmrd_init_dataset(&f->dset, path, "/dataset") != ISMRMRD_NOERROR) {
        st = MR_FAIL(MR_ERR_NOMEM, "cannot initialise the ISMRMRD dataset of '%s'", path);
        goto out;
    }
    f->dset_init = true;
    if (ismrmrd_open_dataset(&f->dset, false) != ISMRMRD_NOERROR) {
        st = MR_FAIL(MR_ERR_IO, "cannot open ISMRMRD file '%s' (%s)", path, lib_last());
        goto out;
    }
    f->xml = has_xml ? ismrmrd_read_header(&f->dset) : dup_str("");
    if (f->xml == NULL) {
        st = MR_FAIL(MR_ERR_FORMAT, "cannot read the XML header of '%s' (%s)", path, lib_last());
        goto out;
    }
    f->xml_len = strlen(f->xml);
    *out = f;
    f = NULL;
out:
    mr_ismrmrd_close(f);
    return st;
}

void mr_ismrmrd_close(struct mr_ismrmrd_file *f)
{
    if (f == NULL)
        return;
    if (f->dset_init) {
        lib_begin();
        ismrmrd_close_dataset(&f->dset);
    }
    free(f->xml);
    free(f->path);
    free(f);
}

const char *mr_ismrmrd_path(const struct mr_ismrmrd_file *f)
{
    return f->path;
}

const char *mr_ismrmrd_xml(const struct mr_ismrmrd_file *f, size_t *len)
{
    if (len != NULL)
        *len = f->xml_len;
    return f->xml;
}

uint32_t mr_ismrmrd_acquisition_count(const struct mr_ismrmrd_file *f)
{
    lib_begin();
    return ismrmrd_get_number_of_acquisitions(&f->dset);
}

uint32_t mr_ismrmrd_waveform_count(const struct mr_ismrmrd_file *f)
{
    lib_begin();
    return ismrmrd_get_number_of_waveforms(&f->dset);
}

mr_status mr_ismrmrd_read_acquisition(struct mr_ismrmrd_file *f, uint32_t i,
                                      ISMRMRD_Acquisition *acq)
{
    uint32_t n = mr_ismrmrd_acquisition_count(f);
    char what[300];

    if (i >= n)
        return MR_FAIL(MR_ERR_ARG, "acquisition %u of '%s' is out of range (%u stored)", i,
                       f->path, n);
    lib_begin();
    if (ismrmrd_read_acquisition(&f->dset, i, acq) != ISMRMRD_NOERROR)
        return MR_FAIL(MR_ERR_FORMAT, "cannot read acquisition %u of '%s' (%s)", i, f->path,
                       lib_last());
    snprintf(what, sizeof(what), "'%s' acquisition %u", f->path, i);
    return mr_ismrmrd_check_acquisition_header(&acq->head, what);
}

mr_status mr_ismrmrd_read_waveform(struct mr_ismrmrd_file *f, uint32_t i, ISMRMRD_Waveform *wav)
{
    uint32_t n = mr_ismrmrd_waveform_count(f);
    if (i >= n)
        return MR_FAIL(MR_ERR_ARG, "waveform %u of '%s' is out of range (%u stored)", i, f->path,
                       n);
    lib_begin();
    if (ismrmrd_read_waveform(&f->dset, i, wav) != ISMRMRD_NOERROR)
        return MR_FAIL(MR_ERR_FORMAT, "cannot read waveform %u of '%s' (%s)", i, f->path,
                       lib_last());
    return MR_OK;
}

uint32_t mr_ismrmrd_image_count(const struct mr_ismrmrd_file *f, const char *group)
{
    lib_begin();
    return ismrmrd_get_number_of_images(&f->dset, group);
}

mr_status mr_ismrmrd_read_image(struct mr_ismrmrd_file *f, const char *group, uint32_t i,
                                ISMRMRD_Image *im)
{
    uint32_t n = mr_ismrmrd_image_count(f, group);
    if (i >= n)
        return MR_FAIL(MR_ERR_ARG, "image %u of '%s' /dataset/%s is out of range (%u stored)", i,
                       f->path, group, n);
    lib_begin();
    if (ismrmrd_read_image(&f->dset, group, i, im) != ISMRMRD_NOERROR)
        return MR_FAIL(MR_ERR_FORMAT, "cannot read image %u of '%s' /dataset/%s (%s)", i,
                       f->path, group, lib_last());
    return MR_OK;
}

/* ---- writing ------------------------------------------------------------------------------ */

struct mr_ismrmrd_writer {
    ISMRMRD_Dataset dset;
    bool dset_init; /* ismrmrd_close_dataset must run (it also frees the names) */
    bool dset_open;
    char *path;
    char *tmp;
};

mr_status mr_ismrmrd_writer_create(const char *path, struct mr_ismrmrd_writer **out)
{
    mr_status st = MR_OK;
    struct mr_ismrmrd_writer *w = calloc(1, sizeof(*w));
    size_t n = strlen(path) + 32;

    if (w == NULL || (w->path = dup_str(path)) == NULL || (w->tmp = malloc(n)) == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ISMRMRD writer for '%s'", path);
        goto out;
    }
    snprintf(w->tmp, n, "%s.tmp-%ld", path, (long)getpid());
    if (unlink(w->tmp) != 0 && errno != ENOENT) {
        st = MR_FAIL(MR_ERR_IO, "cannot replace the old temp file '%s': %s", w->tmp,
                     strerror(errno));
        goto out;
    }
    lib_begin();
    if (ismrmrd_init_dataset(&w->dset, w->tmp, "/dataset") != ISMRMRD_NOERROR) {
        st = MR_FAIL(MR_ERR_NOMEM, "cannot initialise an ISMRMRD dataset for '%s'", path);
        goto out;
    }
    w->dset_init = true;
    if (ismrmrd_open_dataset(&w->dset, true) != ISMRMRD_NOERROR) {
        st = MR_FAIL(MR_ERR_IO, "cannot create '%s' (%s)", w->tmp, lib_last());
        goto out;
    }
    w->dset_open = true;
    *out = w;
    w = NULL;
out:
    mr_ismrmrd_writer_free(w);
    return st;
}

static mr_status writer_check(const struct mr_ismrmrd_writer *w)
{
    if (!w->dset_open)
        return MR_FAIL(MR_ERR_ARG, "ISMRMRD writer for '%s' is not open", w->path);
    lib_begin();
    return MR_OK;
}

mr_status mr_ismrmrd_writer_header(struct mr_ismrmrd_writer *w, const char *xml)
{
    mr_status st = writer_check(w);
    if (st != MR_OK)
        return st;
    if (ismrmrd_write_header(&w->dset, xml) != ISMRMRD_NOERROR)
        return MR_FAIL(MR_ERR_IO, "cannot write the XML header to '%s' (%s)", w->tmp,
                       lib_last());
    return MR_OK;
}

mr_status mr_ismrmrd_writer_acquisition(struct mr_ismrmrd_writer *w,
                                        const ISMRMRD_Acquisition *acq)
{
    mr_status st = writer_check(w);
    if (st != MR_OK)
        return st;
    if (ismrmrd_append_acquisition(&w->dset, acq) != ISMRMRD_NOERROR)
        return MR_FAIL(MR_ERR_IO, "cannot append an acquisition to '%s' (%s)", w->tmp,
                       lib_last());
    return MR_OK;
}

mr_status mr_ismrmrd_writer_waveform(struct mr_ismrmrd_writer *w, const ISMRMRD_Waveform *wav)
{
    mr_status st = writer_check(w);
    if (st != MR_OK)
        return st;
    if (ismrmrd_append_waveform(&w->dset, wav) != ISMRMRD_NOERROR)
        return MR_FAIL(MR_ERR_IO, "cannot append a waveform to '%s' (%s)", w->tmp, lib_last());
    return MR_OK;
}

mr_status mr_ismrmrd_writer_image(struct mr_ismrmrd_writer *w, const char *group,
                                  const ISMRMRD_Image *im)
{
    mr_status st = writer_check(w);
    ISMRMRD_Image copy;
    char *attr = NULL;

    if (st != MR_OK)
        return st;
    /* The library stores the attributes as a C string (strlen), while the header counts
     * bytes and the buffer need not be terminated: write a terminated copy. */
    attr = malloc((size_t)im->head.attribute_string_len + 1);
    if (attr == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "image attributes for '%s'", w->path);
    if (im->head.attribute_string_len > 0)
        memcpy(attr, im->attribute_string, im->head.attribute_string_len);
    attr[im->head.attribute_string_len] = '\0';
    copy = *im;
    copy.attribute_string = attr;
    if (ismrmrd_append_image(&w->dset, group, &copy) != ISMRMRD_NOERROR)
        st = MR_FAIL(MR_ERR_IO, "cannot append an image to '%s' /dataset/%s (%s)", w->tmp, group,
                     lib_last());
    free(attr);
    return st;
}

mr_status mr_ismrmrd_writer_commit(struct mr_ismrmrd_writer *w)
{
    mr_status st = MR_OK;

    if (w == NULL)
        return MR_FAIL(MR_ERR_ARG, "no ISMRMRD writer to commit");
    MR_CHECK(writer_check(w));
    w->dset_open = false;
    w->dset_init = false;
    if (ismrmrd_close_dataset(&w->dset) != ISMRMRD_NOERROR) {
        st = MR_FAIL(MR_ERR_IO, "cannot close '%s' (%s)", w->tmp, lib_last());
        goto out;
    }
    if (rename(w->tmp, w->path) != 0) {
        st = MR_FAIL(MR_ERR_IO, "cannot rename '%s' to '%s': %s", w->tmp, w->path,
                     strerror(errno));
        goto out;
    }
    free(w->tmp);
    w->tmp = NULL; /* nothing left to remove */
out:
    mr_ismrmrd_writer_free(w);
    return st;
}

void mr_ismrmrd_writer_free(struct mr_ismrmrd_writer *w)
{
    if (w == NULL)
        return;
    if (w->dset_init) { /* closes the file if open and frees the names */
        lib_begin();
        ismrmrd_close_dataset(&w->dset);
    }
    if (w->tmp != NULL)
        unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    free(w);
}
