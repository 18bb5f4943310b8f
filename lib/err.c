/* err.c: diagnostics, error buffers, stdout closing and the xmalloc
 * family.  See err.h for the contracts. */
#include <config.h>

#include "err.h"

#include "io.h"

#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *hwi_program_name = "hwi";

void hwi_set_program_name(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    hwi_program_name = slash ? slash + 1 : (argv0 ? argv0 : "hwi");
    /* libtool wrappers run the real binary as lt-NAME */
    if (strncmp(hwi_program_name, "lt-", 3) == 0)
        hwi_program_name += 3;
}

void hwi_program_init(const char *argv0)
{
    hwi_set_program_name(argv0);
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    atexit(hwi_close_stdout);
}

static void vwarn(const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", hwi_program_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void hwi_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

_Noreturn void hwi_die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    hwi_tmp_remove_all();
    /* _exit: skip atexit handlers, and so LeakSanitizer's report of what a
     * dying program still holds; stdout's data are moot after an error. */
    fflush(stdout);
    _exit(status);
}

int hwi_seterr(char *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, HWI_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void hwi_close_stdout(void)
{
    int bad = ferror(stdout) != 0;
    int saved = 0;
    if (fclose(stdout) != 0) {
        bad = 1;
        saved = errno;
    }
    /* EBADF: stdout was already closed; not this program's write error. */
    if (bad && saved != EBADF) {
        if (saved)
            fprintf(stderr, "%s: write error: %s\n", hwi_program_name, strerror(saved));
        else
            fprintf(stderr, "%s: write error\n", hwi_program_name);
        hwi_tmp_remove_all();
        _exit(HWI_EXIT_FAIL);
    }
}

void hwi_print_version(void)
{
    printf("%s (%s) %s\n", hwi_program_name, PACKAGE_NAME, PACKAGE_VERSION);
    fputs("Copyright (C) 2026 the hwi authors.\n"
          "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
          "This is free software: you are free to change and redistribute it.\n"
          "There is NO WARRANTY, to the extent permitted by law.\n",
          stdout);
}

_Noreturn void hwi_try_help(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", hwi_program_name);
    exit(HWI_EXIT_USAGE);
}

void *hwi_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    return p;
}

void *hwi_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    return p;
}

char *hwi_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    return d;
}

char *hwi_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s;
    int rc = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    return s;
}
