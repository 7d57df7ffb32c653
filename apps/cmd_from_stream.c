/*
 * mrirecon from-stream: an MRD message stream (specs/ismrmrd.md §2.3) into an ISMRMRD file,
 * what ISMRMRD >= 1.12's ismrmrd_stream_to_hdf5 does: the header becomes /dataset/xml,
 * acquisitions /dataset/data, waveforms /dataset/waveforms, and images go to
 * /dataset/image_<image_series_index>. TEXT messages are shown on standard error. The file
 * appears only when the stream ended with CLOSE and carried no ERROR message.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apps/commands.h"
#include "io/mrd.h"
#include "pipeline/output.h"
#include "io/ismrmrd.h"

int mr_main_from_stream(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon from-stream [options] OUT.h5\n"
    "Write the MRD / Gadgetron message stream on standard input as an ISMRMRD file.\n"
    "\n"
    "  -i, --input FILE   read FILE instead of standard input\n"
    "  -q, --quiet        do not show the stream's TEXT messages\n"
    "  -h, --help         this text\n"
    "Exit: 0 ok, 1 failure (also when the stream carries an ERROR message), 2 usage.\n";

static mr_status convert(int fd, const char *what, const char *out, bool quiet, long *nimages)
{
    mr_status st = MR_OK;
    struct mr_mrd_reader r;
    struct mr_mrd_message m;
    struct mr_ismrmrd_writer *w = NULL;
    bool header = false;
    ISMRMRD_Waveform wav;

    mr_mrd_reader_init(&r, fd, what);
    mr_mrd_message_init(&m);
    MR_CHECK(mr_make_parent_dirs(out));
    MR_CHECK(mr_ismrmrd_writer_create(out, &w));
    for (;;) {
        MR_CHECK(mr_mrd_read(&r, &m));
        if (m.id == MR_MRD_CLOSE)
            break;
        switch (m.id) {
        case MR_MRD_HEADER:
            if (header) {
                st = MR_FAIL(MR_ERR_FORMAT, "%s: a second HEADER message", what);
                goto out;
            }
            MR_CHECK(mr_ismrmrd_writer_header(w, m.text));
            header = true;
            break;
        case MR_MRD_ACQUISITION: MR_CHECK(mr_ismrmrd_writer_acquisition(w, &m.acq)); break;
        case MR_MRD_WAVEFORM:
            wav.head = m.waveform;
            wav.data = m.waveform_data;
            MR_CHECK(mr_ismrmrd_writer_waveform(w, &wav));
            break;
        case MR_MRD_IMAGE: {
            char group[32];
            snprintf(group, sizeof(group), "image_%u", m.image.head.image_series_index);
            MR_CHECK(mr_ismrmrd_writer_image(w, group, &m.image));
            (*nimages)++;
            break;
        }
        case MR_MRD_TEXT:
            if (!quiet)
                fprintf(stderr, "mrirecon from-stream: %s says: %s\n", what, m.text);
            break;
        case MR_MRD_ERROR:
            st = MR_FAIL(MR_ERR_DATA, "%s: the stream reports an error: %s", what, m.text);
            goto out;
        default: /* configuration messages are not part of a file */
            break;
        }
    }
    st = mr_ismrmrd_writer_commit(w);
    w = NULL;
out:
    mr_ismrmrd_writer_free(w);
    mr_mrd_message_cleanup(&m);
    return st;
}

int mr_main_from_stream(int argc, char *argv[])
{
    static const struct option opts[] = {
        { "input", required_argument, NULL, 'i' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *input = NULL;
    bool quiet = false;
    int c;
    int fd = 0;
    long nimages = 0;

    mr_cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "i:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': input = optarg; break;
        case 'q': quiet = true; break;
        case 'h': fputs(help, stdout); return 0;
        default: return mr_cli_unknown_option("from-stream", argv[optind - 1], help);
        }
    }
    if (argc - optind != 1) {
        fputs(help, stderr);
        return 2;
    }
    if (input != NULL && (fd = open(input, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "mrirecon from-stream: cannot open '%s': %s\n", input, strerror(errno));
        return 1;
    }
    mr_status st = convert(fd, input != NULL ? input : "stdin", argv[optind], quiet, &nimages);
    if (fd != 0)
        close(fd);
    if (st != MR_OK) {
        fprintf(stderr, "mrirecon from-stream: %s\n", mr_last_error());
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "mrirecon from-stream: wrote '%s' (%ld image(s))\n", argv[optind],
                nimages);
    return 0;
}
