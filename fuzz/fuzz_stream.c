/* fuzz_stream.c: the vector stream reader (lib/stream.c) as every program
 * reading pixels, embeddings or logits uses it: the header, the column
 * names, then every record to EOF.  The records read are written again
 * with the stream writer; when the whole input was accepted, reading the
 * copy must give the same header and the same records, bit for bit. */
#include <config.h>

#include "fuzz.h"

#include "stream.h"

#include <stdlib.h>
#include <string.h>

HWI_FUZZ_ENTRY(stream)
{
    FILE *in = hwi_fuzz_memfile(data, size);
    struct hwi_stream r, w, again;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = NULL;
    int rc;
    if (hwi_stream_open_read(&r, in, "fuzz")) {
        HWI_FUZZ_CHECK(r.err[0], "a refused header has a message");
        goto done;
    }
    HWI_FUZZ_CHECK(r.dim >= 1 && r.dim <= HWI_STREAM_MAXDIM, "dimension in range");
    if (!(out = open_memstream(&buf, &len)))
        abort();
    HWI_FUZZ_CHECK(hwi_stream_open_write(&w, out, "copy", r.dim, r.flags, r.names, 0) == 0,
                   "a header read can be written");
    while ((rc = hwi_stream_read(&r)) == 1)
        HWI_FUZZ_CHECK(hwi_stream_write(&w, r.key, r.vec) == 0,
                       "a record read can be written");
    if (rc < 0)
        HWI_FUZZ_CHECK(r.err[0], "a refused record has a message");
    HWI_FUZZ_CHECK(hwi_stream_finish(&w) == 0, "hwi_stream_finish");
    hwi_stream_close(&w);
    fclose(out);
    if (rc == 0) {
        /* the copy carries no count; compare it with the original */
        FILE *fp = hwi_fuzz_memfile((const uint8_t *)buf, len);
        HWI_FUZZ_CHECK(hwi_stream_open_read(&again, fp, "copy") == 0, "the copy reads");
        HWI_FUZZ_CHECK(again.dim == r.dim && again.flags == r.flags, "the copy's header");
        for (uint32_t i = 0; r.names && i < r.dim; i++)
            HWI_FUZZ_CHECK(!strcmp(again.names[i], r.names[i]), "the copy's column names");
        uint64_t n = 0;
        while ((rc = hwi_stream_read(&again)) == 1)
            n++;
        HWI_FUZZ_CHECK(rc == 0 && n == r.nrec, "the copy has every record");
        hwi_stream_close(&again);
        fclose(fp);
    }
done:
    hwi_stream_close(&r);
    fclose(in);
    free(buf);
    return 0;
}
