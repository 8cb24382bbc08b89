/*
 * fuzz_http: the HTTP request parser (net/http) on arbitrary bytes, split at arbitrary points.
 *
 * Input layout: the first byte picks how the rest is cut into reads (1..255 bytes per read, or
 * all at once for 0), like TCP segments arriving. Each complete request is handled as net.c does:
 * an upgrade goes through http_websocket_accept, anything else through http_request_path and
 * http_serve_static against a small web root. Checked beyond "no crash, no sanitizer report":
 *   - http_request_feed consumes at most what it was given, refuses only with 400, 414 or 431,
 *     and never completes a head longer than HTTP_HEAD_MAX;
 *   - a 101 answer is only given to a GET with a 24-character key;
 *   - a file outside the web root (a marker file beside it) is never served, through a symlink
 *     to it or a symlinked directory above it.
 */
#include "net/http.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char web_root[256];
static const char secret_marker[] = "FUZZ-SECRET-OUTSIDE-WEB-ROOT";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char base[] = "/tmp/cmmo-fuzz-http-XXXXXX";
    if (!mkdtemp(base)) abort();
    snprintf(web_root, sizeof web_root, "%s/www", base);
    mkdir(web_root, 0700);
    char path[512];
    snprintf(path, sizeof path, "%s/index.html", web_root);
    FILE *f = fopen(path, "w");
    fputs("<!doctype html><p>fuzz index</p>\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/app.js", web_root);
    f = fopen(path, "w");
    fputs("console.log(1)\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/secret.txt", base);
    f = fopen(path, "w");
    fputs(secret_marker, f);
    fclose(f);
    /* A link inside the root pointing out of it: must not be followed. */
    snprintf(path, sizeof path, "%s/link.txt", web_root);
    char target[512];
    snprintf(target, sizeof target, "%s/secret.txt", base);
    if (symlink(target, path) != 0) abort();
    /* A directory link climbing out: GET /up/secret.txt must not reach the marker either. */
    snprintf(path, sizeof path, "%s/up", web_root);
    if (symlink("..", path) != 0) abort();
    return 0;
}

static void check_response(rcbuf *resp)
{
    if (!resp) return;
    assert(resp->len > 0);
    assert(memmem(rcbuf_data(resp), resp->len, secret_marker, sizeof secret_marker - 1) == NULL);
    rcbuf_unref(resp);
}

static void handle_complete(http_request *r)
{
    if (r->upgrade) {
        int status = 0;
        rcbuf *resp = http_websocket_accept(r, &status);
        if (resp) {
            assert(status == 101);
            assert(r->method == HTTP_GET);
            assert(r->ws_key_len == 24);
            assert(memcmp(rcbuf_data(resp), "HTTP/1.1 101 ", 13) == 0);
        } else {
            assert(status == 400 || status == 426);
        }
        check_response(resp);
        return;
    }
    char path[HTTP_URL_MAX + 1];
    if (http_request_path(r, path, sizeof path) == 0) {
        assert(path[0] == '/');
        assert(strlen(path) <= HTTP_URL_MAX);
    }
    (void)http_request_has_query(r, "reset=1");
    check_response(http_serve_static(r, web_root));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t chunk = data[0] ? data[0] : size;
    data++;
    size--;
    http_request *r = malloc(sizeof *r);
    http_request_init(r);
    size_t off = 0;
    int requests = 0;
    while (off < size && requests < 16) {
        size_t avail = size - off;
        size_t n = avail < chunk ? avail : chunk;
        /* Like conn_http: feed until the read is used up, handling each complete request. */
        const char *p = (const char *)data + off;
        size_t left = n;
        int stop = 0;
        while (left > 0) {
            long used = http_request_feed(r, p, left);
            if (used < 0) {
                assert(used == CMMO_EHTTP_BAD_REQUEST || used == CMMO_EHTTP_URI_TOO_LONG ||
                       used == CMMO_EHTTP_TOO_LARGE);
                check_response(http_response_text((int)-used, "bad request\n", 0));
                stop = 1;
                break;
            }
            assert((size_t)used <= left);
            p += used;
            left -= (size_t)used;
            assert(r->head_bytes <= HTTP_HEAD_MAX);
            if (!r->complete) {
                assert(left == 0 || used > 0);
                if (used == 0) break;
                continue;
            }
            requests++;
            handle_complete(r);
            if (r->upgrade || !r->keep_alive) {
                stop = 1; /* the rest belongs to the WebSocket, or the connection closes */
                break;
            }
            http_request_reset(r);
        }
        if (stop) break;
        off += n;
    }
    free(r);
    return 0;
}
