/* photo.h: a photo's identity in hwi, its key.
 *
 * A photo is known by its path relative to the photo root the user names
 * (hwi-crop --dir, hwi-store add --root), normalised: no leading "./",
 * no "." or empty components, ".." resolved and never above the root, no
 * leading '/'.  Kaggle's flat names are their own keys
 * ("0a1b2c3d.jpg"); a field photographer's are paths ("card1/IMG_0001.JPG",
 * "card2/IMG_0001.JPG": two photos).  The key is the vector stream's key,
 * the scores TSV's query and photo, and the store's image name; the
 * content hash (sha256.h) tells two different photos under one key
 * apart. */
#ifndef HWI_PHOTO_H
#define HWI_PHOTO_H

#include "err.h"

/* Normalise NAME into OUT (room for strlen(NAME) + 1 bytes; OUT may be
 * NAME itself).  Returns 0, or -1 with the reason in ERR (no file name):
 * empty, absolute, ".." above the root, a control character, longer than a
 * stream key may be. */
int hwi_photo_key(const char *name, char *out, char *err);

#endif /* HWI_PHOTO_H */
