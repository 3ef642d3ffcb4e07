/*
 * The machine's enqueue→start floor, for `make bench` (scripts/bench.sh, section 2).
 *
 * What this VM gives any client at all: a pacer and a consumer in C over hiredis, on the same Redis, at the same
 * rate and pacing as `hoopoe-bench latency` (open loop: job i is due at start + i/rate, its latency counts from that
 * scheduled time). The consumer is a second process blocked in `XREADGROUP ... BLOCK`, as a Hoopoe worker's fetch
 * is; it takes the clock as each reply arrives and acknowledges what it read in one pipelined round trip. No job
 * system, no threads handing work over, no JSON: only the wake-ups and round trips the machine itself costs.
 * Hoopoe's p99 read beside this one, in the same run, says how much of it is Hoopoe's (decision 0060).
 *
 * Usage: latency_floor HOST PORT RATE SECONDS. Prints one JSON line: p50_ms, p99_ms, max_ms (from the scheduled
 * time), p99_after_send_ms (from when the XADD was appended: the pacer's own lag left out), jobs, expected.
 * Percentiles as hoopoe-bench's: the sample at index min(n - 1, n * p) of the sorted latencies.
 * Exit 1 with a message on stderr when Redis cannot be reached or not every job arrives within SECONDS + 10 s.
 */
#include <hiredis/hiredis.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double wall_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_until(double when) {
    long nanoseconds = (long)((when - (double)(time_t)when) * 1e9);
    struct timespec t = {.tv_sec = (time_t)when, .tv_nsec = nanoseconds < 999999999 ? nanoseconds : 999999999};
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL) == EINTR) {}
}

static int ascending(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *sorted, long n, double p) {
    long i = (long)((double)n * p);
    return sorted[i < n - 1 ? i : n - 1];
}

static redisContext *connect_or_die(const char *host, int port) {
    redisContext *c = redisConnect(host, port);
    if (c == NULL || c->err) {
        fprintf(stderr, "latency_floor: cannot connect to %s:%d: %s\n", host, port, c ? c->errstr : "out of memory");
        exit(1);
    }
    return c;
}

static void command_or_die(redisContext *c, const char *what, redisReply *reply) {
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "latency_floor: %s failed: %s\n", what, reply ? reply->str : c->errstr);
        exit(1);
    }
    freeReplyObject(reply);
}

/* The consumer: reads until every job came or the deadline passed; latencies (ms) into the two arrays. */
static long consume(redisContext *c, const char *key, long total, double deadline, double *from_schedule,
                    double *from_send) {
    long got = 0;
    while (got < total && wall_now() < deadline) {
        redisReply *r = redisCommand(c, "XREADGROUP GROUP g c COUNT 20 BLOCK 1000 STREAMS %s >", key);
        double now = wall_now();
        if (r == NULL) {
            fprintf(stderr, "latency_floor: XREADGROUP failed: %s\n", c->errstr);
            exit(1);
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
            redisReply *entries = r->element[0]->element[1];
            size_t acks = 0;
            for (size_t i = 0; i < entries->elements && got < total; i++, acks++) {
                redisReply *fields = entries->element[i]->element[1];  /* s <scheduled> t <sent> */
                from_schedule[got] = (now - atof(fields->element[1]->str)) * 1000;
                from_send[got] = (now - atof(fields->element[3]->str)) * 1000;
                got++;
                redisAppendCommand(c, "XACK %s g %s", key, entries->element[i]->element[0]->str);
            }
            for (size_t i = 0; i < acks; i++) {  /* one reply for each XACK appended */
                redisReply *ack;
                if (redisGetReply(c, (void **)&ack) != REDIS_OK) exit(1);
                freeReplyObject(ack);
            }
        }
        freeReplyObject(r);
    }
    return got;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: latency_floor HOST PORT RATE SECONDS\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), rate = atoi(argv[3]), seconds = atoi(argv[4]);
    long total = (long)rate * seconds;
    if (port <= 0 || rate <= 0 || seconds <= 0) {
        fprintf(stderr, "latency_floor: PORT, RATE and SECONDS must be positive numbers\n");
        return 2;
    }
    char key[64];
    snprintf(key, sizeof key, "bench-floor:%ld", (long)getpid());
    redisContext *c = connect_or_die(host, port);
    command_or_die(c, "DEL", redisCommand(c, "DEL %s", key));
    command_or_die(c, "XGROUP CREATE", redisCommand(c, "XGROUP CREATE %s g $ MKSTREAM", key));

    int ready[2], results[2];
    if (pipe(ready) != 0 || pipe(results) != 0) return 1;
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
        redisContext *w = connect_or_die(host, port);
        double *from_schedule = malloc(sizeof(double) * (size_t)total), *from_send = malloc(sizeof(double) * (size_t)total);
        if (!from_schedule || !from_send) return 1;
        if (write(ready[1], "r", 1) != 1) return 1;
        long got = consume(w, key, total, wall_now() + seconds + 10, from_schedule, from_send);
        double line[5] = {-1, -1, -1, -1, (double)got};
        if (got > 0) {
            qsort(from_schedule, (size_t)got, sizeof(double), ascending);
            qsort(from_send, (size_t)got, sizeof(double), ascending);
            line[0] = percentile(from_schedule, got, 0.50);
            line[1] = percentile(from_schedule, got, 0.99);
            line[2] = from_schedule[got - 1];
            line[3] = percentile(from_send, got, 0.99);
        }
        return write(results[1], line, sizeof line) == sizeof line ? 0 : 1;
    }

    /* Only the child writes: with the write ends closed here, a child that dies reads as end of file, not a hang. */
    close(ready[1]);
    close(results[1]);
    char byte;
    if (read(ready[0], &byte, 1) != 1) {
        fprintf(stderr, "latency_floor: the consumer did not start\n");
        freeReplyObject(redisCommand(c, "DEL %s", key));
        return 1;
    }
    usleep(300000);  /* the consumer is blocked in its first XREADGROUP, as hoopoe-bench's worker has started */
    double start = wall_now() + 0.020;
    long next = 0;
    while (next < total) {
        sleep_until(start + (double)next / rate);
        long due = (long)((wall_now() - start) * rate) + 1;
        if (due > total) due = total;
        long sent = 0;
        for (; next < due; next++, sent++) {
            char scheduled[32], now[32];
            snprintf(scheduled, sizeof scheduled, "%.6f", start + (double)next / rate);
            snprintf(now, sizeof now, "%.6f", wall_now());
            redisAppendCommand(c, "XADD %s * s %s t %s", key, scheduled, now);
        }
        for (; sent > 0; sent--) {  /* writes the burst in one go, then reads its replies */
            redisReply *reply;
            if (redisGetReply(c, (void **)&reply) != REDIS_OK) {
                fprintf(stderr, "latency_floor: XADD failed: %s\n", c->errstr);
                kill(child, SIGTERM);
                return 1;
            }
            freeReplyObject(reply);
        }
    }

    double line[5];
    ssize_t n = read(results[0], line, sizeof line);
    int status = 0;
    waitpid(child, &status, 0);
    freeReplyObject(redisCommand(c, "DEL %s", key));
    if (n != sizeof line || status != 0) {
        fprintf(stderr, "latency_floor: the consumer failed\n");
        return 1;
    }
    printf("{\"name\": \"floor: a C hiredis pair at %d jobs/s\", \"rate\": %d, \"p50_ms\": %.4f, \"p99_ms\": %.4f, "
           "\"max_ms\": %.4f, \"p99_after_send_ms\": %.4f, \"jobs\": %ld, \"expected\": %ld}\n",
           rate, rate, line[0], line[1], line[2], line[3], (long)line[4], total);
    if ((long)line[4] < total) {
        fprintf(stderr, "latency_floor: only %ld of %ld jobs arrived\n", (long)line[4], total);
        return 1;
    }
    return 0;
}
