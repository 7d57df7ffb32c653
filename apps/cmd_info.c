/*
 * mrirecon info: what a file holds — a fastMRI k-space file (shapes, header matrices, mask,
 * attributes), a weight file (architecture, config, tensors) or an ISMRMRD dataset
 * (header summary, acquisitions), detected by content.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "io/fastmri.h"
#include "io/h5.h"
#include "io/ismrmrd.h"
#include "io/ismrmrd_header.h"
#include "weights/weights.h"

int mr_main_info(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon info [--max-memory SIZE] FILE.h5 ...\n"
    "Describe a fastMRI-layout k-space file, a weight file or an ISMRMRD dataset.\n"
    "\n"
    MR_CLI_MAX_MEMORY_HELP
    "  -h, --help           this text\n"
    "Exit: 0 ok, 1 failure (unreadable or malformed file), 2 usage.\n";

static void print_header(const struct mr_ismrmrd_header *h)
{
    printf("  encoded matrix   %lld x %lld x %lld (FOV %.1f x %.1f x %.1f mm)\n",
           (long long)h->enc_matrix[0], (long long)h->enc_matrix[1], (long long)h->enc_matrix[2],
           h->enc_fov_mm[0], h->enc_fov_mm[1], h->enc_fov_mm[2]);
    printf("  recon matrix     %lld x %lld x %lld (FOV %.1f x %.1f x %.1f mm)\n",
           (long long)h->recon_matrix[0], (long long)h->recon_matrix[1],
           (long long)h->recon_matrix[2], h->recon_fov_mm[0], h->recon_fov_mm[1],
           h->recon_fov_mm[2]);
    printf("  step-1 limits    %lld..%lld, centre %lld\n",
           (long long)h->kspace_encoding_step_1.minimum,
           (long long)h->kspace_encoding_step_1.maximum,
           (long long)h->kspace_encoding_step_1.center);
    if (h->trajectory[0] != '\0')
        printf("  trajectory       %s\n", h->trajectory);
    if (h->receiver_channels > 0)
        printf("  receiver coils   %lld\n", (long long)h->receiver_channels);
    printf("  acceleration     %lld x %lld\n", (long long)h->accel[0], (long long)h->accel[1]);
}

static mr_status info_fastmri(const char *path)
{
    mr_status st = MR_OK;
    struct mr_fastmri *f = NULL;
    struct mr_array mask = { 0 };

    MR_CHECK(mr_fastmri_open(path, &f));
    const struct mr_fastmri_info *i = mr_fastmri_info(f);
    printf("%s: fastMRI %s k-space\n", path, i->single_coil ? "single-coil" : "multi-coil");
    printf("  kspace           %lld slices x %lld coils x %lld x %lld (complex64)\n",
           (long long)i->slices, (long long)i->coils, (long long)i->h, (long long)i->w);
    if (i->has_mask) {
        MR_CHECK(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, i->h, i->w));
        MR_CHECK(mr_fastmri_read_mask(f, &mask));
        double sum = 0.0;
        for (int64_t k = 0; k < i->h * i->w; k++)
            sum += mr_array_f32(&mask)[k] != 0.0f ? 1.0 : 0.0;
        printf("  mask             %s, %.1f %% sampled (acceleration %.2f)\n",
               i->mask_ndim == 1 ? "1-D columns" : "2-D", 100.0 * sum / (double)(i->h * i->w),
               sum > 0.0 ? (double)(i->h * i->w) / sum : 0.0);
    } else {
        printf("  mask             none stored\n");
    }
    printf("  sensitivity_map  %s\n", i->has_sens ? "yes" : "no");
    if (i->has_target)
        printf("  target           %s %lld x %lld x %lld\n", i->target_name,
               (long long)i->target_dims[0], (long long)i->target_dims[1],
               (long long)i->target_dims[2]);
    if (i->has_header) {
        printf("  ismrmrd_header:\n");
        print_header(&i->hdr);
        printf("  fastMRI padding  left %lld, right %lld\n", (long long)i->padding_left,
               (long long)i->padding_right);
    }
    if (i->acquisition[0] != '\0')
        printf("  acquisition      %s\n", i->acquisition);
    if (i->patient_id[0] != '\0')
        printf("  patient_id       %s\n", i->patient_id);
    if (i->has_max)
        printf("  max              %g\n", i->max);
    if (i->has_norm)
        printf("  norm             %g\n", i->norm);
out:
    mr_array_cleanup(&mask);
    mr_fastmri_close(f);
    return st;
}

static mr_status info_weights(const char *path)
{
    struct mr_weights *ws = NULL;
    mr_status st = mr_weights_load(path, &ws);
    if (st != MR_OK)
        return st;
    printf("%s: weight file\n", path);
    printf("  architecture     %s\n", mr_weights_architecture_raw(ws));
    printf("  config           %s\n", mr_weights_config_json(ws));
    printf("  tensors          %zu (%lld parameters)\n", mr_weights_count(ws),
           (long long)mr_weights_numel(ws));
    mr_weights_free(ws);
    return MR_OK;
}

static mr_status info_ismrmrd(const char *path)
{
    mr_status st = MR_OK;
    struct mr_ismrmrd_file *f = NULL;
    struct mr_ismrmrd_header hdr;
    size_t len = 0;

    MR_CHECK(mr_ismrmrd_open(path, &f));
    printf("%s: ISMRMRD dataset\n", path);
    const char *xml = mr_ismrmrd_xml(f, &len);
    if (len > 0) {
        MR_CHECK(mr_ismrmrd_header_parse(xml, len, path, &hdr));
        print_header(&hdr);
    }
    printf("  acquisitions     %u\n", mr_ismrmrd_acquisition_count(f));
    printf("  waveforms        %u\n", mr_ismrmrd_waveform_count(f));
out:
    mr_ismrmrd_close(f);
    return st;
}

static mr_status info(const char *path)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;

    MR_CHECK(mr_h5_open(path, &h));
    if (mr_h5_has_attr(h, "/", "architecture") && mr_h5_exists(h, "/weights")) {
        mr_h5_close(h);
        h = NULL;
        st = info_weights(path);
    } else if (mr_h5_exists(h, "/dataset")) {
        mr_h5_close(h);
        h = NULL;
        st = info_ismrmrd(path);
    } else if (mr_h5_exists(h, "/kspace")) {
        mr_h5_close(h);
        h = NULL;
        st = info_fastmri(path);
    } else {
        st = MR_FAIL(MR_ERR_FORMAT,
                     "'%s' is neither a fastMRI file (no /kspace), an ISMRMRD dataset (no "
                     "/dataset) nor a weight file (no 'architecture' attribute and /weights)",
                     path);
    }
out:
    mr_h5_close(h);
    return st;
}

int mr_main_info(int argc, char *argv[])
{
    static const struct option opts[] = {
        MR_CLI_MAX_MEMORY_OPTION,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    mr_cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(help, stdout);
            return 0;
        }
        if (c == MR_CLI_OPT_MAX_MEMORY && mr_cli_max_memory("info", optarg))
            continue;
        if (c != MR_CLI_OPT_MAX_MEMORY)
            fputs(help, stderr);
        return 2;
    }
    if (argc - optind < 1) {
        fputs(help, stderr);
        return 2;
    }
    int rc = 0;
    for (int i = optind; i < argc; i++)
        if (info(argv[i]) != MR_OK) {
            fprintf(stderr, "mrirecon info: %s\n", mr_last_error());
            rc = 1;
        }
    return rc;
}
