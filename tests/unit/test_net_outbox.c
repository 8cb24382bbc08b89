/* Unit tests for server/net_outbox: each reason the game gives is closed with the code and text
 * of docs/PROTOCOL.md's close-code table, byte for byte (clients and tests read them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/net_outbox.h"

#include <string.h>

static void assert_close_frame(game_close_reason why, uint16_t code, const char *text)
{
    uint16_t got_code = 0;
    const char *got_text = NULL;
    net_outbox_close_frame(why, &got_code, &got_text);
    assert_int_equal(got_code, code);
    assert_string_equal(got_text, text);
    assert_true(strlen(got_text) <= 123); /* RFC 6455 5.5: a close payload is at most 125 */
}

static void test_each_close_reason_has_its_protocol_code_and_text(void **state)
{
    assert_close_frame(GAME_CLOSE_MESSAGE_FLOOD, 1008, "message flood");
    assert_close_frame(GAME_CLOSE_CHAT_FLOOD, 1008, "chat flood");
    assert_close_frame(GAME_CLOSE_KICKED, 1008, "Kicked by the server operator");
    assert_close_frame(GAME_CLOSE_ELSEWHERE, 1008, "Logged in elsewhere");
}

static void test_the_net_outbox_is_complete(void **state)
{
    game_outbox o = net_outbox();
    assert_true(game_outbox_complete(&o));
    int pushed = 0;
    game_outbox m = net_outbox_marking(&pushed);
    assert_true(game_outbox_complete(&m));
    assert_ptr_equal(m.ctx, &pushed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_close_reason_has_its_protocol_code_and_text),
        cmocka_unit_test(test_the_net_outbox_is_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
