/* fuzz.h: what hwi's fuzz targets share.
 *
 * Each fuzz/fuzz_NAME.c feeds one byte string to one of libhwi's readers
 * through the same entry points the programs use, and returns 0 whatever
 * the reader says: a crash, a sanitizer report, a leak or an abort() from
 * a broken invariant is the finding.  Built two ways:
 *   - by `make fuzz` (fuzz/fuzz.mk) with clang -fsanitize=fuzzer: the entry
 *     point is libFuzzer's LLVMFuzzerTestOneInput, one binary per target;
 *   - by `make check` (HWI_FUZZ_REGRESS defined): the entry point is
 *     hwi_fuzz_NAME, and fuzz/regress.c feeds it every file of
 *     fuzz/corpus/NAME and fuzz/regress/NAME (the inputs that once failed).
 */
#ifndef HWI_FUZZ_H
#define HWI_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The entry points: one per target in the regression build, libFuzzer's
 * in a fuzzing build. */
int hwi_fuzz_csv(const uint8_t *data, size_t size);
int hwi_fuzz_tsv(const uint8_t *data, size_t size);
int hwi_fuzz_stream(const uint8_t *data, size_t size);
int hwi_fuzz_db(const uint8_t *data, size_t size);
int hwi_fuzz_cfg(const uint8_t *data, size_t size);
int hwi_fuzz_weights(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef HWI_FUZZ_REGRESS
#define HWI_FUZZ_ENTRY(name) int hwi_fuzz_##name(const uint8_t *data, size_t size)
#else
#define HWI_FUZZ_ENTRY(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

/* Write DATA to this process's scratch file SLOT (0..3; a fresh
 * file each call, under $TMPDIR, removed at exit) and return its path.
 * Aborts if the file cannot be written: that is no finding of the reader. */
const char *hwi_fuzz_file(int slot, const uint8_t *data, size_t size);

/* A read-only FILE on DATA (fmemopen; an empty DATA gives an empty file).
 * Aborts when out of memory. */
FILE *hwi_fuzz_memfile(const uint8_t *data, size_t size);

/* A FILE that discards what is written to it (for the writers' half of a
 * round trip). */
FILE *hwi_fuzz_sink(void);

/* Abort with MSG when COND is false: a broken invariant of a reader. */
#define HWI_FUZZ_CHECK(cond, msg)                                                             \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, msg);        \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

#endif /* HWI_FUZZ_H */
