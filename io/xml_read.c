/* The libxml2 parse of the ISMRMRD XML readers (see xml_read.h). */
#include "io/xml_read.h"

#include <stdio.h>
#include <string.h>

xmlDocPtr mr_xml_read_memory(xmlParserCtxtPtr ctxt, const char *xml, size_t len, char *msg,
                             size_t msglen, int *line)
{
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc != NULL)
        return doc;
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    snprintf(msg, msglen, "%s", e != NULL && e->message != NULL ? e->message : "empty document");
    size_t k = strlen(msg);
    if (k > 0 && msg[k - 1] == '\n')
        msg[k - 1] = '\0';
    *line = e != NULL ? e->line : 0;
    return NULL;
}
