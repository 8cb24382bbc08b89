/* Unit tests for core/list: the intrusive doubly linked list every connection list uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/list.h"

typedef struct item item;
struct item {
    int id;
    item *prev, *next;
};

/* The ids from head to tail, as a number (1, 2, 3 -> 123), checking the back links on the way. */
static int walk(item *head)
{
    int out = 0;
    for (item *i = head; i; i = i->next) {
        assert_true(i->prev ? i->prev->next == i : head == i);
        out = out * 10 + i->id;
    }
    return out;
}

static void test_list_push_front_links_newest_first(void **state)
{
    item a = {.id = 1}, b = {.id = 2}, c = {.id = 3};
    item *head = NULL;
    list_push_front(&head, &a);
    list_push_front(&head, &b);
    list_push_front(&head, &c);
    assert_int_equal(walk(head), 321);
    assert_true(list_is_linked(&head, &a));
}

static void test_list_unlink_works_at_head_middle_and_tail(void **state)
{
    item a = {.id = 1}, b = {.id = 2}, c = {.id = 3}, d = {.id = 4};
    item *head = NULL;
    list_push_front(&head, &a);
    list_push_front(&head, &b);
    list_push_front(&head, &c);
    list_push_front(&head, &d); /* 4 3 2 1 */
    list_unlink(&head, &c);     /* middle */
    assert_int_equal(walk(head), 421);
    list_unlink(&head, &d); /* head */
    assert_int_equal(walk(head), 21);
    list_unlink(&head, &a); /* tail */
    assert_int_equal(walk(head), 2);
    list_unlink(&head, &b); /* the last one */
    assert_null(head);
}

static void test_list_unlinked_element_is_clean_and_can_be_linked_again(void **state)
{
    item a = {.id = 1}, b = {.id = 2};
    item *head = NULL;
    list_push_front(&head, &a);
    list_push_front(&head, &b);
    list_unlink(&head, &b);
    assert_null(b.prev);
    assert_null(b.next);
    assert_false(list_is_linked(&head, &b));
    list_push_front(&head, &b);
    assert_int_equal(walk(head), 21);
}

static void test_list_unlink_while_walking_with_a_saved_next(void **state)
{
    item it[5];
    item *head = NULL;
    for (int i = 0; i < 5; i++) {
        it[i] = (item){.id = i + 1};
        list_push_front(&head, &it[i]);
    }
    /* The pattern of every close-all loop: remember next before unlinking. */
    for (item *i = head, *next; i; i = next) {
        next = i->next;
        if (i->id % 2) list_unlink(&head, i);
    }
    assert_int_equal(walk(head), 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_push_front_links_newest_first),
        cmocka_unit_test(test_list_unlink_works_at_head_middle_and_tail),
        cmocka_unit_test(test_list_unlinked_element_is_clean_and_can_be_linked_again),
        cmocka_unit_test(test_list_unlink_while_walking_with_a_saved_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
