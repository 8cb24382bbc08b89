/*
 * script: the embedded Lua 5.4 runtime that lets a game be written in Lua (docs/SCRIPTING.md).
 *
 * One script file runs in one sandboxed Lua state. It reaches the game only through game.h's
 * public calls (players, NPCs, chat) and persists small values through store.h; the game reaches
 * it only through its script port (game_script_ops), which script_create attaches. Nothing a
 * script does blocks: every call into Lua runs under an instruction budget, the state under a
 * memory cap, and an error in any call is logged with the script's file and line and that call
 * alone is abandoned. Single-threaded (the loop thread).
 *
 * Reload (SIGHUP): script_load builds a new state from the file, unless its text is the one
 * running (then nothing changes: a SIGHUP sent for the log file must not reset the game); if it
 * fails, the old state stays and the error is logged. If it loads, the old state is closed: its
 * NPCs are removed (viewers get Disconnect on the next tick), its timers and handlers are
 * dropped. The cmmo.store cache is the runtime's, not a state's: it survives a reload.
 */
#ifndef CMMO_SCRIPT_H
#define CMMO_SCRIPT_H

#include "core/error.h"
#include "game/game.h"
#include "store/store.h"

#include <errno.h>
#include <stddef.h>

/* VM instructions one call into Lua (a hook, a timer, the file's main chunk) may run before it is
 * cut with an error: about 5 to 20 ms of plain Lua on one core, so a runaway loop costs at most a
 * tick or so, while a /who over thousands of players stays far inside it. */
#define SCRIPT_INSTRUCTIONS_MAX 1000000
/* Bytes a script's Lua state may hold. A greedy script's allocation fails with a Lua memory
 * error (logged) rather than taking the server's memory. */
#define SCRIPT_MEMORY_MAX ((size_t)32 << 20)
/* Timers (every and after) alive at once, per script. */
#define SCRIPT_TIMERS_MAX 1024
/* Handlers per event (cmmo.on). */
#define SCRIPT_HANDLERS_MAX 64
/* cmmo.store bounds: a key's bytes, a string value's bytes, and the keys kept (the whole table is
 * loaded into memory at start: at most ~11 MiB). */
#define SCRIPT_STORE_KEY_MAX 128
#define SCRIPT_STORE_VALUE_MAX 1024
#define SCRIPT_STORE_ENTRIES_MAX 10000

/* Errors: 0 or one of these, the runtime's names for codes of the one error table
 * (core/error.h: cmmo_strerror names them for logs). */
enum {
    SCRIPT_E_LOAD =
        CMMO_ESCRIPT,         /* the file could not be read, compiled or run (logged, file:line) */
    SCRIPT_E_NOMEM = -ENOMEM, /* out of memory */
    SCRIPT_E_STORE = CMMO_ESTORE, /* cmmo.store could not be read from the store */
};

typedef struct script script;

/* Creates the runtime and attaches it to the game's script port; no script is loaded yet. game
 * and st are borrowed and must outlive it. Returns NULL on allocation failure. */
script *script_create(game *g, store *st);

/* Starts reading cmmo.store's table into the cache; done(user, 0 or SCRIPT_E_STORE) is called
 * later from the loop (never from within). Load the script once it is done: before, every get
 * answers nil. Returns 0, or SCRIPT_E_STORE (then done is never called). */
int script_store_load(script *sc, void (*done)(void *user, int result), void *user);

/* Loads (or reloads) the script at path: see the reload rules above. Returns 0 (also for an
 * unchanged file, logged as script_unchanged) or SCRIPT_E_LOAD (the old script, if any, still
 * runs). */
int script_load(script *sc, const char *path);

/* Whether a script is loaded. */
int script_loaded(const script *sc);

/* Writes cmmo.store's changed values behind (the tick does it as well; call it before the store
 * closes). */
void script_flush(script *sc);

/* Detaches from the game, removes the script's NPCs, flushes cmmo.store and frees everything.
 * NULL is a no-op. */
void script_destroy(script *sc);

#endif
