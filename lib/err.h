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

/* hwi_warn, remove the temporary files of lib/io.h, flush stdout, then
 * _exit(STATUS) (atexit handlers do not run). */
_Noreturn void hwi_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

/* Allocation for programs (gnulib's xmalloc family): on failure,
 * hwi_die(HWI_EXIT_FAIL, "out of memory").  Library code returns -1
 * instead and never calls these. */
void *hwi_xmalloc(size_t n);
void *hwi_xrealloc(void *p, size_t n);
char *hwi_xstrdup(const char *s);
char *hwi_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* HWI_ERR_H */
