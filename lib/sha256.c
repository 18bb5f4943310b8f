/* sha256.c: SHA-256 as FIPS 180-4 specifies it (see sha256.h).
 * Big-endian words, 64-byte blocks, the message padded with 0x80, zeros
 * and its length in bits as a 64-bit big-endian number. */
#include <config.h>

#include "sha256.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
    return x >> n | x << (32 - n);
}

/* Fold the 64-byte block P into the chaining value H. */
static void block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3;
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10;
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + S1 + ch + K[i] + w[i];
        uint32_t S0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void hwi_sha256_init(struct hwi_sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->nb = 0;
}

void hwi_sha256_update(struct hwi_sha256 *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->len += n;
    if (s->nb) {
        size_t take = 64 - s->nb < n ? 64 - s->nb : n;
        memcpy(s->b + s->nb, p, take);
        s->nb += take;
        p += take;
        n -= take;
        if (s->nb < 64)
            return;
        block(s->h, s->b);
        s->nb = 0;
    }
    for (; n >= 64; p += 64, n -= 64)
        block(s->h, p);
    memcpy(s->b, p, n);
    s->nb = n;
}

void hwi_sha256_hex(struct hwi_sha256 *s, char hex[HWI_SHA256_HEX])
{
    uint64_t bits = s->len * 8;
    s->b[s->nb++] = 0x80;
    if (s->nb > 56) {
        memset(s->b + s->nb, 0, 64 - s->nb);
        block(s->h, s->b);
        s->nb = 0;
    }
    memset(s->b + s->nb, 0, 56 - s->nb);
    for (int i = 0; i < 8; i++)
        s->b[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    block(s->h, s->b);
    static const char digit[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        unsigned v = s->h[i / 4] >> (24 - 8 * (i % 4)) & 0xff;
        hex[2 * i] = digit[v >> 4];
        hex[2 * i + 1] = digit[v & 15];
    }
    hex[64] = 0;
}

int hwi_sha256_file(const char *path, char hex[HWI_SHA256_HEX], char *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hwi_seterr(err, "%s: %s", path, strerror(errno));
    struct hwi_sha256 s;
    hwi_sha256_init(&s);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        hwi_sha256_update(&s, buf, n);
    int bad = ferror(fp);
    int saved = errno;
    fclose(fp);
    if (bad)
        return hwi_seterr(err, "%s: read error: %s", path, strerror(saved));
    hwi_sha256_hex(&s, hex);
    return 0;
}
