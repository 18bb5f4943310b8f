/* err.h: diagnostics for hwi programs, and error buffers for the library.
 *
 * Programs print "hwi-X: message" on stderr through hwi_warn/hwi_die, never
 * through glibc's error(): Darknet's library exports a function of that name
 * which replaces glibc's in any program that links it (docs/darknet.md §2).
 *
 * Library functions never print.  They return 0 or -1 and keep a message in
 * a char[HWI_ERRLEN] that the caller owns; hwi_seterr fills one. */
#ifndef HWI_ERR_H
#define HWI_ERR_H

#include <stddef.h>
#include <stdio.h>

#define HWI_ERRLEN 512

/* Exit statuses of every hwi program. */
enum {
    HWI_EXIT_OK = 0,    /* success */
    HWI_EXIT_FAIL = 1,  /* runtime or data error */
    HWI_EXIT_USAGE = 2, /* bad option or argument */
};

/* Set by hwi_set_program_name; "hwi" until then. */
extern const char *hwi_program_name;

/* Remember ARGV0's base name for diagnostics. */
void hwi_set_program_name(const char *argv0);

/* What every program does first: hwi_set_program_name, the user's locale
 * for messages but the C locale for numbers (TSV and options use '.'), and
 * atexit(hwi_close_stdout). */
void hwi_program_init(const char *argv0);

/* Print "PROGRAM: message\n" to stderr. */
void hwi_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* hwi_warn, remove registered temporary files, flush stdout, then
 * _exit(STATUS) (atexit handlers do not run).  The signals that end a
 * program by default (SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM,
 * SIGXCPU, SIGXFSZ) remove them too, from the first temporary file on:
 * the handler unlinks them and re-raises the signal with its default
 * action, so the program still dies by it (a broken pipe on stdout still
 * ends it quietly).  A signal the program ignored at start stays ignored. */
_Noreturn void hwi_die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Format a message into ERR (HWI_ERRLEN bytes).  Always returns -1, so a
 * library function can say "return hwi_seterr(err, ...)". */
int hwi_seterr(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* atexit handler: flush and close stdout; on failure print a diagnostic
 * and exit 1 (coreutils' close_stdout). */
void hwi_close_stdout(void);

/* Print the standard "--version" text for the current program. */
void hwi_print_version(void);

/* Print "Try 'PROGRAM --help' for more information." to stderr and exit 2. */
_Noreturn void hwi_try_help(void);

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

/* Allocation for programs (gnulib's xmalloc family): on failure,
 * hwi_die(HWI_EXIT_FAIL, "out of memory").  Library code returns -1
 * instead and never calls these. */
void *hwi_xmalloc(size_t n);
void *hwi_xrealloc(void *p, size_t n);
char *hwi_xstrdup(const char *s);
char *hwi_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* HWI_ERR_H */
