/*
 * diskbench: the guest side of Lockstep's disk benchmark (benchmarks/disk.sh), a
 * small dd/fio-like workload written for this project so that Lockstep and QEMU
 * run the very same program on the same image.
 *
 *   diskbench write FILE MIB     sequential 1 MiB writes of MIB MiB, then one
 *                                fsync; prints MB/s including the fsync
 *   diskbench fsync FILE COUNT   COUNT times: a 4 KiB write at the end of FILE,
 *                                then fdatasync (what Redis's appendfsync always
 *                                does per write); prints p50/p99/max latency
 *
 * Output is one line of key=value pairs, e.g.
 *   diskbench write mib=64 seconds=1.234 mb_per_s=54.4
 *   diskbench fsync count=200 p50_ms=0.91 p99_ms=2.10 max_ms=3.02 per_s=1010.1
 * Times come from clock_gettime(CLOCK_MONOTONIC) inside the guest, which on
 * Lockstep and on QEMU follows the host's clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "diskbench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void write_all(int fd, const char *buffer, size_t length) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(fd, buffer + done, length - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("write");
        }
        done += (size_t)n;
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: diskbench write FILE MIB | diskbench fsync FILE COUNT\n");
        return 2;
    }
    long n = strtol(argv[3], NULL, 10);
    if (n <= 0) {
        fprintf(stderr, "diskbench: %s is not a positive number\n", argv[3]);
        return 2;
    }
    static char buffer[1 << 20];
    for (size_t i = 0; i < sizeof buffer; i++) buffer[i] = (char)(i * 131 + 7);
    if (strcmp(argv[1], "write") == 0) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) die(argv[2]);
        double start = now();
        for (long i = 0; i < n; i++) write_all(fd, buffer, sizeof buffer);
        if (fsync(fd) != 0) die("fsync");
        double seconds = now() - start;
        close(fd);
        printf("diskbench write mib=%ld seconds=%.3f mb_per_s=%.1f\n", n, seconds, (double)n * 1.048576 / seconds);
    } else if (strcmp(argv[1], "fsync") == 0) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0) die(argv[2]);
        double *latency = malloc(sizeof(double) * (size_t)n);
        if (!latency) die("malloc");
        double start = now();
        for (long i = 0; i < n; i++) {
            double t0 = now();
            write_all(fd, buffer, 4096);
            if (fdatasync(fd) != 0) die("fdatasync");
            latency[i] = (now() - t0) * 1000;
        }
        double seconds = now() - start;
        close(fd);
        qsort(latency, (size_t)n, sizeof(double), compare);
        printf("diskbench fsync count=%ld p50_ms=%.3f p99_ms=%.3f max_ms=%.3f per_s=%.1f\n", n,
               latency[n / 2], latency[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], latency[n - 1], (double)n / seconds);
        free(latency);
    } else {
        fprintf(stderr, "diskbench: unknown test '%s' (write or fsync)\n", argv[1]);
        return 2;
    }
    return 0;
}
