/*
 * The stage's TCP server (see stage_server.h): one I/O thread polls the listening socket and
 * every connection, cuts the byte streams into whole MRD messages (io/mrd.h framing) and
 * queues them per connection; worker threads take connections with queued messages and run
 * their sessions. Shared state (connection list, queues, flags) is under one mutex; workers
 * wake the I/O thread through a pipe when they finish with a connection.
 */
#include "runs/stage_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "recon/clock.h"

const struct mr_stage_server_config mr_stage_server_config_default = {
    .port = 0,
    .bind_any = false,
    .workers = 1,
    .max_open = 64,
    .max_connections = 0,
    .idle_timeout_s = 60.0,
    .message_timeout_s = 30.0,
    .write_timeout_s = 60.0,
    .max_text_bytes = (size_t)16 << 20,
    .queue_bytes = (size_t)256 << 20,
};

#define READ_CHUNK ((size_t)1 << 16)

/* A whole message waiting for a worker, or (data NULL) the end of the connection's input with
 * the reason in err (empty: a clean end of stream). */
struct qmsg {
    struct qmsg *next;
    uint8_t *data;
    size_t len;
    mr_status st;
    char err[512];
};

struct conn {
    struct conn *next;       /* all connections */
    struct conn *next_ready; /* connections with messages and no worker */
    int fd;
    char what[64];
    /* I/O thread only */
    uint8_t *buf; /* the message being read */
    size_t len;
    size_t cap;
    uint64_t need;       /* its whole size, 0 while not yet known */
    double msg_start;    /* when its first byte came */
    double last_message; /* when the last whole message came (or the connection opened) */
    bool reading;        /* false after EOF, an error or a deadline: no more reads */
    double idle_since;   /* under the lock: when a worker last finished with it */
    /* under the lock */
    struct qmsg *head;
    struct qmsg *tail;
    size_t queued;
    bool busy;     /* a worker runs its session */
    bool ready;    /* in the ready list */
    bool finished; /* session over: close when not busy */
    struct mr_stage_session *session; /* worker's (one at a time) */
};

struct server {
    const struct mr_stage_server_config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct conn *conns;
    int nconns;
    struct conn *ready_head;
    struct conn *ready_tail;
    bool stop;
    int wake[2]; /* workers → I/O thread */
};

/* ---- queues (under the lock) ------------------------------------------------------------- */

static void make_ready(struct server *S, struct conn *c)
{
    if (c->busy || c->ready || c->head == NULL)
        return;
    c->ready = true;
    c->next_ready = NULL;
    if (S->ready_tail != NULL)
        S->ready_tail->next_ready = c;
    else
        S->ready_head = c;
    S->ready_tail = c;
    pthread_cond_signal(&S->cond);
}

static void enqueue(struct server *S, struct conn *c, struct qmsg *q)
{
    q->next = NULL;
    if (c->tail != NULL)
        c->tail->next = q;
    else
        c->head = q;
    c->tail = q;
    c->queued += q->len;
    make_ready(S, c);
}

static void free_queue(struct conn *c)
{
    struct qmsg *q = c->head;
    while (q != NULL) {
        struct qmsg *n = q->next;
        free(q->data);
        free(q);
        q = n;
    }
    c->head = NULL;
    c->tail = NULL;
    c->queued = 0;
}

/* The end of c's input: reason st / message (MR_OK: a clean end of stream). I/O thread. */
static void end_input(struct server *S, struct conn *c, mr_status st, const char *msg)
{
    struct qmsg *q = calloc(1, sizeof(*q));
    c->reading = false;
    if (q == NULL) { /* cannot even say why: drop the connection */
        pthread_mutex_lock(&S->lock);
        c->finished = true;
        pthread_mutex_unlock(&S->lock);
        return;
    }
    q->st = st;
    snprintf(q->err, sizeof(q->err), "%s", msg != NULL ? msg : "");
    pthread_mutex_lock(&S->lock);
    if (!c->finished)
        enqueue(S, c, q);
    else
        free(q);
    pthread_mutex_unlock(&S->lock);
}

/* ---- workers ----------------------------------------------------------------------------- */

static void wake_io(struct server *S)
{
    const char b = 1;
    ssize_t k = write(S->wake[1], &b, 1); /* a full pipe is fine: the I/O thread will look */
    (void)k;
}

/* One message (or the end of input) through c's session. Returns false when the session is
 * over. */
static bool run_message(struct server *S, struct conn *c, struct qmsg *q,
                        struct mr_mrd_message *m)
{
    const struct mr_stage_server_config *cfg = S->cfg;
    mr_status st = MR_OK;

    if (c->session == NULL) {
        st = mr_stage_session_create(&cfg->session, c->fd, c->what, &c->session);
        if (st != MR_OK) {
            if (!cfg->session.quiet)
                fprintf(stderr, "mrirecon stage: %s: %s\n", c->what, mr_last_error());
            return false;
        }
    }
    if (q->data == NULL) { /* end of input */
        if (mr_stage_session_done(c->session))
            return false;
        if (q->st == MR_OK) {
            st = MR_FAIL(MR_ERR_IO, "%s: the stream ended without a CLOSE message", c->what);
            if (mr_stage_session_open_slices(c->session) > 0)
                mr_fail_context(st, "%d slice(s) incomplete",
                                mr_stage_session_open_slices(c->session));
        } else {
            st = MR_FAIL(q->st, "%s", q->err);
        }
    } else {
        st = mr_mrd_decode(q->data, q->len, c->what, m);
        if (st == MR_OK)
            st = mr_stage_session_handle(c->session, m);
    }
    if (st != MR_OK) {
        mr_stage_session_fail(c->session, st);
        if (!cfg->session.quiet)
            fprintf(stderr, "mrirecon stage: %s\n", mr_last_error());
        return false;
    }
    return !mr_stage_session_done(c->session);
}

static void *worker_main(void *arg)
{
    struct server *S = arg;
    struct mr_mrd_message m;

    mr_mrd_message_init(&m);
    pthread_mutex_lock(&S->lock);
    for (;;) {
        while (S->ready_head == NULL && !S->stop)
            pthread_cond_wait(&S->cond, &S->lock);
        if (S->stop)
            break;
        struct conn *c = S->ready_head;
        S->ready_head = c->next_ready;
        if (S->ready_head == NULL)
            S->ready_tail = NULL;
        c->ready = false;
        c->busy = true;
        while (c->head != NULL && !c->finished) {
            struct qmsg *q = c->head;
            c->head = q->next;
            if (c->head == NULL)
                c->tail = NULL;
            c->queued -= q->len;
            pthread_mutex_unlock(&S->lock);
            bool more = run_message(S, c, q, &m);
            free(q->data);
            free(q);
            pthread_mutex_lock(&S->lock);
            if (!more) {
                c->finished = true;
                free_queue(c);
            }
        }
        c->busy = false;
        c->idle_since = mr_clock_now_s();
        wake_io(S); /* close a finished connection, resume reading a paused one */
    }
    pthread_mutex_unlock(&S->lock);
    mr_mrd_message_cleanup(&m);
    return NULL;
}

/* ---- the I/O thread ---------------------------------------------------------------------- */

static void conn_free(struct conn *c)
{
    mr_stage_session_free(c->session);
    free_queue(c);
    free(c->buf);
    if (c->fd >= 0) {
        shutdown(c->fd, SHUT_WR);
        close(c->fd);
    }
    free(c);
}

/* Best-effort ERROR + CLOSE without blocking (for connections that never get a session). */
static void refuse(int fd, const char *why)
{
    uint8_t msg[600];
    const size_t n = strlen(why) < 512 ? strlen(why) : 512;
    const uint16_t id = MR_MRD_ERROR;
    const uint64_t len = n;
    const uint16_t close_id = MR_MRD_CLOSE;
    memcpy(msg, &id, 2);
    memcpy(msg + 2, &len, 8);
    memcpy(msg + 10, why, n);
    memcpy(msg + 10 + n, &close_id, 2);
    ssize_t k = send(fd, msg, 12 + n, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)k;
}

static void accept_one(struct server *S, int lfd)
{
    const struct mr_stage_server_config *cfg = S->cfg;
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    int fd = accept(lfd, (struct sockaddr *)&peer, &plen);
    if (fd < 0)
        return; /* EINTR, ECONNABORTED, EMFILE: try again at the next poll */
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    char what[64];
    snprintf(what, sizeof(what), "%s:%u", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
    if (S->nconns >= cfg->max_open) {
        refuse(fd, "mrirecon stage: busy: too many connections open, try again later");
        if (!cfg->session.quiet)
            fprintf(stderr, "mrirecon stage: %s: refused, %d connections open\n", what,
                    S->nconns);
        close(fd);
        return;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        refuse(fd, "mrirecon stage: out of memory");
        close(fd);
        return;
    }
    const int ms = (int)(cfg->write_timeout_s * 1000.0);
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    c->fd = fd;
    snprintf(c->what, sizeof(c->what), "%s", what);
    c->reading = true;
    c->last_message = mr_clock_now_s();
    pthread_mutex_lock(&S->lock);
    c->next = S->conns;
    S->conns = c;
    S->nconns++;
    pthread_mutex_unlock(&S->lock);
}

/* When c must have sent more (under the lock): a message begun must complete in time; a
 * connection with nothing begun, queued or being processed must begin one in time. */
static double deadline(const struct server *S, const struct conn *c)
{
    const struct mr_stage_server_config *cfg = S->cfg;
    if (c->len > 0) {
        double mib = (double)c->need / (double)(1 << 20);
        return c->msg_start + cfg->message_timeout_s + (mib > 1.0 ? mib - 1.0 : 0.0);
    }
    if (c->busy || c->head != NULL)
        return INFINITY;
    double since = c->last_message > c->idle_since ? c->last_message : c->idle_since;
    return since + cfg->idle_timeout_s;
}

/* Moves the first c->need bytes of c->buf, a whole message, to c's queue. */
static bool queue_message(struct server *S, struct conn *c)
{
    const size_t rest = c->len - (size_t)c->need;
    struct qmsg *q = calloc(1, sizeof(*q));
    uint8_t *next = rest > 0 ? malloc(rest + READ_CHUNK) : NULL;
    if (q == NULL || (rest > 0 && next == NULL)) {
        free(q);
        free(next);
        end_input(S, c, MR_ERR_NOMEM, "out of memory for a message");
        return false;
    }
    if (rest > 0)
        memcpy(next, c->buf + c->need, rest);
    q->data = c->buf;
    q->len = (size_t)c->need;
    c->buf = next;
    c->len = rest;
    c->cap = rest > 0 ? rest + READ_CHUNK : 0;
    c->need = 0;
    c->last_message = mr_clock_now_s();
    c->msg_start = c->last_message;
    pthread_mutex_lock(&S->lock);
    enqueue(S, c, q);
    pthread_mutex_unlock(&S->lock);
    return true;
}

/* Reads what is there from c and queues the whole messages. */
static void read_conn(struct server *S, struct conn *c)
{
    const struct mr_stage_server_config *cfg = S->cfg;
    for (int rounds = 0; rounds < 16 && c->reading; rounds++) {
        if (c->cap - c->len < READ_CHUNK) {
            size_t cap = c->cap + READ_CHUNK;
            if (c->need > cap)
                cap = (size_t)c->need;
            uint8_t *b = realloc(c->buf, cap);
            if (b == NULL) {
                end_input(S, c, MR_ERR_NOMEM, "out of memory for a message");
                return;
            }
            c->buf = b;
            c->cap = cap;
        }
        size_t want = c->cap - c->len;
        ssize_t k = recv(c->fd, c->buf + c->len, want, MSG_DONTWAIT);
        /* (a stream of small messages is read a chunk at a time: want covers several) */
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (k < 0) {
            char msg[256];
            snprintf(msg, sizeof(msg), "%s: read error: %s", c->what, strerror(errno));
            end_input(S, c, MR_ERR_IO, msg);
            return;
        }
        if (k == 0) {
            char msg[256];
            if (c->len > 0)
                snprintf(msg, sizeof(msg), "%s: the stream ended inside a message (%zu of %llu "
                         "bytes)", c->what, c->len, (unsigned long long)c->need);
            end_input(S, c, c->len > 0 ? MR_ERR_FORMAT : MR_OK, c->len > 0 ? msg : NULL);
            return;
        }
        if (c->len == 0)
            c->msg_start = mr_clock_now_s();
        c->len += (size_t)k;
        /* every whole message now in the buffer goes to the queue */
        for (;;) {
            if (c->need == 0 && c->len > 0) {
                mr_status st = mr_mrd_frame_size(c->buf, c->len, cfg->max_text_bytes, &c->need);
                if (st != MR_OK) {
                    char msg[512];
                    snprintf(msg, sizeof(msg), "%s: %s", c->what, mr_last_error());
                    end_input(S, c, st, msg);
                    return;
                }
            }
            if (c->need == 0 || c->len < c->need)
                break;
            if (!queue_message(S, c))
                return;
        }
        pthread_mutex_lock(&S->lock);
        const bool pause = c->queued >= cfg->queue_bytes;
        pthread_mutex_unlock(&S->lock);
        if (pause)
            return;
    }
}

static void check_deadline(struct server *S, struct conn *c, double now)
{
    pthread_mutex_lock(&S->lock);
    const double d = deadline(S, c);
    pthread_mutex_unlock(&S->lock);
    if (!c->reading || now < d)
        return;
    char msg[256];
    if (c->len > 0)
        snprintf(msg, sizeof(msg), "%s: timed out: a message was not completed within the time "
                 "allowed (%zu of %llu bytes in %.0f s)", c->what, c->len,
                 (unsigned long long)c->need, now - c->msg_start);
    else
        snprintf(msg, sizeof(msg), "%s: timed out: no message for %.0f s (idle timeout)",
                 c->what, now - c->last_message);
    end_input(S, c, MR_ERR_IO, msg);
}

static int listen_socket(const struct mr_stage_server_config *cfg, int *port_out)
{
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    addr.sin_addr.s_addr = htonl(cfg->bind_any ? INADDR_ANY : INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    *port_out = ntohs(addr.sin_port);
    return fd;
}

static mr_status write_port_file(const char *path, int port)
{
    struct mr_atomic_file af = { 0 };
    mr_status st = mr_atomic_file_open(&af, path);
    if (st != MR_OK)
        return st;
    fprintf(af.f, "%d\n", port);
    return mr_atomic_file_commit(&af);
}

/* Closes finished connections; counts them. Under the lock. */
static long reap(struct server *S)
{
    long n = 0;
    struct conn **pp = &S->conns;
    while (*pp != NULL) {
        struct conn *c = *pp;
        if (c->finished && !c->busy && !c->ready) {
            *pp = c->next;
            S->nconns--;
            conn_free(c);
            n++;
        } else {
            pp = &c->next;
        }
    }
    return n;
}

mr_status mr_stage_server_run(const struct mr_stage_server_config *cfg)
{
    mr_status st = MR_OK;
    struct server S = { .cfg = cfg, .wake = { -1, -1 } };
    pthread_t *threads = NULL;
    int nthreads = 0;
    struct pollfd *pfd = NULL;
    struct conn **pconn = NULL;
    long served = 0;
    int port = 0;

    if (cfg->workers < 1 || cfg->max_open < 1)
        return MR_FAIL(MR_ERR_ARG, "stage server: workers and max_open must be >= 1");
    pthread_mutex_init(&S.lock, NULL);
    pthread_cond_init(&S.cond, NULL);
    int lfd = listen_socket(cfg, &port);
    if (lfd < 0) {
        st = MR_FAIL(MR_ERR_IO, "cannot listen on port %d: %s", cfg->port, strerror(errno));
        goto out;
    }
    if (pipe(S.wake) != 0 || fcntl(S.wake[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(S.wake[1], F_SETFL, O_NONBLOCK) != 0) {
        st = MR_FAIL(MR_ERR_IO, "stage server: %s", strerror(errno));
        goto out;
    }
    pfd = calloc((size_t)cfg->max_open + 2, sizeof(*pfd));
    pconn = calloc((size_t)cfg->max_open + 2, sizeof(*pconn));
    threads = calloc((size_t)cfg->workers, sizeof(*threads));
    if (pfd == NULL || pconn == NULL || threads == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "stage server");
        goto out;
    }
    for (; nthreads < cfg->workers; nthreads++)
        if (pthread_create(&threads[nthreads], NULL, worker_main, &S) != 0) {
            st = MR_FAIL(MR_ERR_NOMEM, "stage server: cannot start worker %d", nthreads);
            goto out;
        }
    if (cfg->port_file != NULL)
        MR_CHECK(write_port_file(cfg->port_file, port));
    if (cfg->listening != NULL)
        cfg->listening(cfg->listening_arg, port);

    for (;;) {
        double now = mr_clock_now_s();
        double next = now + 3600.0;
        int n = 0;
        pthread_mutex_lock(&S.lock);
        served += reap(&S);
        const bool done = cfg->max_connections > 0 && served >= cfg->max_connections &&
                          S.nconns == 0;
        const bool accepting = cfg->max_connections <= 0 ||
                               served + S.nconns < cfg->max_connections;
        pthread_mutex_unlock(&S.lock);
        if (done)
            break;
        /* only this thread changes the list: it may walk it without the lock */
        for (struct conn *c = S.conns; c != NULL; c = c->next)
            check_deadline(&S, c, now);
        pfd[n++] = (struct pollfd){ .fd = S.wake[0], .events = POLLIN };
        pfd[n++] = (struct pollfd){ .fd = accepting ? lfd : -1, .events = POLLIN };
        pthread_mutex_lock(&S.lock);
        for (struct conn *c = S.conns; c != NULL && n < cfg->max_open + 2; c = c->next) {
            if (!c->reading || c->queued >= cfg->queue_bytes)
                continue;
            double d = deadline(&S, c);
            next = d < next ? d : next;
            pconn[n] = c;
            pfd[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
        }
        pthread_mutex_unlock(&S.lock);
        int wait_ms = (int)((next - now) * 1000.0) + 1;
        if (poll(pfd, (nfds_t)n, wait_ms < 0 ? 0 : wait_ms) < 0 && errno != EINTR) {
            st = MR_FAIL(MR_ERR_IO, "stage server: poll: %s", strerror(errno));
            break;
        }
        if (pfd[0].revents != 0) {
            char b[64];
            while (read(S.wake[0], b, sizeof(b)) > 0)
                ;
        }
        if (pfd[1].fd >= 0 && (pfd[1].revents & POLLIN) != 0)
            accept_one(&S, lfd);
        for (int i = 2; i < n; i++)
            if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
                read_conn(&S, pconn[i]);
    }
out:
    pthread_mutex_lock(&S.lock);
    S.stop = true;
    pthread_cond_broadcast(&S.cond);
    pthread_mutex_unlock(&S.lock);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    while (S.conns != NULL) {
        struct conn *c = S.conns;
        S.conns = c->next;
        conn_free(c);
    }
    free(threads);
    free(pfd);
    free(pconn);
    if (lfd >= 0)
        close(lfd);
    if (S.wake[0] >= 0) {
        close(S.wake[0]);
        close(S.wake[1]);
    }
    pthread_cond_destroy(&S.cond);
    pthread_mutex_destroy(&S.lock);
    return st;
}
