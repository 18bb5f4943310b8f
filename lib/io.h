/* io.h: the I/O layer of every hwi program and reader: opening inputs,
 * the one line reader of the text formats, output files written whole or
 * not at all, and the temporary files that the fatal signals and hwi_die
 * remove (lib/io.c).
 *
 * Every function returns 0 (or a pointer) on success and -1 (NULL) with a
 * message in ERR (HWI_ERRLEN bytes, lib/err.h) on failure. */
#ifndef HWI_IO_H
#define HWI_IO_H

#include <stddef.h>
#include <stdio.h>

/* Open PATH for reading ("-" or NULL is stdin).  NULL with ERR set on
 * failure.  Close with hwi_fclose_in. */
FILE *hwi_fopen_in(const char *path, char *err);

void hwi_fclose_in(FILE *fp);

/* PATH as messages name it: "(stdin)" for "-" or NULL, as hwi_fopen_in
 * reads them. */
const char *hwi_file_name(const char *path);

/* Copy the file SRC to OUT.  Returns 0, or -1 with ERR set when SRC cannot
 * be opened or read; a write error stays in OUT's error flag, for the
 * caller's commit (hwi_outfile_commit) to report. */
int hwi_copy_file(const char *src, FILE *out, char *err);

/* The longest line a text format may have, LF included (a logits line of
 * 5000 labels is about 60 kB). */
#define HWI_LINE_MAX (16 << 20)

/* The line reader of every text format: read the next line of FP into
 * *BUF (capacity *CAP, as getline) without its LF or CRLF, store its
 * length in *LEN and count it in *LINE.  Returns 1, 0 at EOF, or -1 with
 * "NAME:LINE: ..." in ERR on a read error, a NUL byte or a line longer
 * than HWI_LINE_MAX. */
int hwi_read_line(FILE *fp, char **buf, size_t *cap, size_t *len, const char *name, long *line,
                  char *err);

/* An output file written whole or not at all: data go to a temporary file
 * beside PATH, renamed over PATH by hwi_outfile_commit.  PATH "-" (or NULL)
 * writes straight to stdout; a PATH that exists and is not a regular file
 * (a device such as /dev/full, a FIFO) is written in place, never replaced.
 * hwi_die and the fatal signals remove any temporary file still open, so
 * an error or an interrupt never leaves partial output behind.  A program
 * that writes several files commits them together with
 * hwi_outfile_commit_all.  Only kill -9 (or a crash) can leave a temporary
 * file; it never replaces PATH. */
struct hwi_outfile {
    FILE *fp;   /* where to write */
    char *path; /* final name, NULL for stdout */
    char *tmp;  /* temporary name, NULL for stdout or a file written in place */
};

/* Open OUT for PATH.  Returns 0, or -1 with a message in ERR. */
int hwi_outfile_open(struct hwi_outfile *out, const char *path, char *err);

/* Flush, close and rename into place.  Returns 0, or -1 with ERR set (the
 * temporary file is then removed).  For stdout (or a stream with path and
 * tmp NULL that the caller opened itself) only flush, and leave *OUT as it
 * is. */
int hwi_outfile_commit(struct hwi_outfile *out, char *err);

/* Commit the N files OUTS all or nothing: flush and close every one first
 * (where a full disk or a failing device shows), and only when all
 * succeeded rename them all into place, with signals held off until the
 * last rename.  Entries that are all zero (never opened) are skipped.
 * Returns 0, or -1 with ERR set, every temporary file removed and no PATH
 * touched.  Only a rename() that fails after others succeeded (an I/O
 * error on the directory) leaves the earlier files replaced; kill -9
 * between two renames does too. */
int hwi_outfile_commit_all(struct hwi_outfile *outs, size_t n, char *err);

/* Close and remove the temporary file; nothing happens for stdout, or for
 * an entry that is all zero. */
void hwi_outfile_abort(struct hwi_outfile *out);

/* Temporary files made by other means (libvips writes by name), removed by
 * hwi_die and the fatal signals like hwi_outfile's.  hwi_tmp_add registers
 * NAME, which the caller keeps allocated until hwi_tmp_commit or
 * hwi_tmp_remove; call it before creating the file.  Returns 0, or -1 with
 * ERR set when too many are registered at once.  Thread-safe. */
int hwi_tmp_add(const char *name, char *err);

/* Rename NAME to PATH and forget it; on failure remove NAME.  Returns 0, or
 * -1 with errno set. */
int hwi_tmp_commit(const char *name, const char *path);

/* Remove NAME and forget it. */
void hwi_tmp_remove(const char *name);

/* Remove every registered temporary file (hwi_die and hwi_close_stdout
 * call it before _exit). */
void hwi_tmp_remove_all(void);

#endif /* HWI_IO_H */
