/* map.h: a string -> size_t hash map (open addressing, FNV-1a, linear
 * probing, load factor at most 1/2).  Keys are copied.  Used to intern
 * labels and image names, and to find duplicates. */
#ifndef HWI_MAP_H
#define HWI_MAP_H

#include <stddef.h>

struct hwi_map {
    size_t n;    /* keys stored */
    size_t cap;  /* slots, a power of two (0 before the first put) */
    char **key;  /* [cap], NULL for an empty slot */
    size_t *val; /* [cap] */
};

/* Insert KEY -> VAL.  Returns 1 if inserted, 0 if KEY was present (its value
 * is kept and stored in *OLD when OLD is not NULL), -1 if out of memory. */
int hwi_map_put(struct hwi_map *m, const char *key, size_t val, size_t *old);

/* The value slot of KEY, or NULL. */
size_t *hwi_map_get(const struct hwi_map *m, const char *key);

/* Remove all keys but keep the slots, so refilling M to a similar size
 * allocates nothing new. */
void hwi_map_clear(struct hwi_map *m);

/* Free all keys and slots; M is empty afterwards and may be reused. */
void hwi_map_free(struct hwi_map *m);

#endif /* HWI_MAP_H */
