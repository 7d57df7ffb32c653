/*
 * mrirecon recon: reconstruct every slice of a fastMRI-layout file or an ISMRMRD raw dataset with
 * any method of the pipeline's table and write the images (pipeline/volume.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli_common.h"
#include "apps/cli_settings.h"
#include "apps/commands.h"
#include "io/dicom.h"
#include "io/ismrmrd.h"
#include "pipeline/output.h"
#include "pipeline/volume.h"
#include "recon/clock.h"

int mr_main_recon(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon recon [options] IN.h5 OUT.{h5,png,nii}\n"
    "       mrirecon recon [options] --format dicom IN.h5 OUT_DIR [--send HOST:PORT:AET]\n"
    "Reconstruct every slice of a fastMRI-layout multi-coil file or an ISMRMRD raw dataset\n"
    "(detected by content; ISMRMRD output .h5 holds ISMRMRD images).\n"
    "\n"
    "  -m, --method M       a method of the table below (default cs); model and pnp-lpn take\n"
    "                       a network weight file (--weights; README \"Networks\" gives each\n"
    "                       architecture's pre- and post-processing)\n"
    "  -w, --weights W.h5   weight file for model / pnp-lpn (alone it implies model)\n"
    "      --maps SRC       coil maps for the methods that use them: espirit (default), acs\n"
    "                       (low-resolution calibration images over their RSS), file (the\n"
    "                       input's sensitivity_map)\n"
    "      --mask FILE.npy  undersample retrospectively: a length-W column mask or an HxW mask\n"
    "                       (nonzero = keep); otherwise the file's own mask (or the sampled\n"
    "                       positions of its k-space) is used\n"
    "  -i, --iters N        iterations of cg / cs / pnp-lpn (default 30 / 50 / 20)\n"
    "  -l, --lambda L       regularisation weight, relative to the data (cg default 0.01,\n"
    "                       cs default 0.01; see README)\n"
    "      --espirit-crop C ESPIRiT eigenvalue crop in [0,1) (default 0: uncropped maps)\n"
    "      --slices A:B     reconstruct slices A..B-1 only (fastMRI files)\n"
    "      --no-crop        keep the full image (default: crop to the header's recon matrix)\n"
    "      --format F       h5, png, nii (default: by OUT's extension) or dicom: OUT_DIR is\n"
    "                       a folder of DICOM MR images, IM00001.dcm ... (README \"DICOM\")\n"
    "      --send H:P:AET   dicom: then store the series on the PACS AET at host H, port P\n"
    "      --calling-aet A  dicom: our AE title towards the PACS (default MRIRECON)\n"
    "      --reproducible-uids  dicom: UIDs derived from IN's path, the method and the\n"
    "                       slice (the same run gives the same UIDs); default: unique UIDs\n"
    "      --report R.json  the trust report of every slice (README \"Can this image be\n"
    "                       trusted?\"): data-consistency residual per cascade / step,\n"
    "                       unsampled k-space energy, out-of-distribution score and flag\n"
    "      --report-cg      also compare with a CG-SENSE reconstruction (costs one CG)\n"
    "      --fail-on-flag   exit 3 when any slice is flagged (images and report are written)\n"
    "  -q, --quiet          no progress on stderr\n"
    MR_CLI_MAX_MEMORY_HELP
    MR_CLI_PLAN_HELP
    "  -h, --help           this text\n"
    "\n"
    "OUT by extension: .h5 (fastMRI 'reconstruction' float32 (slices, H, W)), .png (windowed\n"
    "magnitude, slices tiled), .nii (NIfTI-1 float32).\n"
    "Exit: 0 ok, 1 failure, 2 usage, 3 a slice flagged (with --fail-on-flag).\n";

/* help, then the method table */
static void usage(FILE *f)
{
    const struct mr_method_ops *ops;
    fputs(help, f);
    fputs("\nmethods:\n", f);
    for (size_t i = 0; (ops = mr_method_at(i)) != NULL; i++)
        fprintf(f, "  %-9s %s\n", ops->name, ops->summary != NULL ? ops->summary : "");
}

static void progress(void *arg, const char *label, int64_t done, int64_t total, double seconds)
{
    (void)arg;
    if (total > 0)
        fprintf(stderr, "mrirecon recon: slice %lld/%lld (%s) %.2f s\n", (long long)done,
                (long long)total, label, seconds);
    else
        fprintf(stderr, "mrirecon recon: image %lld (%s) %.2f s\n", (long long)done, label,
                seconds);
}

int mr_main_recon(int argc, char *argv[])
{
    static const struct option opts[] = {
        MR_CLI_VOLUME_OPTIONS,
        { "send", required_argument, NULL, 'P' },
        { "calling-aet", required_argument, NULL, 'A' },
        { "reproducible-uids", no_argument, NULL, 'U' },
        { "quiet", no_argument, NULL, 'q' },
        MR_CLI_MAX_MEMORY_OPTION,
        { "report", required_argument, NULL, 0x101 },
        { "report-cg", no_argument, NULL, 0x102 },
        { "fail-on-flag", no_argument, NULL, 0x103 },
        MR_CLI_PLAN_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct mr_volume_config cfg;
    struct mr_dicom_peer peer;
    struct mr_cli_volume v = { .cfg = &cfg };
    bool quiet = false;
    bool reproducible = false;
    bool fail_on_flag = false;
    struct mr_cli_plan plan = { NULL, NULL };
    int c;

    mr_volume_config_init(&cfg);
    mr_cli_getopt_begin();
    while ((c = mr_cli_volume_getopt("recon", argc, argv, opts, &v)) != -1) {
        mr_status st = MR_OK;
        switch (c) {
        case MR_CLI_VOLUME_USAGE: return 2;
        case 'P':
            st = mr_dicom_peer_parse(optarg, &peer);
            cfg.dicom.send = &peer;
            break;
        case 'A': cfg.dicom.calling_aet = optarg; break;
        case 'U': reproducible = true; break;
        case 'q': quiet = true; break;
        case MR_CLI_OPT_MAX_MEMORY:
            if (!mr_cli_max_memory("recon", optarg))
                return 2;
            break;
        case 0x101: cfg.report_path = optarg; break;
        case 0x102: cfg.trust.cg_reference = true; break;
        case 0x103: fail_on_flag = true; break;
        case MR_CLI_OPT_PLAN: plan.plan = optarg; break;
        case MR_CLI_OPT_WISDOM: plan.wisdom = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "mrirecon recon: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        if (st != MR_OK) {
            fprintf(stderr, "mrirecon recon: %s\n", mr_last_error());
            return 2;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return 2;
    }
    if (!mr_cli_volume_finish("recon", &v))
        return 2;
    if (!quiet)
        cfg.progress = progress;
    const char *in = argv[optind];
    const char *out = argv[optind + 1];
    if (mr_output_check_name(out, cfg.format) != MR_OK) {
        fprintf(stderr, "mrirecon recon: %s\n", mr_last_error());
        return 2;
    }
    if (cfg.format != MR_OUTPUT_DICOM &&
        (cfg.dicom.send != NULL || cfg.dicom.calling_aet != NULL || reproducible)) {
        fprintf(stderr, "mrirecon recon: --send, --calling-aet and --reproducible-uids go with "
                "--format dicom\n");
        return 2;
    }
    if (cfg.dicom.calling_aet != NULL && !mr_dicom_aet_valid(cfg.dicom.calling_aet)) {
        fprintf(stderr, "mrirecon recon: --calling-aet '%s' must be 1 to 16 characters, no "
                "backslash or control character, not only spaces\n", cfg.dicom.calling_aet);
        return 2;
    }
    if (reproducible)
        cfg.dicom.uid_seed = in;
    bool is_ismrmrd = false;
    if (mr_ismrmrd_probe(in, &is_ismrmrd) == MR_OK && is_ismrmrd &&
        (cfg.mask_path != NULL || cfg.slice0 >= 0 || cfg.method.maps == MR_MAPS_FILE)) {
        fprintf(stderr, "mrirecon recon: --mask, --slices and --maps file apply to fastMRI "
                "files only, not to the ISMRMRD raw data '%s'\n", in);
        return 2;
    }
    if (!mr_cli_settings_begin("recon", &plan))
        return 2;
    struct mr_volume_result res;
    double t = mr_clock_now_s();
    mr_status st = mr_volume_reconstruct(&cfg, in, out, &res);
    if (st != MR_OK) {
        fprintf(stderr, "mrirecon recon: %s\n", mr_last_error());
        return 1;
    }
    if (!mr_cli_settings_end("recon", &plan))
        return 1;
    if (!quiet) {
        fprintf(stderr, "mrirecon recon: wrote '%s' (%lld images, %s, %.2f s)\n", out,
                (long long)res.images, res.label, mr_clock_now_s() - t);
        if (cfg.dicom.send != NULL)
            fprintf(stderr, "mrirecon recon: stored the series on %s@%s:%d\n", peer.called_aet,
                    peer.host, peer.port);
    }
    if (res.flagged > 0) { /* said even with --quiet: the image may not be trustworthy */
        fprintf(stderr, "mrirecon recon: %lld of %lld images flagged by the trust report "
                "(first: %s)\n", (long long)res.flagged, (long long)res.images, res.flag);
        if (fail_on_flag)
            return 3;
    }
    return 0;
}
