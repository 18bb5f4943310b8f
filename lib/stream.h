/* stream.h: the vector stream, hwi's binary format for pixels, embeddings
 * and logits between programs.  Every byte is described in hwi-formats(5):
 *
 *   header   "HWIF" u16 version=1 u16 header_size=32 u32 dim u32 flags
 *            u64 count (0 = unknown) u64 reserved=0
 *   names    if flags & HWI_STREAM_NAMED: dim times (u32 len, len bytes)
 *   records  until EOF: if flags & HWI_STREAM_KEYED (u32 len, len bytes),
 *            then dim float32
 *
 * All integers and floats little-endian, written field by field.  Keys and
 * names are 1..HWI_STREAM_MAXKEY bytes of UTF-8 without NUL, TAB or LF.
 * Readers reject a wrong magic, a newer version, unknown flags, a truncated
 * header or record, NaN or Inf, and a count that does not match. */
#ifndef HWI_STREAM_H
#define HWI_STREAM_H

#include "err.h"

#include <stdint.h>
#include <stdio.h>

#define HWI_STREAM_MAGIC "HWIF"
#define HWI_STREAM_VERSION 1
#define HWI_STREAM_HEADER_SIZE 32
#define HWI_STREAM_KEYED 0x1u /* records carry a key */
#define HWI_STREAM_NAMED 0x2u /* column names follow the header */
#define HWI_STREAM_MAXDIM (1u << 24)
#define HWI_STREAM_MAXKEY 4096

/* A stream being read or written; one direction per object. */
struct hwi_stream {
    FILE *fp;
    const char *name; /* for messages */
    uint32_t dim;
    uint32_t flags;
    uint64_t count;     /* records announced in the header, 0 = unknown */
    char **names;       /* [dim] column names, or NULL */
    uint64_t nrec;      /* records read or written so far */
    char *key;          /* reader: key of the current record ("" if unkeyed) */
    float *vec;         /* reader: [dim] values of the current record */
    unsigned char *raw; /* [4*dim] byte buffer */
    size_t keycap;
    int own_fp; /* hwi_stream_close closes fp */
    char err[HWI_ERRLEN];
};

/* Read and check the header of FP.  Returns 0, or -1 with s->err set; call
 * hwi_stream_close either way. */
int hwi_stream_open_read(struct hwi_stream *s, FILE *fp, const char *name);

/* Open PATH ("-" is standard input, named "(stdin)" in messages), read and
 * check its header, and with NEED_KEYS require keyed records.  The stream
 * then owns the file: hwi_stream_close closes it.  Returns 0, or -1 with
 * s->err set; call hwi_stream_close either way. */
int hwi_stream_open_path(struct hwi_stream *s, const char *path, int need_keys);

/* Read the next record into s->key and s->vec.  Returns 1, 0 at a clean
 * EOF, -1 on error ("NAME: record N (key 'K'): ..." in s->err). */
int hwi_stream_read(struct hwi_stream *s);

/* Write a header to FP.  FLAGS may hold HWI_STREAM_KEYED; NAMES, when not
 * NULL, gives DIM column names (HWI_STREAM_NAMED is then set).  COUNT is
 * the number of records to come, or 0 if unknown.  Returns 0 or -1. */
int hwi_stream_open_write(struct hwi_stream *s, FILE *fp, const char *name, uint32_t dim,
                          uint32_t flags, char *const *names, uint64_t count);

/* Write one record; KEY is ignored for an unkeyed stream.  Rejects bad keys
 * and non-finite values without writing anything.  Returns 0 or -1. */
int hwi_stream_write(struct hwi_stream *s, const char *key, const float *vec);

/* Flush; check that a non-zero count was met.  Returns 0 or -1. */
int hwi_stream_finish(struct hwi_stream *s);

/* Free buffers, and close FP if hwi_stream_open_path opened it. */
void hwi_stream_close(struct hwi_stream *s);

#endif /* HWI_STREAM_H */
