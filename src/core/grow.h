/*
 * grow: the one growable-array helper (the world's and the cluster's arrays, all bounded by
 * what their callers admit).
 */
#ifndef CMMO_GROW_H
#define CMMO_GROW_H

#include <errno.h>
#include <stdlib.h>

/* Makes *array_ptr (an array of elem-byte items with *cap of them) hold at least need items,
 * doubling from 16. Returns 0, or -ENOMEM with the array left as it was. */
static inline int grow(void *array_ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void **arr = array_ptr;
    void *p = realloc(*arr, n * elem);
    if (!p) return -ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

/* Resizes *array_ptr to exactly n items of elem bytes. Returns 0, or -ENOMEM with the array left
 * as it was. */
static inline int resize(void *array_ptr, size_t n, size_t elem)
{
    void **arr = array_ptr;
    void *p = realloc(*arr, n * elem);
    if (!p) return -ENOMEM;
    *arr = p;
    return 0;
}

#endif
