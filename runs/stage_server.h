/*
 * The stage as a TCP server of MRD streams (behind Gadgetron as an external node, or for
 * gadgetron_ismrmrd_client), built so that no client can starve another:
 *
 *   - one I/O thread reads every connection without blocking (poll), and a message reaches a
 *     session (runs/stage_session.h) only once it has arrived whole; reconstruction runs on
 *     `workers` threads that take whole messages of any connection, so a stalled, slow or
 *     idle connection holds neither a worker nor the I/O thread;
 *   - deadlines per message, not per byte: a message must arrive completely within
 *     message_timeout_s of its first byte (plus 1 s per MiB above 1 MiB), and a connection
 *     must begin a message within idle_timeout_s of the last one, whatever trickle of bytes it
 *     sends;
 *   - caps: a message over the MRD limits (io/mrd.h) or a config/header text over
 *     max_text_bytes is refused as soon as its length is known; at most queue_bytes of whole
 *     messages wait per connection (reading from it pauses until they are processed); at most
 *     max_open connections at once — one more gets an ERROR message ("busy") and is closed;
 *   - images are written with a socket timeout of write_timeout_s: a client that stops reading
 *     its images holds its worker for at most that long, then is dropped.
 * Every refusal is an MRD ERROR message naming the reason, then CLOSE, then the socket is
 * closed; the server keeps serving. SIGPIPE must be ignored by the caller (a vanished peer is
 * then an error return, never a crash).
 */
#ifndef MR_RUNS_STAGE_SERVER_H
#define MR_RUNS_STAGE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runs/stage_session.h"

struct mr_stage_server_config {
    struct mr_stage_session_config session;
    int port;                 /* 0: any free port */
    bool bind_any;            /* false: 127.0.0.1 only */
    int workers;              /* sessions reconstructing at once (>= 1) */
    int max_open;             /* connections open at once (>= 1) */
    long max_connections;     /* stop after serving this many (<= 0: forever) */
    double idle_timeout_s;    /* no new message for this long: dropped */
    double message_timeout_s; /* a message must complete within this (+ 1 s per MiB > 1 MiB) */
    double write_timeout_s;   /* a blocked image write fails after this */
    size_t max_text_bytes;    /* CONFIG_TEXT / HEADER / TEXT / ERROR payload cap */
    size_t queue_bytes;       /* whole messages waiting per connection before reads pause */
    const char *port_file;    /* write the listening port here (atomically) once listening */
    /* called once listening (may be NULL) */
    void (*listening)(void *arg, int port);
    void *listening_arg;
};
/* port 0 on 127.0.0.1, 1 worker, 64 connections, forever, idle 60 s, message 30 s, write
 * 60 s, texts 16 MiB, 256 MiB queued per connection */
extern const struct mr_stage_server_config mr_stage_server_config_default;

/* Serves until max_connections have been served (forever when <= 0). Errors: MR_ERR_IO (cannot
 * listen, the port file), MR_ERR_NOMEM; a session's errors are sent to its peer and logged
 * (unless quiet), never returned. */
mr_status mr_stage_server_run(const struct mr_stage_server_config *cfg);

#endif
