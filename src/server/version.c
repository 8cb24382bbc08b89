#include "server/version.h"

/* Both come from the Makefile (-D); a build that forgets them must not pass for a release. */
#ifndef CMMO_VERSION
#error "CMMO_VERSION is defined by the Makefile, from the VERSION file"
#endif
#ifndef CMMO_COMMIT
#error "CMMO_COMMIT is defined by the Makefile, from git"
#endif

const char *version_number(void)
{
    return CMMO_VERSION;
}

const char *version_commit(void)
{
    return CMMO_COMMIT;
}
