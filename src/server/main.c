/* cmmo-server: read the configuration, run the server. */
#include "core/log.h"
#include "server/config.h"
#include "server/server.h"

int main(int argc, char **argv)
{
    config c;
    int rc = config_load(&c, argc, argv);
    if (rc == CONFIG_EXIT) return 0;
    if (rc == CONFIG_ERROR) return 2;
    log_set_level(c.log_level);
    return server_run(&c);
}
