/* map.c: string hash map (see map.h).
 * Invariant: cap is 0 or a power of two and n <= cap/2, so probing ends. */
#include <config.h>

#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t find(const struct hwi_map *m, const char *key)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)hash(key) & mask;
    while (m->key[i] && strcmp(m->key[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

static int grow(struct hwi_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct hwi_map bigger = {0, cap, calloc(cap, sizeof(char *)),
                             malloc(cap * sizeof(size_t))};
    if (!bigger.key || !bigger.val) {
        free(bigger.key);
        free(bigger.val);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->key[i])
            continue;
        size_t j = find(&bigger, m->key[i]);
        bigger.key[j] = m->key[i];
        bigger.val[j] = m->val[i];
    }
    bigger.n = m->n;
    free(m->key);
    free(m->val);
    *m = bigger;
    return 0;
}

int hwi_map_put(struct hwi_map *m, const char *key, size_t val, size_t *old)
{
    if (m->cap) {
        size_t i = find(m, key);
        if (m->key[i]) {
            if (old)
                *old = m->val[i];
            return 0;
        }
    }
    if (2 * (m->n + 1) > m->cap && grow(m))
        return -1;
    size_t i = find(m, key);
    if (!(m->key[i] = strdup(key)))
        return -1;
    m->val[i] = val;
    m->n++;
    return 1;
}

size_t *hwi_map_get(const struct hwi_map *m, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t i = find(m, key);
    return m->key[i] ? &m->val[i] : NULL;
}

void hwi_map_clear(struct hwi_map *m)
{
    for (size_t i = 0; i < m->cap && m->n; i++)
        if (m->key[i]) {
            free(m->key[i]);
            m->key[i] = NULL;
            m->n--;
        }
}

void hwi_map_free(struct hwi_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->key[i]);
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}
