/*
 * DCMTK's command-line tools as the oracle of the DICOM tests (tests/io/test_dicom*.c,
 * tests/apps/test_dicom_recon.c): dcmdump reads a file back as DCMTK sees it (a tag's value,
 * the raw pixel data), storescp is a PACS on 127.0.0.1. Debian package dcmtk
 * (tools/setup.sh --test). Static inline so each test takes what it needs.
 */
#ifndef MR_TESTS_IO_DICOM_TOOLS_H
#define MR_TESTS_IO_DICOM_TOOLS_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Runs cmd through the shell; its stdout + stderr into out (cap bytes). Returns the exit
 * status (-1 if it did not run). */
static inline int dcm_run(const char *cmd, char *out, size_t cap)
{
    char full[8704];
    if (snprintf(full, sizeof(full), "%s 2>&1", cmd) >= (int)sizeof(full))
        return -1;
    FILE *p = popen(full, "r");
    if (p == NULL)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* dcmdump's listing of file (-Un: UIDs as numbers) into out (cap bytes). False when dcmdump
 * fails or reports an error or warning ("E: ", "W: "). */
static inline bool dcm_dump(const char *file, char *out, size_t cap)
{
    char cmd[4352];
    return snprintf(cmd, sizeof(cmd), "dcmdump -Un '%s'", file) < (int)sizeof(cmd) &&
           dcm_run(cmd, out, cap) == 0 && strstr(out, "E: ") == NULL &&
           strstr(out, "W: ") == NULL;
}

/* The value of tag "gggg,eeee" (lower-case hex, as dcmdump prints) in a listing: "[a\b]" ->
 * "a\b", "5" -> "5", "(no value available)" -> "". False when the tag is absent. */
static inline bool dcm_get(const char *dump, const char *tag, char *buf, size_t cap)
{
    char key[16];
    snprintf(key, sizeof(key), "\n(%.9s)", tag);
    const char *p = strstr(dump, key);
    if (p == NULL || strlen(p) < 16)
        return false;
    p += 16; /* "\n(gggg,eeee) VR " */
    const char *end;
    if (*p == '[') {
        p++;
        end = strchr(p, ']');
    } else if (strncmp(p, "(no value", 9) == 0) {
        end = p;
    } else {
        end = p + strcspn(p, " \n");
    }
    if (end == NULL || (size_t)(end - p) >= cap)
        return false;
    memcpy(buf, p, (size_t)(end - p));
    buf[end - p] = '\0';
    return true;
}

/* cmocka checks: dcm_dump of file into dump, failing the test with dcmdump's output */
static inline void dcm_load(const char *file, char *dump, size_t cap)
{
    if (!dcm_dump(file, dump, cap))
        fail_msg("dcmdump cannot read '%s' cleanly (is DCMTK's dcmdump installed?):\n%s", file,
                 dump);
}

/* ... and tag's value in the listing must be want */
static inline void dcm_expect(const char *dump, const char *tag, const char *want)
{
    char v[1024];
    if (!dcm_get(dump, tag, v, sizeof(v)))
        fail_msg("dcmdump finds no %s", tag);
    if (strcmp(v, want) != 0)
        fail_msg("%s is '%s', expected '%s'", tag, v, want);
}

/* Parses up to n doubles separated by '\' from a DS value; returns how many. */
static inline int dcm_doubles(const char *s, double *x, int n)
{
    int k = 0;
    while (k < n && *s != '\0') {
        char *end = NULL;
        x[k++] = strtod(s, &end);
        if (end == s)
            return k - 1;
        s = *end == '\\' ? end + 1 : end;
    }
    return k;
}

/* dcm_dump of file plus its pixel data as stored (uint16 little-endian), which dcmdump +W
 * writes into the scratch folder dir; malloc'd, *n words. NULL on failure. */
static inline uint16_t *dcm_dump_pixels(const char *file, const char *dir, char *dump,
                                        size_t cap, size_t *n)
{
    char cmd[8448];
    char raw[4352] = "";
    if (snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && dcmdump -Un +W '%s' '%s'",
                 dir, dir, dir, file) >= (int)sizeof(cmd) ||
        dcm_run(cmd, dump, cap) != 0 || strstr(dump, "E: ") != NULL ||
        strstr(dump, "W: ") != NULL)
        return NULL;
    DIR *d = opendir(dir);
    const struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".raw") != NULL &&
            snprintf(raw, sizeof(raw), "%s/%s", dir, e->d_name) >= (int)sizeof(raw))
            raw[0] = '\0';
    if (d != NULL)
        closedir(d);
    FILE *f = raw[0] != '\0' ? fopen(raw, "rb") : NULL;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint16_t *px = malloc((size_t)len + 2);
    if (px != NULL && fread(px, 1, (size_t)len, f) != (size_t)len) {
        free(px);
        px = NULL;
    }
    fclose(f);
    *n = (size_t)len / 2;
    return px;
}

/* Number of directory entries of dir (without . and ..) whose name contains `part` ("" any). */
static inline int dcm_count(const char *dir, const char *part)
{
    int k = 0;
    DIR *d = opendir(dir);
    const struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            strstr(e->d_name, part) != NULL)
            k++;
    if (d != NULL)
        closedir(d);
    return d != NULL ? k : -1;
}

/* A TCP port on 127.0.0.1 that nobody listens on right now. */
static inline int dcm_free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* Starts `storescp -aet aet -od dir port` on 127.0.0.1 and waits (up to 10 s) until it
 * accepts connections. Returns its pid, or -1. */
static inline pid_t dcm_storescp_start(int port, const char *aet, const char *dir)
{
    char ports[16];
    pid_t pid = -1;
    snprintf(ports, sizeof(ports), "%d", port);
    char *argv[] = { "storescp", "-aet", (char *)aet, "-od", (char *)dir, ports, NULL };
    if (posix_spawnp(&pid, "storescp", NULL, NULL, argv, environ) != 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        bool up = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        if (fd >= 0)
            close(fd);
        if (up)
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1; /* it exited: not installed or port taken */
        nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
}

static inline void dcm_storescp_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

#endif
