#include "server/net_outbox.h"

#include "net/net.h"
#include "net/ws.h"

#include <assert.h>

/* Each reason's wire form. The texts are read by clients and pinned by the tests: change one
 * only together with docs/PROTOCOL.md. */
static const struct {
    uint16_t code;
    const char *text;
} close_frames[GAME_CLOSE_REASON_COUNT] = {
    [GAME_CLOSE_MESSAGE_FLOOD] = {WS_CLOSE_POLICY_VIOLATION, "message flood"},
    [GAME_CLOSE_CHAT_FLOOD] = {WS_CLOSE_POLICY_VIOLATION, "chat flood"},
    [GAME_CLOSE_KICKED] = {WS_CLOSE_POLICY_VIOLATION, "Kicked by the server operator"},
    [GAME_CLOSE_ELSEWHERE] = {WS_CLOSE_POLICY_VIOLATION, "Logged in elsewhere"},
    [GAME_CLOSE_CLUSTER_LOST] = {1013, "Cluster link lost, log in again"},
    [GAME_CLOSE_JOIN_FAILED] = {1011, "server error, log in again"},
};

void net_outbox_close_frame(game_close_reason why, uint16_t *code, const char **text)
{
    assert((unsigned)why < GAME_CLOSE_REASON_COUNT && close_frames[why].text);
    *code = close_frames[why].code;
    *text = close_frames[why].text;
}

static void outbox_push(void *ctx, void *link, rcbuf *const *msgs, size_t n)
{
    (void)ctx;
    net_conn_send_many(link, msgs, n);
}

static void outbox_close(void *ctx, void *link, game_close_reason why)
{
    (void)ctx;
    uint16_t code;
    const char *text;
    net_outbox_close_frame(why, &code, &text);
    net_conn_close(link, code, text);
}

static void outbox_resume(void *ctx, void *link)
{
    (void)ctx;
    net_conn_resume(link);
}

static rcbuf *outbox_pack(void *ctx, rcbuf *const *msgs, size_t n)
{
    (void)ctx;
    return ws_frames_pack(msgs, n);
}

static void outbox_push_marking(void *ctx, void *link, rcbuf *const *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (msgs[i]->tag == PACKET_TAG(PACKET_CHAT)) *(int *)ctx = 1;
    net_conn_send_many(link, msgs, n);
}

game_outbox net_outbox_marking(int *pushed)
{
    game_outbox o = net_outbox();
    o.push = outbox_push_marking;
    o.ctx = pushed;
    return o;
}

game_outbox net_outbox(void)
{
    return (game_outbox){
        .push = outbox_push,
        .close = outbox_close,
        .resume = outbox_resume,
        .pack = outbox_pack,
        .ctx = NULL,
    };
}
