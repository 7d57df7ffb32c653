/*
 * ISMRMRD XML header → struct mr_ismrmrd_header, with libxml2 (ISMRMRD 1.8's own parser is
 * C++ only; specs/ismrmrd.md §2.2). We walk the tree by local name instead of using XPath so
 * that a header written without the default namespace still parses; the namespace, when
 * present, must be ISMRMRD's. Parsing uses a private parser context with network access and
 * error printing off, so nothing reaches stderr and the message comes from that context.
 */
#include "io/ismrmrd_header.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "io/xml_read.h"

/* Parsing state: where we are (for messages) and the namespace every element must carry. */
struct xctx {
    const char *what;
    const xmlNs *ns; /* the root's namespace; NULL when the header has none */
};

static bool is_elem(const struct xctx *c, const xmlNode *n, const char *name)
{
    if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
        return false;
    if (c->ns == NULL)
        return n->ns == NULL;
    return n->ns != NULL && xmlStrEqual(n->ns->href, c->ns->href);
}

static const xmlNode *child(const struct xctx *c, const xmlNode *parent, const char *name)
{
    if (parent == NULL)
        return NULL;
    for (const xmlNode *n = parent->children; n != NULL; n = n->next)
        if (is_elem(c, n, name))
            return n;
    return NULL;
}

/* The trimmed text of parent/name into buf; false if the element is absent. */
static bool text_of(const struct xctx *c, const xmlNode *parent, const char *name, char *buf,
                    size_t len)
{
    const xmlNode *n = child(c, parent, name);
    if (n == NULL)
        return false;
    xmlChar *t = xmlNodeGetContent(n);
    const char *s = t != NULL ? (const char *)t : "";
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t k = strlen(s);
    while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\n' || s[k - 1] == '\r'))
        k--;
    if (k >= len)
        k = len - 1;
    memcpy(buf, s, k);
    buf[k] = '\0';
    xmlFree(t);
    return true;
}

/* Integer at parent/name (path names the element in messages). Absent: *out = def unless
 * required. */
static mr_status get_int(const struct xctx *c, const xmlNode *parent, const char *name,
                         const char *path, bool required, int64_t def, int64_t *out)
{
    char buf[64];
    char *end = NULL;

    if (!text_of(c, parent, name, buf, sizeof(buf))) {
        if (required)
            return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header has no <%s>", c->what, path);
        *out = def;
        return MR_OK;
    }
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (buf[0] == '\0' || *end != '\0' || errno != 0)
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header <%s> is '%s', expected an integer",
                       c->what, path, buf);
    *out = (int64_t)v;
    return MR_OK;
}

static mr_status get_double(const struct xctx *c, const xmlNode *parent, const char *name,
                            const char *path, double *out)
{
    char buf[64];
    char *end = NULL;

    if (!text_of(c, parent, name, buf, sizeof(buf))) {
        *out = 0.0;
        return MR_OK;
    }
    errno = 0;
    double v = strtod(buf, &end);
    if (buf[0] == '\0' || *end != '\0' || errno != 0)
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header <%s> is '%s', expected a number",
                       c->what, path, buf);
    *out = v;
    return MR_OK;
}

/* matrixSize {x, y, z}: all required and >= 1 (z defaults to 1 as in the schema). */
static mr_status get_matrix(const struct xctx *c, const xmlNode *space, const char *sname,
                            int64_t m[3])
{
    static const char *const axes[3] = { "x", "y", "z" };
    const xmlNode *ms = child(c, space, "matrixSize");
    char path[128];

    if (space == NULL || ms == NULL)
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header has no <encoding/%s/matrixSize>",
                       c->what, sname);
    for (int a = 0; a < 3; a++) {
        snprintf(path, sizeof(path), "encoding/%s/matrixSize/%s", sname, axes[a]);
        mr_status st = get_int(c, ms, axes[a], path, a < 2, 1, &m[a]);
        if (st != MR_OK)
            return st;
        if (m[a] < 1 || m[a] > UINT16_MAX) /* the schema's xs:unsignedShort */
            return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header <%s> is %lld, expected 1..65535",
                           c->what, path, (long long)m[a]);
    }
    return MR_OK;
}

static mr_status get_fov(const struct xctx *c, const xmlNode *space, const char *sname,
                         double fov[3])
{
    static const char *const axes[3] = { "x", "y", "z" };
    const xmlNode *f = child(c, space, "fieldOfView_mm");
    char path[128];

    for (int a = 0; a < 3; a++) {
        snprintf(path, sizeof(path), "encoding/%s/fieldOfView_mm/%s", sname, axes[a]);
        mr_status st = get_double(c, f, axes[a], path, &fov[a]);
        if (st != MR_OK)
            return st;
    }
    return MR_OK;
}

static mr_status get_limit(const struct xctx *c, const xmlNode *limits, const char *name,
                           struct mr_ismrmrd_limit *l)
{
    const xmlNode *n = child(c, limits, name);
    char path[128];
    mr_status st;

    memset(l, 0, sizeof(*l));
    if (n == NULL)
        return MR_OK;
    snprintf(path, sizeof(path), "encoding/encodingLimits/%s/minimum", name);
    if ((st = get_int(c, n, "minimum", path, true, 0, &l->minimum)) != MR_OK)
        return st;
    snprintf(path, sizeof(path), "encoding/encodingLimits/%s/maximum", name);
    if ((st = get_int(c, n, "maximum", path, true, 0, &l->maximum)) != MR_OK)
        return st;
    snprintf(path, sizeof(path), "encoding/encodingLimits/%s/center", name);
    if ((st = get_int(c, n, "center", path, true, 0, &l->center)) != MR_OK)
        return st;
    /* the schema's xs:unsignedShort; the stage places lines by them */
    if (l->minimum < 0 || l->maximum < l->minimum || l->maximum > UINT16_MAX ||
        l->center < 0 || l->center > UINT16_MAX)
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header <encoding/encodingLimits/%s> is "
                       "minimum %lld, maximum %lld, center %lld; expected 0 <= minimum <= "
                       "maximum <= 65535 and center in 0..65535", c->what, name,
                       (long long)l->minimum, (long long)l->maximum, (long long)l->center);
    l->present = true;
    return MR_OK;
}

static mr_status parse_tree(const struct xctx *c, const xmlNode *root,
                            struct mr_ismrmrd_header *h)
{
    mr_status st = MR_OK;
    const xmlNode *enc = NULL;

    h->n_encodings = 0;
    for (const xmlNode *n = root->children; n != NULL; n = n->next)
        if (is_elem(c, n, "encoding")) {
            if (enc == NULL)
                enc = n;
            h->n_encodings++;
        }
    if (enc == NULL)
        return MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header has no <encoding>", c->what);

    const xmlNode *es = child(c, enc, "encodedSpace");
    const xmlNode *rs = child(c, enc, "reconSpace");
    MR_CHECK(get_matrix(c, es, "encodedSpace", h->enc_matrix));
    MR_CHECK(get_fov(c, es, "encodedSpace", h->enc_fov_mm));
    MR_CHECK(get_matrix(c, rs, "reconSpace", h->recon_matrix));
    MR_CHECK(get_fov(c, rs, "reconSpace", h->recon_fov_mm));

    const xmlNode *lim = child(c, enc, "encodingLimits");
    MR_CHECK(get_limit(c, lim, "kspace_encoding_step_1", &h->kspace_encoding_step_1));
    MR_CHECK(get_limit(c, lim, "kspace_encoding_step_2", &h->kspace_encoding_step_2));
    MR_CHECK(get_limit(c, lim, "slice", &h->slice));

    if (!text_of(c, enc, "trajectory", h->trajectory, sizeof(h->trajectory)))
        h->trajectory[0] = '\0';

    const xmlNode *acc = child(c, child(c, enc, "parallelImaging"), "accelerationFactor");
    MR_CHECK(get_int(c, acc, "kspace_encoding_step_1",
                     "encoding/parallelImaging/accelerationFactor/kspace_encoding_step_1", false,
                     1, &h->accel[0]));
    MR_CHECK(get_int(c, acc, "kspace_encoding_step_2",
                     "encoding/parallelImaging/accelerationFactor/kspace_encoding_step_2", false,
                     1, &h->accel[1]));
    if (h->accel[0] < 1 || h->accel[1] < 1) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header acceleration factors %lld x %lld, "
                     "expected >= 1", c->what, (long long)h->accel[0], (long long)h->accel[1]);
        goto out;
    }

    const xmlNode *sys = child(c, root, "acquisitionSystemInformation");
    MR_CHECK(get_int(c, sys, "receiverChannels",
                     "acquisitionSystemInformation/receiverChannels", false, 0,
                     &h->receiver_channels));
    MR_CHECK(get_double(c, sys, "systemFieldStrength_T",
                        "acquisitionSystemInformation/systemFieldStrength_T",
                        &h->field_strength_t));
out:
    return st;
}

mr_status mr_ismrmrd_header_parse(const char *xml, size_t len, const char *what,
                                  struct mr_ismrmrd_header *out)
{
    mr_status st = MR_OK;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    struct mr_ismrmrd_header h;
    struct xctx c = { .what = what, .ns = NULL };

    memset(&h, 0, sizeof(h));
    if (len > INT_MAX) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header of %zu bytes is too large", what, len);
        goto out;
    }
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "%s: XML parser", what);
        goto out;
    }
    char msg[256];
    int line = 0;
    doc = mr_xml_read_memory(ctxt, xml, len, msg, sizeof(msg), &line);
    if (doc == NULL) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: ISMRMRD header is not well-formed XML (line %d: %s)",
                     what, line, msg);
        goto out;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (root == NULL || strcmp((const char *)root->name, "ismrmrdHeader") != 0) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: XML root is <%s>, expected <ismrmrdHeader>", what,
                     root != NULL ? (const char *)root->name : "");
        goto out;
    }
    if (root->ns != NULL && !xmlStrEqual(root->ns->href, BAD_CAST MR_ISMRMRD_NAMESPACE)) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: XML namespace is '%s', expected '%s'", what,
                     (const char *)root->ns->href, MR_ISMRMRD_NAMESPACE);
        goto out;
    }
    c.ns = root->ns;
    MR_CHECK(parse_tree(&c, root, &h));
    *out = h;
out:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return st;
}
