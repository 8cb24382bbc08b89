/* cmmo-server: read the configuration, run the server. */
#include "core/error.h"
#include "core/log.h"
#include "server/config.h"
#include "server/server.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    config c;
    int rc = config_load(&c, argc, argv);
    if (rc != 0) return 2;
    if (c.answered) return 0;
    log_set_level(c.log_level);
    log_set_json(c.log_json);
    int logs = c.log_file[0] ? log_open_file(c.log_file) : 0;
    if (logs != 0) {
        fprintf(stderr, "cmmo-server: setting 'log-file': cannot open '%s': %s\n", c.log_file,
                cmmo_strerror(logs));
        return 2;
    }
    return server_run(&c);
}
