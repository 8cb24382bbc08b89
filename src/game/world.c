#include "game/world.h"

#include "core/grow.h"
#include "game/priority.h"
#include "proto/packet.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The encodings of movement: the legacy ModelDelta, or cmmo.v2's compact Move. A viewer's
 * encoding is its actor's `compact` bit, so a->delta[v->compact] is what v is sent of a's step. */
enum { ENC_LEGACY, ENC_V2, ENC_COUNT };

/* Room for a remote actor's queued positions (see REMOTE_PATH_SLACK). */
#define WORLD_REMOTE_PATH 4

struct world_actor {
    int64_t id, user_id, instanced_entity_id, entity_id;
    char name[GAME_ACTOR_NAME_MAX + 1];
    int avatar_id;
    double x, y, target_x, target_y;
    unsigned walking : 1;
    unsigned moved : 1;      /* moved during the current tick */
    unsigned save_dirty : 1; /* moved since the last write-behind */
    unsigned fresh : 1;      /* joined since the last tick: others have not been told yet */
    unsigned left : 1;       /* out of the world, freed after the tick */
    unsigned remote : 1;     /* played on another node of a cluster: no viewer, never saved */
    unsigned jumped : 1;     /* teleported since the last tick: moves as one step */
    void *link;              /* its viewer's connection (game/outbox.h); NULL for a remote
                              * actor, and once the connection is gone */
    unsigned compact : 1;    /* its viewer takes cmmo.v2: movement in one Moves frame a tick */
    /* This tick's movement delta in each encoding (NULL if it did not move, or no viewer
     * takes that encoding), shared by all viewers. */
    rcbuf *delta[ENC_COUNT];
    rcbuf *full; /* full model at the current position (cached) */
    rcbuf *gone; /* Disconnect(id), built when it leaves */
    /* Slots of the actors this viewer has been sent (in no order). Only with a view radius:
     * when everyone sees everyone the known set is the world itself, and storing it per viewer
     * would cost N squared entries. */
    uint32_t *known;
    size_t known_len, known_cap;
    uint32_t slot;      /* dense index into the world's per-slot arrays, stable while in play */
    int32_t cell;       /* grid cell index, -1 when not in the grid */
    uint32_t cell_slot; /* index in that cell's array */
    int32_t region;     /* the region last reported to the observer (local actors) */
    /* A remote actor's published positions not yet shown: it takes one per tick, as its owner
     * did, so that it walks as smoothly here as there. */
    double path[WORLD_REMOTE_PATH][2];
    uint8_t path_head, path_len;
    /* cmmo.v2 (viewer_moves). As an actor: its current position as a Moves record, the tick it
     * last moved and the tick it last turned (changed direction, started or stopped), with the
     * step that told (last_dx, last_dy). */
    uint8_t record[PACKET_MOVE_RECORD_MAX];
    uint32_t moved_tick, turned_tick;
    float last_dx, last_dy;
    /* As a cmmo.v2 viewer: the tick it was last sent each actor's position, parallel to known
     * with a view radius, indexed by slot without one (sent_cap entries); and its bandwidth
     * bucket, in bytes. */
    uint32_t *sent;
    size_t sent_cap;
    double tokens;
};

/* The area-of-interest grid: square cells half the hysteresis radius wide, so everything a viewer
 * may see lies in the 5 x 5 cells around it. A cell keeps each actor's position beside its
 * slot: reading positions from the actors themselves missed the cache on every candidate (13%
 * of the server in perf at 5,000 players). Floats are plenty to decide visibility within a
 * 16,000 px world. */
typedef struct cell_entry {
    float x, y;
    uint32_t slot;
} cell_entry;

typedef struct grid_cell {
    cell_entry *entries;
    uint32_t len, cap;
} grid_cell;

/* Bound on grid cells per side: a huge world with a small radius gets larger cells instead of
 * an unbounded table. */
#define GRID_MAX_SIDE 1024
/* Grid cells per hysteresis radius. A viewer scans only the cells that touch its hysteresis
 * circle, and takes cells wholly inside its view radius without a distance check. Quarter-radius
 * cells read fewer entries but cost a cache miss per cell (81 a viewer) and measured slower. */
#define GRID_SUBDIVISION 2
/* A viewer's visible set is recomputed every AOI_PERIOD ticks, staggered by slot so that each
 * tick recomputes a quarter of the viewers; in between it is sent the deltas of the actors it
 * knows, and Disconnect for those that left the world, at once. An actor walking into view is
 * thus shown up to 3 ticks (150 ms) late, some 20 px inside the view radius, which is a screen
 * beyond the edge of a phone's or a laptop's window. The scan of the grid was the server's top
 * user-space cost at 5,000 players. A newcomer's first tick is always a full one. */
#define AOI_PERIOD 4
#define HYSTERESIS 1.25
/* A remote actor that falls more than this many positions behind its owner skips ahead: the
 * hop's jitter is absorbed, a stalled node is not replayed in slow motion. */
#define REMOTE_PATH_SLACK 2
/* The bandwidth budget of a cmmo.v2 viewer (world_config.v2_budget): the nearest actors are
 * sent every tick whatever it says (20: a screenful around the player), one whose position
 * waited this long goes before all others (200 ms, 4 ticks: a tick under the 250 ms PROTOCOL.md
 * promises, so that a frame's jitter on the way keeps its p99 inside; an actor shown 250 ms late
 * still looks like it walks when the client interpolates), and a quiet viewer may save up to this
 * many ticks' budget for a burst (or owe as much after one: the join burst of a crowd must not
 * silence everyone but the nearest for seconds). */
#define BUDGET_NEAREST 20
#define BUDGET_STALE_MS 200
#define BUDGET_BURST_TICKS 2
/* The WebSocket header of a Moves frame (at most 4 bytes below 64 KiB); its own header
 * (world.moves.header) comes on top. */
#define MOVES_WS_HEADER 4

struct world {
    world_config config;
    packet_moves_format moves; /* cmmo.v2's Moves frames, from the world's size */
    world_actor **all;         /* actors in play, sorted by id */
    size_t all_len, all_cap;
    world_actor **departed; /* left since the last tick; freed after viewers were told */
    size_t departed_len, departed_cap;
    world_actor **joined; /* joined since the last tick (may have left again: link NULL) */
    size_t joined_len, joined_cap;
    int membership_changed; /* someone joined or left since the last tick */
    /* Per-slot arrays (slot_cap entries), dense so that one viewer's update stays in cache:
     * the actor in each slot, the marks of the viewer being updated (stamp: in its known set,
     * in its view now) and each actor's delta of this tick (NULL if it did not move). */
    world_actor **by_slot;
    uint32_t *mark_known, *mark_seen;
    rcbuf **slot_delta[ENC_COUNT]; /* each slot's a->delta[enc], dense for the scan */
    uint32_t *free_slots;          /* slots to reuse, freed after the tick their actor left in */
    size_t slot_cap, slot_top, free_len;
    uint32_t stamp;     /* one per viewer update; 0 never matches */
    uint8_t *slot_left; /* per slot: its actor left the world (viewers that know it are told) */
    uint64_t ticks;     /* world_tick calls, for AOI_PERIOD */
    uint32_t *visible;  /* per-viewer scratch: slots it sees now */
    size_t visible_cap;
    uint32_t *entering; /* per-viewer scratch: slots that enter its view */
    rcbuf **out;        /* per-viewer scratch: its packets of this tick (out_push) */
    size_t out_len, out_cap;
    size_t entering_cap;
    /* Everyone-sees-everyone, per encoding: this tick's deltas, joiners left out, and the same
     * packed into one buffer. */
    rcbuf *tick_deltas[ENC_COUNT];
    rcbuf **movers[ENC_COUNT];
    size_t movers_len[ENC_COUNT], movers_cap[ENC_COUNT];
    size_t compact_viewers; /* local actors whose viewer takes ENC_V2 */
    grid_cell *cells;       /* NULL when view_radius is 0 */
    int cols, rows;
    double cell_size;
    int span; /* cells on each side of a viewer's own that its hysteresis radius can reach */
    /* Regions (for clusters) are a coarser grid of hysteresis-radius squares, so that a node
     * subscribes to the 3 x 3 regions around each of its players. */
    int region_cols, region_rows;
    double region_size;
    size_t remote_count;
    game_actor_change_fn observer; /* NULL unless a cluster mirrors this world */
    void *observer_ctx;
    int32_t *interest; /* scratch for world_interest */
    size_t interest_cap;
    /* cmmo.v2 scratch: the candidates of one viewer, the records of its frame, and each slot's
     * sent tick while a viewer's known set is rebuilt. */
    priority_candidate *cands;
    size_t cands_cap;
    uint8_t *records;
    size_t records_cap;
    uint32_t *slot_sent;
    size_t slot_sent_cap;
};

/* Squares of side `size` (at most GRID_MAX_SIDE a side: larger squares in a huge world) over
 * the world: sets *cols and *rows and returns the side. */
static double squares(const world_config *c, double size, int *cols, int *rows)
{
    double side = fmax(c->width, c->height);
    if (side / size > GRID_MAX_SIDE) size = side / GRID_MAX_SIDE;
    *cols = (int)(c->width / size) + 1;
    *rows = (int)(c->height / size) + 1;
    return size;
}

world *world_create(const world_config *config)
{
    assert(game_outbox_complete(&config->outbox) && config->packets_out && config->bytes_out);
    world *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->config = *config;
    w->moves = packet_moves_format_for(config->width, config->height);
    if (config->view_radius > 0) {
        double keep = config->view_radius * HYSTERESIS;
        w->region_size = squares(config, keep, &w->region_cols, &w->region_rows);
        w->cell_size = squares(config, keep / GRID_SUBDIVISION, &w->cols, &w->rows);
        w->span = (int)ceil(keep / w->cell_size);
        w->cells = calloc((size_t)w->cols * (size_t)w->rows, sizeof *w->cells);
        if (!w->cells) {
            free(w);
            return NULL;
        }
    }
    return w;
}

/* Index of the square of side `size` holding (x, y) >= 0 in a cols x rows grid (a position on
 * the world's far edge belongs to the last square). */
static int32_t square_of(double x, double y, double size, int cols, int rows)
{
    int cx = (int)(x / size), cy = (int)(y / size);
    if (cx >= cols) cx = cols - 1;
    if (cy >= rows) cy = rows - 1;
    return cy * cols + cx;
}

static int32_t cell_of(const world *w, double x, double y)
{
    return square_of(x, y, w->cell_size, w->cols, w->rows);
}

static void grid_remove(world *w, world_actor *a)
{
    if (!w->cells || a->cell < 0) return;
    grid_cell *c = &w->cells[a->cell];
    cell_entry last = c->entries[--c->len];
    c->entries[a->cell_slot] = last;
    w->by_slot[last.slot]->cell_slot = a->cell_slot;
    a->cell = -1;
}

static int grid_insert(world *w, world_actor *a)
{
    if (!w->cells) return 0;
    int32_t idx = cell_of(w, a->x, a->y);
    grid_cell *c = &w->cells[idx];
    if (c->len == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 8;
        cell_entry *p = realloc(c->entries, cap * sizeof *p);
        if (!p) return -ENOMEM;
        c->entries = p;
        c->cap = cap;
    }
    a->cell = idx;
    a->cell_slot = c->len;
    c->entries[c->len++] = (cell_entry){(float)a->x, (float)a->y, a->slot};
    return 0;
}

/* After a move: change cells if it crossed into another one, else update the cell's copy. */
static void grid_update(world *w, world_actor *a)
{
    if (!w->cells) return;
    if (a->cell >= 0 && cell_of(w, a->x, a->y) == a->cell) {
        cell_entry *e = &w->cells[a->cell].entries[a->cell_slot];
        e->x = (float)a->x;
        e->y = (float)a->y;
        return;
    }
    grid_remove(w, a);
    if (grid_insert(w, a) != 0) a->cell = -1; /* out of memory: invisible until next move */
}

/* A slot for a new actor: 0, or -ENOMEM. */
static int slot_take(world *w, world_actor *a)
{
    if (w->free_len > 0) {
        a->slot = w->free_slots[--w->free_len];
    } else {
        if (w->slot_top == w->slot_cap) {
            /* On failure the arrays already grown stay so; slot_cap still bounds them all. */
            size_t cap = w->slot_cap ? w->slot_cap * 2 : 64;
            if (resize(&w->by_slot, cap, sizeof *w->by_slot) != 0 ||
                resize(&w->mark_known, cap, sizeof *w->mark_known) != 0 ||
                resize(&w->mark_seen, cap, sizeof *w->mark_seen) != 0 ||
                resize(&w->slot_delta[ENC_LEGACY], cap, sizeof *w->slot_delta[ENC_LEGACY]) != 0 ||
                resize(&w->slot_delta[ENC_V2], cap, sizeof *w->slot_delta[ENC_V2]) != 0 ||
                resize(&w->free_slots, cap, sizeof *w->free_slots) != 0 ||
                resize(&w->slot_left, cap, sizeof *w->slot_left) != 0)
                return -ENOMEM;
            w->slot_cap = cap;
        }
        a->slot = (uint32_t)w->slot_top++;
    }
    w->by_slot[a->slot] = a;
    w->mark_known[a->slot] = 0;
    w->mark_seen[a->slot] = 0;
    w->slot_delta[ENC_LEGACY][a->slot] = w->slot_delta[ENC_V2][a->slot] = NULL;
    w->slot_left[a->slot] = 0;
    return 0;
}

static void slot_release(world *w, world_actor *a)
{
    w->by_slot[a->slot] = NULL;
    w->slot_delta[ENC_LEGACY][a->slot] = w->slot_delta[ENC_V2][a->slot] = NULL;
    w->free_slots[w->free_len++] = a->slot; /* room: free_slots has slot_cap entries */
}

/* A fresh stamp for one viewer's marks; on wrap-around every mark is cleared first, so an old
 * mark can never equal a new stamp. */
static uint32_t next_stamp(world *w)
{
    if (++w->stamp == 0) {
        memset(w->mark_known, 0, w->slot_cap * sizeof *w->mark_known);
        memset(w->mark_seen, 0, w->slot_cap * sizeof *w->mark_seen);
        w->stamp = 1;
    }
    return w->stamp;
}

static void actor_free(world *w, world_actor *a)
{
    slot_release(w, a);
    rcbuf_unref(a->delta[ENC_LEGACY]);
    rcbuf_unref(a->delta[ENC_V2]);
    rcbuf_unref(a->full);
    rcbuf_unref(a->gone);
    free(a->known);
    free(a->sent);
    free(a);
}

void world_destroy(world *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->all_len; i++)
        actor_free(w, w->all[i]);
    for (size_t i = 0; i < w->departed_len; i++)
        actor_free(w, w->departed[i]);
    free(w->all);
    free(w->departed);
    free(w->joined);
    free(w->by_slot);
    free(w->mark_known);
    free(w->mark_seen);
    for (int e = 0; e < ENC_COUNT; e++) {
        free(w->slot_delta[e]);
        free(w->movers[e]);
        rcbuf_unref(w->tick_deltas[e]);
    }
    free(w->free_slots);
    free(w->slot_left);
    free(w->visible);
    free(w->entering);
    free(w->out);
    free(w->interest);
    free(w->cands);
    free(w->records);
    free(w->slot_sent);
    if (w->cells)
        for (int i = 0; i < w->cols * w->rows; i++)
            free(w->cells[i].entries);
    free(w->cells);
    free(w);
}

/* Index of the first actor with id >= id in a sorted array. */
static size_t lower_bound(world_actor *const *arr, size_t len, int64_t id)
{
    size_t lo = 0, hi = len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (arr[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int world_mark_unsaved(world *w, int64_t actor_id)
{
    size_t i = lower_bound(w->all, w->all_len, actor_id);
    if (i >= w->all_len || w->all[i]->id != actor_id || w->all[i]->remote) return CMMO_ENOTFOUND;
    w->all[i]->save_dirty = 1;
    return 0;
}

bool world_has_actor(const world *w, int64_t actor_id)
{
    size_t i = lower_bound(w->all, w->all_len, actor_id);
    return i < w->all_len && w->all[i]->id == actor_id && !w->all[i]->remote;
}

world_actor *world_find(world *w, int64_t actor_id)
{
    size_t i = lower_bound(w->all, w->all_len, actor_id);
    return i < w->all_len && w->all[i]->id == actor_id ? w->all[i] : NULL;
}

static rcbuf *actor_full(world_actor *a)
{
    if (!a->full) {
        packet_actor pa = {
            .actor_id = a->id,
            .user_id = a->user_id,
            .instanced_entity_id = a->instanced_entity_id,
            .entity_id = a->entity_id,
            .x = a->x,
            .y = a->y,
            .name = a->name,
            .avatar_id = a->avatar_id,
        };
        a->full = packet_encode_actor_full(&pa);
    }
    return a->full;
}

/* Pushes to the viewer's link and counts what went out (after the push: the counts include the
 * frame header net puts in front). */
static void push(world *w, world_actor *v, rcbuf *const *msgs, size_t n)
{
    w->config.outbox.push(w->config.outbox.ctx, v->link, msgs, n);
    game_outbox_count(w->config.packets_out, w->config.bytes_out, msgs, n);
    if (v->compact && w->config.v2_budget > 0) {
        /* Everything a cmmo.v2 viewer is sent counts against its budget: full models and chat
         * go whatever it says, and movement makes room for them. */
        for (size_t i = 0; i < n; i++)
            v->tokens -= (double)msgs[i]->len;
        double floor = -BUDGET_BURST_TICKS * w->config.v2_budget / w->config.tick_hz;
        if (v->tokens < floor) v->tokens = floor;
    }
}

static void send_to(world *w, world_actor *viewer, rcbuf *b)
{
    if (b && viewer->link) push(w, viewer, &b, 1);
}

/* Disconnect(id), built once and kept: for viewers it leaves the view of, and for all that know
 * it when it leaves the world. */
static rcbuf *actor_gone(world_actor *a)
{
    if (!a->gone) a->gone = packet_encode_disconnect(a->id);
    return a->gone;
}

/* A viewer's packets of one tick are gathered (w->out) and handed over in one push:
 * at 5,000 players each viewer is sent ~70 per tick, and three indirect calls per packet down to
 * the socket layer were 10% of the server. Every gathered buffer is owned by an actor or the
 * world until after the tick, so the array holds no references. */
static void out_flush(world *w, world_actor *v)
{
    if (w->out_len == 0) return;
    if (v->link) push(w, v, w->out, w->out_len);
    w->out_len = 0;
}

static void out_push(world *w, world_actor *v, rcbuf *b)
{
    if (!b) return;
    if (grow(&w->out, &w->out_cap, w->out_len + 1, sizeof *w->out) != 0) {
        out_flush(w, v); /* out of memory: what is gathered goes now, then this one */
        send_to(w, v, b);
        return;
    }
    w->out[w->out_len++] = b;
}

/* Adds an actor (local with a viewer, or remote without). NULL if the id is in the world. */
static world_actor *actor_add(world *w, const game_actor *account, void *link, int remote)
{
    size_t i = lower_bound(w->all, w->all_len, account->actor_id);
    if (i < w->all_len && w->all[i]->id == account->actor_id) return NULL;
    /* departed gets room for everyone too, so that world_leave can never fail. */
    if (grow(&w->all, &w->all_cap, w->all_len + 1, sizeof *w->all) != 0 ||
        grow(&w->departed, &w->departed_cap, w->all_len + w->departed_len + 1,
             sizeof *w->departed) != 0 ||
        grow(&w->joined, &w->joined_cap, w->joined_len + 1, sizeof *w->joined) != 0)
        return NULL;
    world_actor *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->id = account->actor_id;
    a->user_id = account->user_id;
    a->instanced_entity_id = account->instanced_entity_id;
    a->entity_id = account->entity_id;
    memcpy(a->name, account->name, sizeof a->name);
    a->avatar_id = account->avatar_id;
    /* A position saved under an older, larger --world is brought inside this one. */
    a->x = fmin(fmax(isfinite(account->x) ? account->x : 0, 0), w->config.width);
    a->y = fmin(fmax(isfinite(account->y) ? account->y : 0, 0), w->config.height);
    a->link = link;
    a->remote = (unsigned)remote;
    a->cell = -1;
    a->region = world_region_of(w, a->x, a->y);
    packet_move_record(&w->moves, a->record, a->id, a->x, a->y);
    a->moved_tick = a->turned_tick = (uint32_t)w->ticks;
    if (slot_take(w, a) != 0) {
        free(a);
        return NULL;
    }
    if (grid_insert(w, a) != 0) {
        slot_release(w, a);
        free(a);
        return NULL;
    }
    /* The viewer knows itself from the start: its own model goes out first, now. */
    if (w->cells && !remote) {
        if (grow(&a->known, &a->known_cap, 1, sizeof *a->known) != 0) {
            grid_remove(w, a);
            slot_release(w, a);
            free(a);
            return NULL;
        }
        a->known[0] = a->slot;
        a->known_len = 1;
    }
    a->fresh = 1;
    w->joined[w->joined_len++] = a;
    memmove(w->all + i + 1, w->all + i, (w->all_len - i) * sizeof *w->all);
    w->all[i] = a;
    w->all_len++;
    w->membership_changed = 1;
    if (remote) w->remote_count++;
    return a;
}

world_actor *world_join(world *w, const game_actor *account, void *link)
{
    world_actor *a = actor_add(w, account, link, 0);
    if (a) send_to(w, a, actor_full(a));
    return a;
}

void world_actor_unlink(world *w, world_actor *a)
{
    (void)w;
    assert(!a->remote);
    a->link = NULL;
}

world_actor *world_join_remote(world *w, const game_actor *account)
{
    return actor_add(w, account, NULL, 1);
}

static void actor_remove(world *w, world_actor *a)
{
    size_t i = lower_bound(w->all, w->all_len, a->id);
    assert(i < w->all_len && w->all[i] == a);
    memmove(w->all + i, w->all + i + 1, (w->all_len - i - 1) * sizeof *w->all);
    w->all_len--;
    grid_remove(w, a);
    a->link = NULL;
    a->left = 1;
    a->walking = 0;
    if (a->remote) w->remote_count--;
    if (a->compact) w->compact_viewers--;
    w->slot_left[a->slot] = 1;
    free(a->known);
    a->known = NULL;
    a->known_len = a->known_cap = 0;
    free(a->sent);
    a->sent = NULL;
    a->sent_cap = 0;
    actor_gone(a);
    assert(w->departed_len < w->departed_cap);
    w->departed[w->departed_len++] = a;
    w->membership_changed = 1;
}

void world_actor_set_compact(world *w, world_actor *a)
{
    if (a->compact || a->remote || a->left) return;
    /* With a view radius its sent ticks run beside its known set, which holds itself already
     * (sent with its full model). Without one they are per slot, grown by viewer_moves. */
    if (w->cells) {
        if (grow(&a->sent, &a->sent_cap, a->known_cap, sizeof *a->sent) != 0) return;
        for (size_t i = 0; i < a->known_len; i++)
            a->sent[i] = (uint32_t)w->ticks;
    }
    a->compact = 1;
    a->tokens = BUDGET_BURST_TICKS * w->config.v2_budget / w->config.tick_hz;
    w->compact_viewers++;
}

void world_leave(world *w, world_actor *a, store_position *saved)
{
    assert(!a->remote);
    saved->instanced_entity_id = a->instanced_entity_id;
    saved->actor_id = a->id;
    saved->x = a->x;
    saved->y = a->y;
    actor_remove(w, a);
}

void world_leave_remote(world *w, world_actor *a)
{
    assert(a->remote);
    actor_remove(w, a);
}

void world_move_remote(world *w, world_actor *a, double x, double y)
{
    assert(a->remote);
    if (!isfinite(x) || !isfinite(y)) return;
    x = fmin(fmax(x, 0), w->config.width);
    y = fmin(fmax(y, 0), w->config.height);
    double lx = a->x, ly = a->y;
    if (a->path_len > 0) {
        const double *last = a->path[(a->path_head + a->path_len - 1) % WORLD_REMOTE_PATH];
        lx = last[0];
        ly = last[1];
    }
    if (x == lx && y == ly) return;         /* a keyframe of where it already is (or is going) */
    if (a->path_len == WORLD_REMOTE_PATH) { /* full: drop the oldest */
        a->path_head = (uint8_t)((a->path_head + 1) % WORLD_REMOTE_PATH);
        a->path_len--;
    }
    double *slot = a->path[(a->path_head + a->path_len) % WORLD_REMOTE_PATH];
    slot[0] = x;
    slot[1] = y;
    a->path_len++;
}

void world_set_target(world *w, world_actor *a, double x, double y)
{
    if (!isfinite(x) || !isfinite(y)) return;
    a->target_x = fmin(fmax(x, 0), w->config.width);
    a->target_y = fmin(fmax(y, 0), w->config.height);
    a->walking = 1;
}

void world_teleport(world *w, world_actor *a, double x, double y)
{
    if (!isfinite(x) || !isfinite(y)) return;
    a->x = a->target_x = fmin(fmax(x, 0), w->config.width);
    a->y = a->target_y = fmin(fmax(y, 0), w->config.height);
    a->walking = 0;
    a->jumped = 1;
}

void world_send(world *w, world_actor *a, rcbuf *b)
{
    send_to(w, a, b);
}

void world_chat_remote(world *w, const char *name, size_t name_len, const char *text, size_t len)
{
    rcbuf *b = packet_encode_chat(name, name_len, text, len);
    if (!b) return;
    for (size_t i = 0; i < w->all_len; i++)
        send_to(w, w->all[i], b);
    rcbuf_unref(b);
}

void world_chat(world *w, world_actor *from, const char *text, size_t len)
{
    rcbuf *b = packet_encode_chat(from->name, strlen(from->name), text, len);
    if (!b) return;
    /* Chat is global: everyone in play hears it, whatever they can see. */
    for (size_t i = 0; i < w->all_len; i++)
        if (w->all[i] != from) send_to(w, w->all[i], b);
    rcbuf_unref(b);
}

/* Marks a position change: the cached full model is stale, this tick's delta is built. */
/* A step (dx, dy) turned from the last one: not within about 10 degrees of it, or the actor was
 * standing the tick before (it started). The viewer's interpolation goes wrong at a turn. */
static void note_turn(world *w, world_actor *a, float dx, float dy)
{
    uint32_t now = (uint32_t)w->ticks;
    float dot = dx * a->last_dx + dy * a->last_dy;
    float norms = sqrtf((dx * dx + dy * dy) * (a->last_dx * a->last_dx + a->last_dy * a->last_dy));
    if (a->moved_tick + 1 != now || dot < 0.985f * norms) a->turned_tick = now;
    a->last_dx = dx;
    a->last_dy = dy;
}

static void actor_moved(world *w, world_actor *a, double from_x, double from_y)
{
    a->moved = 1;
    rcbuf_unref(a->full);
    a->full = NULL;
    note_turn(w, a, (float)(a->x - from_x), (float)(a->y - from_y));
    a->moved_tick = (uint32_t)w->ticks;
    packet_move_record(&w->moves, a->record, a->id, a->x, a->y);
    /* Only the encodings some viewer takes: cmmo.v2 viewers get the record in their Moves
     * frame, a JSON Move only for an actor whose id a record cannot carry. */
    if (w->all_len - w->remote_count > w->compact_viewers)
        a->delta[ENC_LEGACY] = packet_encode_actor_moved(a->id, a->instanced_entity_id, a->x, a->y);
    if (w->compact_viewers > 0 && (uint64_t)a->id > PACKET_MOVE_ID_MAX)
        a->delta[ENC_V2] = packet_encode_move(a->id, a->x, a->y);
    w->slot_delta[ENC_LEGACY][a->slot] = a->delta[ENC_LEGACY];
    w->slot_delta[ENC_V2][a->slot] = a->delta[ENC_V2];
    grid_update(w, a);
}

/* A remote actor takes the next published position (or skips ahead when far behind). */
static void remote_step(world *w, world_actor *a)
{
    if (a->path_len == 0) return;
    double from_x = a->x, from_y = a->y;
    do {
        const double *p = a->path[a->path_head];
        a->x = p[0];
        a->y = p[1];
        a->path_head = (uint8_t)((a->path_head + 1) % WORLD_REMOTE_PATH);
        a->path_len--;
    } while (a->path_len > REMOTE_PATH_SLACK);
    actor_moved(w, a, from_x, from_y);
}

static void actor_step(world *w, world_actor *a)
{
    double step = w->config.speed / w->config.tick_hz;
    double dx = a->target_x - a->x, dy = a->target_y - a->y;
    double dist = hypot(dx, dy), from_x = a->x, from_y = a->y;
    if (dist <= step) {
        /* Arrive exactly on the target, not a rounding error away from it. */
        a->x = a->target_x;
        a->y = a->target_y;
        a->walking = 0;
    } else {
        a->x += dx / dist * step;
        a->y += dy / dist * step;
    }
    if (dist > 0) {
        a->save_dirty = 1;
        actor_moved(w, a, from_x, from_y);
        if (!a->walking) a->turned_tick = (uint32_t)w->ticks; /* it stops here */
    }
}

/* The one place that decides who can see whom. Without a view radius it is everyone (the
 * tutorial's small map), which viewer_update_all handles without building the set. With one,
 * it is the actors within the radius, or within the hysteresis radius for those the viewer
 * already knows (their mark_known is the current stamp); the viewer always sees itself. Each is
 * marked seen with the stamp as it is collected. Cost: the entries of the grid cells within the
 * hysteresis radius, read from the cells' own arrays. Returns their slots. */
static const uint32_t *world_visible(world *w, const world_actor *viewer, uint32_t stamp,
                                     size_t *len)
{
    assert(w->cells); /* without a view radius everyone sees everyone: viewer_update_all */
    float r = (float)w->config.view_radius, keep = r * (float)HYSTERESIS;
    float r2 = r * r, keep2 = keep * keep, vx = (float)viewer->x, vy = (float)viewer->y;
    float size = (float)w->cell_size;
    const uint32_t *mark_known = w->mark_known;
    uint32_t *mark_seen = w->mark_seen;
    int cx = (int)(viewer->x / w->cell_size), cy = (int)(viewer->y / w->cell_size);
    size_t n = 0;
    for (int y = cy - w->span; y <= cy + w->span; y++) {
        if (y < 0 || y >= w->rows) continue;
        /* Distances from the viewer to the nearest and farthest rows of this cell row. */
        float y0 = (float)y * size - vy, y1 = y0 + size;
        float near_y = y0 > 0 ? y0 : (y1 < 0 ? -y1 : 0), far_y = fmaxf(-y0, y1);
        for (int x = cx - w->span; x <= cx + w->span; x++) {
            if (x < 0 || x >= w->cols) continue;
            const grid_cell *c = &w->cells[y * w->cols + x];
            if (c->len == 0) continue;
            float x0 = (float)x * size - vx, x1 = x0 + size;
            float near_x = x0 > 0 ? x0 : (x1 < 0 ? -x1 : 0), far_x = fmaxf(-x0, x1);
            if (near_x * near_x + near_y * near_y > keep2) continue; /* wholly out of reach */
            if (grow(&w->visible, &w->visible_cap, n + c->len, sizeof *w->visible) != 0) break;
            uint32_t *out = w->visible;
            if (far_x * far_x + far_y * far_y <= r2) {
                /* Wholly inside the view radius: everyone in it is seen. */
                for (uint32_t i = 0; i < c->len; i++) {
                    mark_seen[c->entries[i].slot] = stamp;
                    out[n++] = c->entries[i].slot;
                }
                continue;
            }
            for (uint32_t i = 0; i < c->len; i++) {
                const cell_entry *e = &c->entries[i];
                float dx = e->x - vx, dy = e->y - vy, d2 = dx * dx + dy * dy;
                if (d2 > r2 && (d2 > keep2 || mark_known[e->slot] != stamp)) continue;
                mark_seen[e->slot] = stamp;
                out[n++] = e->slot;
            }
        }
    }
    *len = n;
    return w->visible;
}

/* Everyone sees everyone: a viewer knows the whole world except who joined since the last tick,
 * so the same enter / update / leave as a merge follows from this tick's joins and leaves. */
static void viewer_update_all(world *w, world_actor *v)
{
    if (v->fresh) {
        /* New here: it knows only itself, and the others' full models carry their positions. */
        if (v->moved) out_push(w, v, v->delta[v->compact]);
        for (size_t i = 0; i < w->all_len; i++)
            if (w->all[i] != v) out_push(w, v, actor_full(w->all[i]));
        return;
    }
    if (!w->membership_changed) {
        /* The same bytes for every viewer: all movers' deltas, packed once per tick. */
        if (w->tick_deltas[v->compact]) {
            out_push(w, v, w->tick_deltas[v->compact]);
            return;
        }
        for (size_t i = 0; i < w->movers_len[v->compact]; i++)
            out_push(w, v, w->movers[v->compact][i]);
        return;
    }
    /* Leaves first: one who left and came back within the tick is removed, then re-added. An
     * actor that joined and left within the tick was never shown, so it is not removed. */
    for (size_t i = 0; i < w->departed_len; i++)
        if (!w->departed[i]->fresh) out_push(w, v, w->departed[i]->gone);
    for (size_t i = 0; i < w->joined_len; i++)
        if (!w->joined[i]->left && w->joined[i] != v) out_push(w, v, actor_full(w->joined[i]));
    for (size_t i = 0; i < w->movers_len[v->compact]; i++)
        out_push(w, v, w->movers[v->compact][i]);
}

/* Between two recomputations of v's visible set (AOI_PERIOD): the deltas of the actors it
 * knows, and Disconnect for those that left the world (their slots are reused after this
 * tick, so they must leave v's known set now). */
static void viewer_update_known(world *w, world_actor *v)
{
    rcbuf *const *deltas = w->slot_delta[v->compact];
    size_t n = 0;
    for (size_t i = 0; i < v->known_len; i++) {
        uint32_t k = v->known[i];
        if (w->slot_left[k]) {
            out_push(w, v, actor_gone(w->by_slot[k]));
            continue;
        }
        if (deltas[k]) out_push(w, v, deltas[k]);
        if (v->sent) v->sent[n] = v->sent[i];
        v->known[n++] = k;
    }
    v->known_len = n;
}

/* A cmmo.v2 viewer's sent ticks for its new known set vis (before it replaces the old one,
 * whose members carry the current stamp in mark_known): kept for actors it knew, now for those
 * entering (they are sent a full model this tick). Returns 0, or -1 out of memory (nothing
 * changed). */
static int known_sent_rebuild(world *w, world_actor *v, const uint32_t *vis, size_t vis_len,
                              uint32_t stamp)
{
    if (grow(&w->slot_sent, &w->slot_sent_cap, w->slot_cap, sizeof *w->slot_sent) != 0 ||
        grow(&v->sent, &v->sent_cap, vis_len, sizeof *v->sent) != 0)
        return -1;
    for (size_t i = 0; i < v->known_len; i++)
        w->slot_sent[v->known[i]] = v->sent[i];
    uint32_t now = (uint32_t)w->ticks;
    for (size_t i = 0; i < vis_len; i++)
        v->sent[i] = w->mark_known[vis[i]] == stamp ? w->slot_sent[vis[i]] : now;
    return 0;
}

/* Compares what viewer knows with what it sees now, as Quake III's snapshots do, in linear time
 * with marks instead of sorted sets: the shared delta of each known actor that moved, then
 * leaves, then enters (full model); one who left and came back within the tick has a new slot,
 * so it is removed before it is re-added. Every AOI_PERIOD ticks; viewer_update_known between. */
static void viewer_update(world *w, world_actor *v)
{
    if (!w->cells) {
        viewer_update_all(w, v);
        return;
    }
    if (!v->fresh && (v->slot + w->ticks) % AOI_PERIOD != 0) {
        viewer_update_known(w, v);
        return;
    }
    uint32_t stamp = next_stamp(w);
    for (size_t i = 0; i < v->known_len; i++)
        w->mark_known[v->known[i]] = stamp;
    size_t vis_len;
    const uint32_t *vis = world_visible(w, v, stamp, &vis_len);
    if (grow(&w->entering, &w->entering_cap, vis_len, sizeof *w->entering) != 0) return;
    rcbuf *const *deltas = w->slot_delta[v->compact];
    size_t entering = 0;
    for (size_t i = 0; i < vis_len; i++) {
        uint32_t seen = vis[i];
        if (w->mark_known[seen] != stamp)
            w->entering[entering++] = seen;
        else if (deltas[seen])
            out_push(w, v, deltas[seen]);
    }
    for (size_t i = 0; i < v->known_len; i++) {
        if (w->mark_seen[v->known[i]] == stamp) continue;
        world_actor *known = w->by_slot[v->known[i]];
        /* Left view (or the world): legacy clients only know Disconnect as a removal. */
        out_push(w, v, actor_gone(known));
    }
    for (size_t i = 0; i < entering; i++)
        out_push(w, v, actor_full(w->by_slot[w->entering[i]]));
    if (grow(&v->known, &v->known_cap, vis_len, sizeof *v->known) != 0) return;
    if (v->compact && known_sent_rebuild(w, v, vis, vis_len, stamp) != 0) return;
    memcpy(v->known, vis, vis_len * sizeof *v->known);
    v->known_len = vis_len;
}

/* One candidate for v's Moves frame: actor a, whose position v was last sent at tick sent.
 * Returns 1 if it is one (it moved since, and a record can carry it). */
static int moves_candidate(world *w, const world_actor *v, const world_actor *a, uint32_t sent,
                           priority_candidate *out)
{
    uint32_t now = (uint32_t)w->ticks;
    if (a->moved_tick <= sent || (uint64_t)a->id > PACKET_MOVE_ID_MAX) return 0;
    float dx = (float)(a->x - v->x), dy = (float)(a->y - v->y);
    *out = (priority_candidate){
        .slot = a->slot,
        .waited = now - sent,
        .distance2 = dx * dx + dy * dy,
        .turned = a->turned_tick > sent,
    };
    return 1;
}

/* The sent tick of slot k for v: beside its known set with a view radius (index i), by slot
 * without one. */
static uint32_t *sent_of(world *w, world_actor *v, size_t i, uint32_t k)
{
    return w->cells ? &v->sent[i] : &v->sent[k];
}

/* cmmo.v2: this tick's movement for viewer v, in one Moves frame (returned, one reference for
 * the caller to drop after the flush; NULL if nothing moved or out of memory). Candidates are
 * the actors v sees whose position moved since v was last sent it; the budget's room this tick
 * decides how many go, priority_select which (game/priority.h). A legacy viewer never gets here.
 * Cost: one pass over what v knows (the world without a view radius), a selection only when
 * the budget binds, and one copy of a record (8 or 12 bytes) per move sent. */
static rcbuf *viewer_moves(world *w, world_actor *v)
{
    uint32_t now = (uint32_t)w->ticks;
    size_t n = 0;
    if (w->cells) {
        if (grow(&w->cands, &w->cands_cap, v->known_len, sizeof *w->cands) != 0) return NULL;
        for (size_t i = 0; i < v->known_len; i++) {
            const world_actor *a = w->by_slot[v->known[i]];
            n += (size_t)moves_candidate(w, v, a, v->sent[i], &w->cands[n]);
        }
    } else {
        if (grow(&w->cands, &w->cands_cap, w->all_len, sizeof *w->cands) != 0) return NULL;
        if (v->sent_cap < w->slot_top) {
            size_t old = v->sent_cap;
            if (grow(&v->sent, &v->sent_cap, w->slot_top, sizeof *v->sent) != 0) return NULL;
            for (size_t k = old; k < v->sent_cap; k++)
                v->sent[k] = now;
        }
        for (size_t i = 0; i < w->all_len; i++) {
            const world_actor *a = w->all[i];
            if (a == v) {
                /* Its own full model went out at its join, before any step: a first step is
                 * still to be sent. */
                if (v->fresh) v->sent[a->slot] = now - 1;
            } else if (v->fresh || a->fresh) {
                v->sent[a->slot] = now; /* sent in full this tick */
                continue;
            }
            n += (size_t)moves_candidate(w, v, a, v->sent[a->slot], &w->cands[n]);
        }
    }
    if (n == 0) return NULL;
    size_t room = SIZE_MAX;
    double budget = w->config.v2_budget;
    if (budget > 0) {
        double per_tick = budget / w->config.tick_hz;
        v->tokens += per_tick;
        if (v->tokens > BUDGET_BURST_TICKS * per_tick) v->tokens = BUDGET_BURST_TICKS * per_tick;
        double overhead = MOVES_WS_HEADER + w->moves.header;
        room = v->tokens > overhead ? (size_t)((v->tokens - overhead) / w->moves.record) : 0;
    }
    uint32_t stale = (uint32_t)ceil(BUDGET_STALE_MS * w->config.tick_hz / 1000.0);
    size_t k = priority_select(w->cands, n, BUDGET_NEAREST, room, stale ? stale : 1);
    size_t rec = w->moves.record;
    if (grow(&w->records, &w->records_cap, k * rec, 1) != 0) return NULL;
    for (size_t i = 0; i < k; i++) {
        const world_actor *a = w->by_slot[w->cands[i].slot];
        memcpy(w->records + i * rec, a->record, rec);
    }
    rcbuf *frame = packet_encode_moves(&w->moves, w->records, k);
    if (!frame) return NULL;
    /* Only now, with the frame built, are they sent: on failure all stay candidates. */
    if (w->cells) {
        if (grow(&w->slot_sent, &w->slot_sent_cap, w->slot_cap, sizeof *w->slot_sent) != 0) {
            rcbuf_unref(frame);
            return NULL;
        }
        /* Index the known set by slot for this viewer's marks. */
        for (size_t i = 0; i < v->known_len; i++)
            w->slot_sent[v->known[i]] = (uint32_t)i;
        for (size_t i = 0; i < k; i++)
            *sent_of(w, v, w->slot_sent[w->cands[i].slot], 0) = now;
    } else {
        for (size_t i = 0; i < k; i++)
            *sent_of(w, v, 0, w->cands[i].slot) = now;
    }
    out_push(w, v, frame);
    return frame;
}

/* Tells the observer what local actors did this tick: leaves first (one who left and came back
 * within the tick is reported gone, then joined), then joins and moves. */
static void report_changes(world *w)
{
    for (size_t i = 0; i < w->departed_len; i++) {
        world_actor *a = w->departed[i];
        if (a->remote || a->fresh) continue;
        game_actor m;
        world_actor_model(a, &m);
        w->observer(w->observer_ctx, GAME_ACTOR_LEFT, &m, a->region, a->region);
    }
    for (size_t i = 0; i < w->all_len; i++) {
        world_actor *a = w->all[i];
        if (a->remote || (!a->fresh && !a->moved)) continue;
        int32_t previous = a->region;
        a->region = world_region_of(w, a->x, a->y);
        game_actor m;
        world_actor_model(a, &m);
        w->observer(w->observer_ctx, a->fresh ? GAME_ACTOR_JOINED : GAME_ACTOR_MOVED, &m, previous,
                    a->region);
    }
}

void world_tick(world *w)
{
    w->ticks++;
    for (size_t i = 0; i < w->all_len; i++) {
        world_actor *a = w->all[i];
        a->moved = 0;
        for (int e = 0; e < ENC_COUNT; e++) {
            if (!a->delta[e]) continue;
            rcbuf_unref(a->delta[e]);
            a->delta[e] = NULL;
            w->slot_delta[e][a->slot] = NULL;
        }
        if (a->jumped) {
            a->jumped = 0;
            a->save_dirty = 1;
            actor_moved(w, a, a->x, a->y);
            a->turned_tick = (uint32_t)w->ticks; /* a jump: as urgent as a turn for the budget */
        } else if (a->walking) {
            actor_step(w, a); /* a remote actor only as an NPC (world_set_target) */
        } else if (a->remote) {
            remote_step(w, a);
        }
    }
    for (int e = 0; e < ENC_COUNT; e++) {
        rcbuf_unref(w->tick_deltas[e]);
        w->tick_deltas[e] = NULL;
        w->movers_len[e] = 0;
        if (w->cells || grow(&w->movers[e], &w->movers_cap[e], w->all_len, sizeof *w->movers[e]))
            continue;
        /* This tick's deltas, once, so that each viewer walks the movers, not the world: with
         * thousands of idle players a per-viewer walk of everyone is N squared per tick. Those
         * who joined this tick are left out: viewers get their full model instead. */
        for (size_t i = 0; i < w->all_len; i++)
            if (w->all[i]->moved && w->all[i]->delta[e] && !w->all[i]->fresh)
                w->movers[e][w->movers_len[e]++] = w->all[i]->delta[e];
        if (!w->membership_changed && w->movers_len[e] > 1)
            w->tick_deltas[e] =
                w->config.outbox.pack(w->config.outbox.ctx, w->movers[e], w->movers_len[e]);
    }
    for (size_t i = 0; i < w->all_len; i++) {
        world_actor *v = w->all[i];
        if (v->remote) continue;
        viewer_update(w, v);
        rcbuf *moves = v->compact && v->link ? viewer_moves(w, v) : NULL;
        out_flush(w, v);
        rcbuf_unref(moves); /* pushed: the outbox took its own reference */
    }
    if (w->observer) report_changes(w);
    for (size_t i = 0; i < w->joined_len; i++)
        w->joined[i]->fresh = 0; /* departed ones too: they are freed just below */
    w->joined_len = 0;
    for (size_t i = 0; i < w->departed_len; i++)
        actor_free(w, w->departed[i]);
    w->departed_len = 0;
    w->membership_changed = 0;
}

size_t world_collect_moved(world *w, store_position *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < w->all_len && n < cap; i++) {
        world_actor *a = w->all[i];
        if (!a->save_dirty || a->remote) continue;
        a->save_dirty = 0;
        out[n].instanced_entity_id = a->instanced_entity_id;
        out[n].actor_id = a->id;
        out[n].x = a->x;
        out[n].y = a->y;
        n++;
    }
    return n;
}

size_t world_collect_all(world *w, store_position *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < w->all_len && n < cap; i++) {
        if (w->all[i]->remote) continue;
        out[n].instanced_entity_id = w->all[i]->instanced_entity_id;
        out[n].actor_id = w->all[i]->id;
        out[n].x = w->all[i]->x;
        out[n].y = w->all[i]->y;
        w->all[i]->save_dirty = 0;
        n++;
    }
    return n;
}

size_t world_actor_count(const world *w)
{
    return w->all_len;
}

const char *world_actor_name(const world_actor *a)
{
    return a->name;
}

int64_t world_actor_id(const world_actor *a)
{
    return a->id;
}

void world_actor_position(const world_actor *a, double *x, double *y)
{
    *x = a->x;
    *y = a->y;
}

/* ---------------------------------------------------------------- cluster */

size_t world_remote_count(const world *w)
{
    return w->remote_count;
}

bool world_actor_is_remote(const world_actor *a)
{
    return a->remote;
}

void world_set_observer(world *w, game_actor_change_fn fn, void *ctx)
{
    w->observer = fn;
    w->observer_ctx = ctx;
}

size_t world_region_count(const world *w)
{
    return w->cells ? (size_t)w->region_cols * (size_t)w->region_rows : 1;
}

int32_t world_region_of(const world *w, double x, double y)
{
    if (!w->cells) return 0;
    x = fmin(fmax(isfinite(x) ? x : 0, 0), w->config.width);
    y = fmin(fmax(isfinite(y) ? y : 0, 0), w->config.height);
    return square_of(x, y, w->region_size, w->region_cols, w->region_rows);
}

int32_t world_actor_region(const world_actor *a)
{
    return a->region;
}

static int by_region(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

size_t world_interest(world *w, const int32_t **regions)
{
    size_t n = 0;
    if (!w->cells) {
        if (grow(&w->interest, &w->interest_cap, 1, sizeof *w->interest) != 0) return 0;
        w->interest[n++] = 0;
        *regions = w->interest;
        return n;
    }
    size_t local = w->all_len - w->remote_count;
    if (grow(&w->interest, &w->interest_cap, local * 9, sizeof *w->interest) != 0) return 0;
    for (size_t i = 0; i < w->all_len; i++) {
        const world_actor *a = w->all[i];
        if (a->remote) continue;
        int32_t c = world_region_of(w, a->x, a->y);
        int cx = c % w->region_cols, cy = c / w->region_cols;
        for (int y = cy - 1; y <= cy + 1; y++)
            for (int x = cx - 1; x <= cx + 1; x++)
                if (y >= 0 && y < w->region_rows && x >= 0 && x < w->region_cols)
                    w->interest[n++] = y * w->region_cols + x;
    }
    if (n > 0) qsort(w->interest, n, sizeof *w->interest, by_region);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || w->interest[u - 1] != w->interest[i]) w->interest[u++] = w->interest[i];
    *regions = w->interest;
    return u;
}

void world_each_local(world *w, void (*fn)(void *user, const game_actor *a, int32_t region),
                      void *user)
{
    for (size_t i = 0; i < w->all_len; i++) {
        if (w->all[i]->remote) continue;
        game_actor m;
        world_actor_model(w->all[i], &m);
        fn(user, &m, w->all[i]->region);
    }
}

void world_actor_model(const world_actor *a, game_actor *out)
{
    memset(out, 0, sizeof *out);
    out->actor_id = a->id;
    out->user_id = a->user_id;
    out->entity_id = a->entity_id;
    out->instanced_entity_id = a->instanced_entity_id;
    memcpy(out->name, a->name, sizeof out->name);
    out->avatar_id = a->avatar_id;
    out->x = a->x;
    out->y = a->y;
}
