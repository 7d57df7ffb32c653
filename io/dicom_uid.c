/*
 * DICOM UIDs (io/dicom.h): validity, and name-based UIDs "2.25.<decimal UUIDv5>" (PS3.5 B.2,
 * ISO/IEC 9834-8; RFC 4122 §4.3: SHA-1 of namespace ‖ name, first 16 bytes, version nibble 5,
 * variant bits 10). SHA-1 is FIPS 180-4, written out here because the UIDs need nothing else
 * of a crypto library; it names things, it protects nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "io/dicom.h"

struct sha1 {
    uint32_t h[5];
    uint8_t block[64];
    size_t fill;    /* bytes in block */
    uint64_t total; /* bytes hashed */
};

static uint32_t rol(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_init(struct sha1 *c)
{
    static const uint32_t h0[5] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                    0xC3D2E1F0u };
    memcpy(c->h, h0, sizeof(h0));
    c->fill = 0;
    c->total = 0;
}

/* one 64-byte block: 80 rounds over the expanded message schedule */
static void sha1_block(struct sha1 *c, const uint8_t *p)
{
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 80; t++)
        w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = c->h[0];
    uint32_t b = c->h[1];
    uint32_t cc = c->h[2];
    uint32_t d = c->h[3];
    uint32_t e = c->h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t f;
        uint32_t k;
        if (t < 20) {
            f = (b & cc) | (~b & d);
            k = 0x5A827999u;
        } else if (t < 40) {
            f = b ^ cc ^ d;
            k = 0x6ED9EBA1u;
        } else if (t < 60) {
            f = (b & cc) | (b & d) | (cc & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ cc ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t tmp = rol(a, 5) + f + e + k + w[t];
        e = d;
        d = cc;
        cc = rol(b, 30);
        b = a;
        a = tmp;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
}

static void sha1_update(struct sha1 *c, const void *data, size_t n)
{
    const uint8_t *p = data;
    c->total += n;
    while (n > 0) {
        size_t k = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->block + c->fill, p, k);
        c->fill += k;
        p += k;
        n -= k;
        if (c->fill == 64) {
            sha1_block(c, c->block);
            c->fill = 0;
        }
    }
}

/* padding: 0x80, zeros to 56 mod 64, the bit length big-endian */
static void sha1_final(struct sha1 *c, uint8_t out[20])
{
    const uint64_t bits = c->total * 8;
    uint8_t pad[72] = { 0x80 };
    size_t npad = (c->fill < 56 ? 56 : 120) - c->fill;
    for (int i = 0; i < 8; i++)
        pad[npad + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_update(c, pad, npad + 8);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(c->h[i] >> (24 - 8 * j));
}

void mr_dicom_uid_from_name(const char *name, char uid[MR_DICOM_UID_SIZE])
{
    /* RFC 4122 Appendix C: NameSpace_URL 6ba7b811-9dad-11d1-80b4-00c04fd430c8 */
    static const uint8_t ns_url[16] = { 0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                        0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
    struct sha1 c;
    uint8_t h[20];
    sha1_init(&c);
    sha1_update(&c, ns_url, sizeof(ns_url));
    sha1_update(&c, name, strlen(name));
    sha1_final(&c, h);
    h[6] = (uint8_t)((h[6] & 0x0F) | 0x50); /* version 5 */
    h[8] = (uint8_t)((h[8] & 0x3F) | 0x80); /* variant 10 */

    /* the 128-bit big-endian integer h[0..16) in decimal: repeated division by 10 */
    char digits[40];
    int nd = 0;
    bool nonzero = true;
    while (nonzero) {
        unsigned rem = 0;
        nonzero = false;
        for (int i = 0; i < 16; i++) {
            unsigned cur = rem * 256u + h[i];
            h[i] = (uint8_t)(cur / 10u);
            rem = cur % 10u;
            nonzero = nonzero || h[i] != 0;
        }
        digits[nd++] = (char)('0' + rem);
    }
    int k = snprintf(uid, MR_DICOM_UID_SIZE, "2.25.");
    for (int i = nd - 1; i >= 0; i--)
        uid[k++] = digits[i];
    uid[k] = '\0';
}

bool mr_dicom_uid_valid(const char *uid)
{
    size_t n = strlen(uid);
    if (n == 0 || n > 64)
        return false;
    const char *p = uid;
    for (;;) {
        /* one component: digits, no leading zero unless it is "0" */
        const char *start = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == start || (*start == '0' && p - start > 1))
            return false;
        if (*p == '\0')
            return true;
        if (*p != '.')
            return false;
        p++;
    }
}
