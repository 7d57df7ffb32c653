/*
 * One MRD stream session of the reconstruction stage (specs/ismrmrd.md §2.3, §2.4): messages
 * in, images (1022) and a final CLOSE (4) out.
 *
 * A session: optional CONFIG_FILE (1) / CONFIG_TEXT (2), HEADER (3), then ACQUISITION (1008),
 * WAVEFORM (1026, ignored) and TEXT (5, logged) messages, then CLOSE (4). Anything else — an
 * unknown or unexpected id, a truncated message, an acquisition that does not fit the header,
 * a header that does not parse, data before the header, config after it, an ERROR from the
 * peer, a stream that gave no image — ends the session with an ERROR (8) message carrying the
 * reason, then CLOSE.
 *
 * Messages come one at a time (mr_stage_session_handle), so the same session runs behind a
 * blocking pipe (mr_stage_session_serve_fd) and behind the non-blocking TCP server
 * (runs/stage_server.h), which hands it whole messages only.
 */
#ifndef MR_RUNS_STAGE_SESSION_H
#define MR_RUNS_STAGE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/mrd.h"
#include "pipeline/output.h"
#include "pipeline/stage.h"

struct mr_stage_session_config {
    struct mr_stage_config stage; /* defaults of every session (a stream's config overrides) */
    const char *config_text;      /* applied before the stream's own config; NULL none */
    bool quiet;                   /* no log lines on stderr */
    /* DICOM besides the image stream: NULL none; else, at a clean CLOSE, the session's images
     * as one DICOM series folder <dicom_dir>/<Series Instance UID> (pipeline/output.h
     * mr_output_write_dicom: one intensity scaling per series, identity from the stream's
     * header, the folder appears whole), then stored on dicom.send when set */
    const char *dicom_dir;
    struct mr_output_dicom dicom;
};

struct mr_stage_session;

/* A session that writes its images to out_fd (borrowed). what names the peer in messages.
 * Errors: MR_ERR_NOMEM, MR_ERR_ARG (config_text). */
mr_status mr_stage_session_create(const struct mr_stage_session_config *cfg, int out_fd,
                                  const char *what, struct mr_stage_session **out);
void mr_stage_session_free(struct mr_stage_session *s);

/* One message. On CLOSE the stage reconstructs what is open, CLOSE is written back and the
 * session is finished. Errors end the session (the caller then calls mr_stage_session_fail). */
mr_status mr_stage_session_handle(struct mr_stage_session *s, const struct mr_mrd_message *m);

/* Ends a session that failed with the current error: sends ERROR + CLOSE (best effort: the
 * peer may be gone) and keeps the session's error as the thread's last error (the caller
 * reports it). */
void mr_stage_session_fail(struct mr_stage_session *s, mr_status st);

/* Whether the session has finished (CLOSE handled). */
bool mr_stage_session_done(const struct mr_stage_session *s);

/* Open slices still waiting for their last line (for "stream ended mid-slice" messages). */
int mr_stage_session_open_slices(const struct mr_stage_session *s);

/* Serves a whole stream read from in_fd with blocking reads (stdin, a file, a pipe).
 * Returns the session's error (already sent to the peer), MR_OK after a clean CLOSE. */
mr_status mr_stage_session_serve_fd(const struct mr_stage_session_config *cfg, int in_fd,
                                    int out_fd, const char *what);

#endif
