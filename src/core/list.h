/*
 * list: the one intrusive doubly linked list (net's connections, admin's connections, the
 * game's sessions). An element is any struct with `prev` and `next` pointers to its own type; the
 * list is a head pointer to the first element (NULL when empty). Linking and unlinking are O(1)
 * and allocate nothing; the caller owns the elements and any count it keeps beside the head.
 *
 * Invariants, asserted: an element is in at most one list at a time (an unlinked element has
 * prev == next == NULL and is not the head), and the neighbours of a linked element point back at
 * it. Unlinking an element that is not linked is a bug of the caller, not a no-op.
 *
 * Macros rather than functions so that the element keeps its own type (no container_of at every
 * walk); each argument is evaluated more than once, so pass plain lvalues.
 */
#ifndef CMMO_LIST_H
#define CMMO_LIST_H

#include <assert.h>
#include <stddef.h>

/* Links elem in front of *head_ptr. elem must not be linked anywhere. */
#define list_push_front(head_ptr, elem)                                                            \
    do {                                                                                           \
        assert((elem)->prev == NULL && (elem)->next == NULL && *(head_ptr) != (elem));             \
        assert(*(head_ptr) == NULL || (*(head_ptr))->prev == NULL);                                \
        (elem)->next = *(head_ptr);                                                                \
        if (*(head_ptr)) (*(head_ptr))->prev = (elem);                                             \
        *(head_ptr) = (elem);                                                                      \
    } while (0)

/* Unlinks elem from the list *head_ptr, which it must be in; leaves it with prev == next == NULL
 * so it may be linked again. */
#define list_unlink(head_ptr, elem)                                                                \
    do {                                                                                           \
        assert((elem)->prev ? (elem)->prev->next == (elem) : *(head_ptr) == (elem));               \
        assert((elem)->next == NULL || (elem)->next->prev == (elem));                              \
        if ((elem)->prev)                                                                          \
            (elem)->prev->next = (elem)->next;                                                     \
        else                                                                                       \
            *(head_ptr) = (elem)->next;                                                            \
        if ((elem)->next) (elem)->next->prev = (elem)->prev;                                       \
        (elem)->prev = (elem)->next = NULL;                                                        \
    } while (0)

/* Whether elem is linked in the list *head_ptr (an O(1) test, given the invariants). */
#define list_is_linked(head_ptr, elem) ((elem)->prev != NULL || *(head_ptr) == (elem))

#endif
