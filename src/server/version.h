/*
 * version: what this binary is, for --version, the start-up log line and the cmmo_build_info
 * metric. The number is the VERSION file at the top of the tree (its one place); the commit is
 * git's (`git describe --always --dirty`) at build time, or "unknown" when the tree was not a
 * git checkout. The Makefile passes both to this file only, so a new commit recompiles one
 * object and relinks.
 */
#ifndef CMMO_VERSION_H
#define CMMO_VERSION_H

/* "0.3.0": a static string. */
const char *version_number(void);

/* "4035d65", "4035d65-dirty" or "unknown" (or what the builder passed as CMMO_COMMIT=...):
 * a static string. */
const char *version_commit(void);

#endif
