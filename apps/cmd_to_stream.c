/*
 * mrirecon to-stream: an ISMRMRD file as an MRD message stream (specs/ismrmrd.md §2.3), what
 * ISMRMRD >= 1.12's ismrmrd_hdf5_to_stream emits: optional config, the XML header, the
 * acquisitions and waveforms interleaved by time stamp, and CLOSE.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "io/atomic_file.h"
#include "io/ismrmrd.h"
#include "io/mrd.h"

int mr_main_to_stream(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon to-stream [options] IN.h5\n"
    "Write an ISMRMRD file as an MRD / Gadgetron message stream on standard output.\n"
    "\n"
    "  -c, --config TEXT      send TEXT as a config text message (id 2) first\n"
    "  -C, --config-file NAME send NAME as a config file message (id 1) first\n"
    "  -o, --output FILE      write to FILE instead of standard output\n"
    "  -h, --help             this text\n"
    "Exit: 0 ok, 1 failure, 2 usage.\n";

static mr_status stream_file(const char *in, int fd, const char *config_text,
                             const char *config_file)
{
    mr_status st = MR_OK;
    struct mr_ismrmrd_file *f = NULL;
    ISMRMRD_Acquisition acq;
    ISMRMRD_Waveform wav;

    ismrmrd_init_acquisition(&acq);
    ismrmrd_init_waveform(&wav);
    MR_CHECK(mr_ismrmrd_open(in, &f));
    size_t len = 0;
    const char *xml = NULL;
    MR_CHECK(mr_ismrmrd_require_xml(f, &xml, &len));
    if (config_file != NULL)
        MR_CHECK(mr_mrd_write_config_file(fd, config_file));
    if (config_text != NULL)
        MR_CHECK(mr_mrd_write_text_message(fd, MR_MRD_CONFIG_TEXT, config_text,
                                           strlen(config_text)));
    MR_CHECK(mr_mrd_write_text_message(fd, MR_MRD_HEADER, xml, len));

    const uint32_t na = mr_ismrmrd_acquisition_count(f);
    const uint32_t nw = mr_ismrmrd_waveform_count(f);
    uint32_t ia = 0;
    uint32_t iw = 0;
    bool have_a = false;
    bool have_w = false;
    while (ia < na || iw < nw || have_a || have_w) {
        if (!have_a && ia < na) {
            MR_CHECK(mr_ismrmrd_read_acquisition(f, ia++, &acq));
            have_a = true;
        }
        if (!have_w && iw < nw) {
            MR_CHECK(mr_ismrmrd_read_waveform(f, iw++, &wav));
            have_w = true;
        }
        /* the earlier time stamp first; acquisitions win ties */
        if (have_a && (!have_w || acq.head.acquisition_time_stamp <= wav.head.time_stamp)) {
            MR_CHECK(mr_mrd_write_acquisition(fd, &acq));
            have_a = false;
        } else {
            MR_CHECK(mr_mrd_write_waveform(fd, &wav.head, wav.data));
            have_w = false;
        }
    }
    MR_CHECK(mr_mrd_write_close(fd));
out:
    mr_ismrmrd_close(f);
    ismrmrd_cleanup_acquisition(&acq);
    free(wav.data);
    return st;
}

int mr_main_to_stream(int argc, char *argv[])
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "config-file", required_argument, NULL, 'C' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *config_text = NULL;
    const char *config_file = NULL;
    const char *output = NULL;
    int c;
    int fd = 1;

    mr_cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "c:C:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_text = optarg; break;
        case 'C': config_file = optarg; break;
        case 'o': output = optarg; break;
        case 'h': fputs(help, stdout); return 0;
        default: return mr_cli_unknown_option("to-stream", argv[optind - 1], help);
        }
    }
    if (argc - optind != 1) {
        fputs(help, stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* a file output appears only when complete (io/atomic_file.h), never over the input */
    struct mr_atomic_file af = { 0 };
    mr_status st = MR_OK;
    if (output != NULL && mr_same_file(output, argv[optind]))
        st = MR_FAIL(MR_ERR_ARG, "the output '%s' is the input file", output);
    else if (output != NULL && (st = mr_atomic_file_open(&af, output)) == MR_OK)
        fd = af.fd;
    if (st == MR_OK)
        st = stream_file(argv[optind], fd, config_text, config_file);
    if (output != NULL && st == MR_OK)
        st = mr_atomic_file_commit(&af);
    mr_atomic_file_abort(&af);
    if (st != MR_OK) {
        fprintf(stderr, "mrirecon to-stream: %s\n", mr_last_error());
        return 1;
    }
    return 0;
}
