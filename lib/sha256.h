/* sha256.h: SHA-256 (FIPS 180-4), for the store's content hashes of photos
 * and model files.
 *
 * Typical use:
 *
 *   struct hwi_sha256 h;
 *   hwi_sha256_init(&h);
 *   hwi_sha256_update(&h, buf, n);     as many times as needed
 *   char hex[HWI_SHA256_HEX];
 *   hwi_sha256_hex(&h, hex);           lower-case, 64 digits and a NUL
 *
 * hwi_sha256_file hashes a whole file.  No state is shared: any number of
 * objects may be used from as many threads. */
#ifndef HWI_SHA256_H
#define HWI_SHA256_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

#define HWI_SHA256_HEX 65 /* 64 hex digits and the NUL */

struct hwi_sha256 {
    uint32_t h[8];       /* the chaining value */
    uint64_t len;        /* bytes hashed so far */
    unsigned char b[64]; /* the partial block */
    size_t nb;           /* bytes in b */
};

void hwi_sha256_init(struct hwi_sha256 *s);
void hwi_sha256_update(struct hwi_sha256 *s, const void *data, size_t n);

/* Finish: the digest as 64 lower-case hex digits in HEX.  S must be
 * initialised again before another use. */
void hwi_sha256_hex(struct hwi_sha256 *s, char hex[HWI_SHA256_HEX]);

/* The digest of the whole file PATH into HEX.  Returns 0, or -1 with
 * "PATH: reason" in ERR. */
int hwi_sha256_file(const char *path, char hex[HWI_SHA256_HEX], char *err);

#endif /* HWI_SHA256_H */
