/*
 * bench_proc: CPU time and memory of a process, read from /proc (Linux only).
 *
 * The server's CPU is reported as a percentage of one core over a window: the difference of two
 * samples. The benchmark samples itself the same way so a reader can see it was not the
 * bottleneck.
 */
#ifndef CMMO_BENCH_PROC_H
#define CMMO_BENCH_PROC_H

#include <stdint.h>
#include <sys/types.h>

struct bench_proc_sample {
    int ok;             /* 1 if the process existed and both files parsed */
    uint64_t wall_ns;   /* uv_hrtime()-compatible monotonic time of the sample */
    uint64_t cpu_ticks; /* utime + stime, in clock ticks (sysconf(_SC_CLK_TCK)) */
    long rss_kb;        /* VmRSS */
    long hwm_kb;        /* VmHWM: peak resident set */
    long threads;       /* Threads */
};

/* Samples pid (0 = this process) at time now_ns. Returns 0, or -1 (and ok = 0) if it is gone. */
int bench_proc_sample(pid_t pid, uint64_t now_ns, struct bench_proc_sample *out);

/* Busy and total jiffies of each CPU from /proc/stat, to see what else ran on the server's and the
 * benchmark's cores during the window (other processes disturb the figures). */
#define BENCH_PROC_MAX_CPUS 64
struct bench_proc_cpus {
    int count;
    uint64_t busy[BENCH_PROC_MAX_CPUS];
    uint64_t total[BENCH_PROC_MAX_CPUS];
};

/* Fills cpus from /proc/stat. Returns 0, or -1 (count = 0). */
int bench_proc_cpus_sample(struct bench_proc_cpus *cpus);

/* Busy percentage of CPU i between two samples, or -1 if unknown. */
double bench_proc_cpu_busy_percent(const struct bench_proc_cpus *from,
                                   const struct bench_proc_cpus *to, int i);

/* CPU use between two samples in percent of one core; -1 if either sample failed or the window is
 * empty. */
double bench_proc_cpu_percent(const struct bench_proc_sample *from,
                              const struct bench_proc_sample *to);

#endif
