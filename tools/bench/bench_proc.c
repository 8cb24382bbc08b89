/* bench_proc: /proc sampling (see bench_proc.h). */
#include "bench_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Both files are a few hundred bytes to ~1.5 KiB; 4 KiB leaves room. */
#define PROC_FILE_MAX 4096

static int read_small_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

static long status_field_kb(const char *status, const char *name)
{
    const char *p = strstr(status, name);
    if (!p) return -1;
    return strtol(p + strlen(name), NULL, 10);
}

int bench_proc_sample(pid_t pid, uint64_t now_ns, struct bench_proc_sample *out)
{
    char path[64], buf[PROC_FILE_MAX];
    memset(out, 0, sizeof(*out));
    out->wall_ns = now_ns;
    if (pid > 0)
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    else
        snprintf(path, sizeof(path), "/proc/self/stat");
    if (read_small_file(path, buf, sizeof(buf)) != 0) return -1;
    /* The command name (field 2) may hold spaces and parentheses: count from the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p++;
    unsigned long long utime = 0, stime = 0;
    /* After ')': state is field 3, utime field 14, stime field 15. */
    for (int field = 3; field <= 15 && p; field++) {
        while (*p == ' ')
            p++;
        if (field == 14) utime = strtoull(p, NULL, 10);
        if (field == 15) stime = strtoull(p, NULL, 10);
        p = strchr(p, ' ');
    }
    out->cpu_ticks = utime + stime;

    if (pid > 0)
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    else
        snprintf(path, sizeof(path), "/proc/self/status");
    if (read_small_file(path, buf, sizeof(buf)) != 0) return -1;
    out->rss_kb = status_field_kb(buf, "VmRSS:");
    out->hwm_kb = status_field_kb(buf, "VmHWM:");
    out->threads = status_field_kb(buf, "Threads:");
    out->ok = 1;
    return 0;
}

double bench_proc_cpu_percent(const struct bench_proc_sample *from,
                              const struct bench_proc_sample *to)
{
    if (!from->ok || !to->ok || to->wall_ns <= from->wall_ns) return -1.0;
    double hz = (double)sysconf(_SC_CLK_TCK);
    double cpu_s = (double)(to->cpu_ticks - from->cpu_ticks) / hz;
    double wall_s = (double)(to->wall_ns - from->wall_ns) / 1e9;
    return 100.0 * cpu_s / wall_s;
}

int bench_proc_cpus_sample(struct bench_proc_cpus *cpus)
{
    cpus->count = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        unsigned cpu;
        unsigned long long v[8] = {0};
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9') continue;
        if (sscanf(line + 3, "%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 5 ||
            cpu >= BENCH_PROC_MAX_CPUS)
            continue;
        /* user nice system idle iowait irq softirq steal: idle and iowait are not busy. */
        uint64_t busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        cpus->busy[cpu] = busy;
        cpus->total[cpu] = busy + v[3] + v[4];
        if ((int)cpu + 1 > cpus->count) cpus->count = (int)cpu + 1;
    }
    fclose(f);
    return cpus->count > 0 ? 0 : -1;
}

double bench_proc_cpu_busy_percent(const struct bench_proc_cpus *from,
                                   const struct bench_proc_cpus *to, int i)
{
    if (i >= from->count || i >= to->count || to->total[i] <= from->total[i]) return -1.0;
    return 100.0 * (double)(to->busy[i] - from->busy[i]) / (double)(to->total[i] - from->total[i]);
}
