/*
 * cmmo-bench: a load generator for the cmmo server. One process holds thousands of real
 * WebSocket clients speaking the game protocol and measures the server (see bench_run.h for what
 * and how, tools/bench/run.sh for the standard workloads behind `make bench`).
 *
 * Output: progress and a summary on stderr, one JSON object with every figure on stdout or in
 * --json FILE. Exit 0 if the run happened (the figures say how well it went), 1 if the result
 * could not be written, 2 on bad usage or setup failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_opts.h"
#include "bench_report.h"
#include "bench_run.h"

/* Each player is a socket: lift the soft descriptor limit to the hard one. */
static void raise_fd_limit(uint32_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        fprintf(stderr, "cmmo-bench: cannot raise the descriptor limit: %s\n", strerror(errno));
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want + 64)
        fprintf(stderr, "cmmo-bench: warning: descriptor limit %llu is below %u players\n",
                (unsigned long long)rl.rlim_cur, want);
}

int main(int argc, char **argv)
{
    struct bench_opts opts;
    int rc = bench_opts_parse(argc, argv, &opts);
    if (rc != 0) return rc > 0 ? 0 : 2;
    /* A write to a socket the server reset must be an error value, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(opts.players + opts.storm);

    struct bench_results results;
    if (bench_run(&opts, &results) != 0) return 2;
    bench_report_summary(&results, stderr);

    json_t *doc = bench_report_json(&results);
    int failed = 0;
    if (opts.json_path[0]) {
        failed = json_dump_file(doc, opts.json_path, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        if (failed) fprintf(stderr, "cmmo-bench: cannot write %s\n", opts.json_path);
    } else {
        failed = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
    }
    json_decref(doc);
    json_decref(results.stats_end);
    return failed ? 1 : 0;
}
