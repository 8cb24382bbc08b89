/*
 * addr: facts about a peer's address as text (as net reports it: "127.0.0.1", "::1").
 */
#ifndef CMMO_ADDR_H
#define CMMO_ADDR_H

#include <stdbool.h>

/* True if the address is on the loopback network (127.0.0.0/8, ::1, or IPv4-mapped 127.x). Loopback
 * peers are local tools or a reverse proxy on this machine. */
bool addr_is_loopback(const char *address);

#endif
