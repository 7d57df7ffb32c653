/*
 * The libxml2 parse that the ISMRMRD XML readers share (io/ only: the header of an ISMRMRD or
 * fastMRI file, the stage's configuration XML).
 */
#ifndef MR_IO_XML_READ_H
#define MR_IO_XML_READ_H

#include <stddef.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* Parses len (<= INT_MAX, checked by the caller) bytes of XML with ctxt: no network access,
 * nothing printed. Returns the document (the caller frees it with xmlFreeDoc), or NULL with
 * libxml2's last error as one line in msg ("empty document" when it has none; no trailing
 * newline) and its line in *line (0 when unknown). */
xmlDocPtr mr_xml_read_memory(xmlParserCtxtPtr ctxt, const char *xml, size_t len, char *msg,
                             size_t msglen, int *line);

#endif
