/* photo.c: photo keys (see photo.h). */
#include <config.h>

#include "photo.h"

#include "stream.h"

#include <string.h>

int hwi_photo_key(const char *name, char *out, char *err)
{
    if (!*name)
        return hwi_seterr(err, "empty photo name");
    if (*name == '/')
        return hwi_seterr(err, "absolute path: name the photo relative to the photo "
                               "root (--dir)");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return hwi_seterr(err, "photo name contains a control character");
    /* copy component by component; OUT never runs ahead of NAME */
    size_t o = 0;
    const char *p = name;
    while (*p) {
        size_t len = strcspn(p, "/");
        if (len == 0 || (len == 1 && p[0] == '.')) {
            /* empty or ".": nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (o == 0)
                return hwi_seterr(err, "'..' in the photo name leaves the photo root");
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the '/' before the dropped component */
        } else {
            if (o > 0)
                out[o++] = '/';
            memmove(out + o, p, len);
            o += len;
        }
        p += len;
        if (*p == '/')
            p++;
    }
    out[o] = 0;
    if (o == 0)
        return hwi_seterr(err, "photo name '%s' names no file", name);
    if (o > HWI_STREAM_MAXKEY)
        return hwi_seterr(err, "photo name is too long (%zu bytes, at most %d)", o,
                          (int)HWI_STREAM_MAXKEY);
    return 0;
}
