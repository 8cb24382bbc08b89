/*
 * config: the server's settings, from command-line flags and CMMO_* environment variables
 * (a flag wins over the environment, which wins over the default).
 */
#ifndef CMMO_CONFIG_H
#define CMMO_CONFIG_H

#include "core/log.h"

typedef struct config {
    char host[256];
    int port;
    char db[4096];
    char web_root[4096];
    int tick_hz;
    double world_width, world_height;
    /* Area-of-interest radius in px; 0 = everyone sees everyone. Default (-1 until resolved):
     * 0 for worlds up to 2048 x 2048 (the tutorial map looks exactly as in the original), else
     * 600, about the half-diagonal of a 1024 x 600 view. */
    double view_radius;
    enum log_level log_level;
} config;

enum { CONFIG_OK = 0, CONFIG_EXIT = 1, CONFIG_ERROR = 2 };

/* Fills c from defaults, the environment and argv. Returns CONFIG_OK; CONFIG_EXIT after printing
 * --help (exit 0); or CONFIG_ERROR after printing what is wrong to stderr (exit 2). */
int config_load(config *c, int argc, char **argv);

#endif
