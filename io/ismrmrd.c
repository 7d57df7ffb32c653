/*
 * ISMRMRD records checked before use, the probe, and Gadgetron configuration XML (see
 * ismrmrd.h). The file reader and writer are in ismrmrd_read.c / ismrmrd_write.c; the MRD
 * stream reader (mrd.c) applies the same header checks to what arrives on a socket.
 */
#include "io/ismrmrd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "io/h5.h"
#include "io/xml_read.h"
#include "recon/array.h"

/* ---- probing and checks ------------------------------------------------------------------- */

mr_status mr_ismrmrd_probe(const char *path, bool *is_ismrmrd)
{
    struct mr_h5 *h = NULL;
    mr_status st = mr_h5_open(path, &h);

    if (st == MR_ERR_FORMAT) { /* not HDF5, or damaged: opening it will say which */
        *is_ismrmrd = false;
        return MR_OK;
    }
    if (st != MR_OK)
        return st;
    *is_ismrmrd = mr_h5_exists(h, "/dataset");
    mr_h5_close(h);
    return MR_OK;
}

mr_status mr_ismrmrd_check_acquisition_header(const ISMRMRD_AcquisitionHeader *h,
                                              const char *what)
{
    const uint64_t ns = h->number_of_samples;
    if (h->active_channels < 1)
        return MR_FAIL(MR_ERR_FORMAT, "%s (scan_counter %u): acquisition has no active channel",
                       what, h->scan_counter);
    if (ns * h->active_channels > MR_ISMRMRD_MAX_ACQ_SAMPLES ||
        ns * h->trajectory_dimensions > MR_ISMRMRD_MAX_ACQ_SAMPLES)
        return MR_FAIL(MR_ERR_FORMAT,
                       "%s (scan_counter %u): acquisition of %u samples x %u channels x %u "
                       "trajectory dimensions is over the limit of %llu values",
                       what, h->scan_counter, h->number_of_samples, h->active_channels,
                       h->trajectory_dimensions, (unsigned long long)MR_ISMRMRD_MAX_ACQ_SAMPLES);
    const uint64_t bytes = ns * (h->active_channels * 2 + h->trajectory_dimensions) * 4;
    if (bytes > mr_memory_limit()) {
        char full[1200];
        snprintf(full, sizeof(full), "%s (scan_counter %u): acquisition of %u samples x %u "
                 "channels", what, h->scan_counter, h->number_of_samples, h->active_channels);
        return mr_memory_check(bytes, full);
    }
    if (ns > 0 && (uint64_t)h->discard_pre + h->discard_post >= ns)
        return MR_FAIL(MR_ERR_FORMAT, "%s (scan_counter %u): discard_pre %u + discard_post %u "
                       "leave none of the %u samples (expected a sum below number_of_samples)",
                       what, h->scan_counter, h->discard_pre, h->discard_post,
                       h->number_of_samples);
    if (ns > 0 && h->center_sample >= ns)
        return MR_FAIL(MR_ERR_FORMAT, "%s (scan_counter %u): center_sample %u is outside the "
                       "readout of %u samples (expected below number_of_samples)", what,
                       h->scan_counter, h->center_sample, h->number_of_samples);
    return MR_OK;
}

static mr_status nonfinite(const char *what, const ISMRMRD_AcquisitionHeader *h,
                           const char *part, uint64_t channel, uint64_t sample, float v)
{
    return MR_FAIL(MR_ERR_DATA, "%s (scan_counter %u): %s of channel %llu sample %llu is %s",
                   what, h->scan_counter, part, (unsigned long long)channel,
                   (unsigned long long)sample, isnan(v) ? "NaN" : v > 0.0f ? "+Inf" : "-Inf");
}

mr_status mr_ismrmrd_check_acquisition_data(const ISMRMRD_Acquisition *acq, const char *what)
{
    const ISMRMRD_AcquisitionHeader *h = &acq->head;
    const uint64_t ns = h->number_of_samples;
    const uint64_t td = h->trajectory_dimensions;
    const float *d = (const float *)acq->data;

    for (uint64_t c = 0; c < h->active_channels; c++)
        for (uint64_t s = 0; s < ns; s++)
            for (int k = 0; k < 2; k++) {
                float v = d[2 * (c * ns + s) + (uint64_t)k];
                if (!isfinite(v))
                    return nonfinite(what, h, k == 0 ? "the real part" : "the imaginary part",
                                     c, s, v);
            }
    for (uint64_t i = 0; i < ns * td; i++)
        if (!isfinite(acq->traj[i]))
            return MR_FAIL(MR_ERR_DATA, "%s (scan_counter %u): trajectory value %llu (sample "
                           "%llu) is %s", what, h->scan_counter, (unsigned long long)(i % td),
                           (unsigned long long)(i / td), isnan(acq->traj[i]) ? "NaN" : "Inf");
    return MR_OK;
}

mr_status mr_ismrmrd_check_image_header(const ISMRMRD_ImageHeader *h, const char *what,
                                        size_t *data_bytes)
{
    const size_t esize = ismrmrd_sizeof_data_type(h->data_type);
    const uint16_t *ms = h->matrix_size;
    char full[1200];

    if (esize == 0)
        return MR_FAIL(MR_ERR_FORMAT, "%s: image data_type %u is not an ISMRMRD type (1..8)",
                       what, h->data_type);
    if (ms[0] < 1 || ms[1] < 1 || ms[2] < 1 || h->channels < 1)
        return MR_FAIL(MR_ERR_FORMAT, "%s: image of %u x %u x %u x %u channels has an empty "
                       "axis", what, ms[0], ms[1], ms[2], h->channels);
    /* ISMRMRD sizes images in int: the element count must fit in one */
    const uint64_t n = (uint64_t)ms[0] * ms[1] * ms[2] * h->channels;
    if (n > (uint64_t)INT32_MAX || n * esize > MR_ISMRMRD_MAX_IMAGE_BYTES)
        return MR_FAIL(MR_ERR_FORMAT, "%s: image of %u x %u x %u x %u channels of %zu bytes is "
                       "over the limit of %llu bytes", what, ms[0], ms[1], ms[2], h->channels,
                       esize, (unsigned long long)MR_ISMRMRD_MAX_IMAGE_BYTES);
    if (h->attribute_string_len > MR_ISMRMRD_MAX_ATTRIBUTES)
        return MR_FAIL(MR_ERR_FORMAT, "%s: image attribute text of %u bytes is over the limit "
                       "of %llu", what, h->attribute_string_len,
                       (unsigned long long)MR_ISMRMRD_MAX_ATTRIBUTES);
    snprintf(full, sizeof(full), "%s: image of %u x %u x %u x %u channels", what, ms[0], ms[1],
             ms[2], h->channels);
    mr_status st = mr_memory_check(n * esize + h->attribute_string_len, full);
    if (st == MR_OK && data_bytes != NULL)
        *data_bytes = (size_t)(n * esize);
    return st;
}

mr_status mr_ismrmrd_check_waveform_header(const ISMRMRD_WaveformHeader *h, const char *what)
{
    const uint64_t bytes = (uint64_t)h->channels * h->number_of_samples * sizeof(uint32_t);
    char full[1200];

    if (bytes > MR_ISMRMRD_MAX_WAVEFORM_BYTES)
        return MR_FAIL(MR_ERR_FORMAT, "%s: waveform of %u channels x %u samples is over the "
                       "limit of %llu bytes", what, h->channels, h->number_of_samples,
                       (unsigned long long)MR_ISMRMRD_MAX_WAVEFORM_BYTES);
    snprintf(full, sizeof(full), "%s: waveform of %u channels x %u samples", what, h->channels,
             h->number_of_samples);
    return mr_memory_check(bytes, full);
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
    char msg[256];
    int line = 0;
    doc = mr_xml_read_memory(pctx, xml, len, msg, sizeof(msg), &line);
    if (doc == NULL) {
        st = MR_FAIL(MR_ERR_FORMAT, "configuration is not well-formed XML (line %d: %s)", line,
                     msg);
        goto out;
    }
    st = walk_properties(xmlDocGetRootElement(doc), fn, ctx);
out:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(pctx);
    return st;
}

