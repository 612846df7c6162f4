/*
 * loadgen.c: the bench's C client, for the rows where a Node client on the kernel side
 * would be the bound instead of the server being measured (npm run bench compiles it
 * with cc; nothing else uses it).
 *
 *   loadgen conn ADDR PORT SECONDS THREADS
 *       THREADS loops of: connect, shutdown(SHUT_WR), read until the server's FIN,
 *       close. Prints {"value": connections per second, "errors": N}.
 *   loadgen rr ADDR PORT SECONDS
 *       One connection (TCP_NODELAY): write 1 byte, read 1 byte, repeat.
 *       Prints {"value": transactions per second, "p50Ms", "p99Ms": their latency}.
 *
 * Bounded: every loop stops after SECONDS, and every socket has 2 s send/receive timeouts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* IPv4 or IPv6, whichever ADDR is. */
static struct sockaddr_storage target;
static socklen_t target_len;
static double seconds;
static double t_end;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_conn(void) {
  int fd = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&target, target_len) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

typedef struct {
  long done;
  long errors;
} counts_t;

static void *conn_loop(void *arg) {
  counts_t *c = arg;
  char buf[256];
  while (now() < t_end) {
    int fd = open_conn();
    if (fd < 0) {
      c->errors++;
      continue;
    }
    shutdown(fd, SHUT_WR);
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {}
    if (r < 0) c->errors++;
    else c->done++;
    close(fd);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: loadgen conn ADDR PORT SECONDS THREADS | loadgen rr ADDR PORT SECONDS\n");
    return 2;
  }
  memset(&target, 0, sizeof target);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&target;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&target;
  if (inet_pton(AF_INET, argv[2], &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)atoi(argv[3]));
    target_len = sizeof *v4;
  } else if (inet_pton(AF_INET6, argv[2], &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)atoi(argv[3]));
    target_len = sizeof *v6;
  } else {
    fprintf(stderr, "loadgen: bad address %s\n", argv[2]);
    return 2;
  }
  seconds = atof(argv[4]);
  double t0 = now();
  t_end = t0 + seconds;
  if (strcmp(argv[1], "conn") == 0) {
    int threads = argc > 5 ? atoi(argv[5]) : 4;
    if (threads < 1 || threads > 256) threads = 4;
    pthread_t th[256];
    counts_t counts[256];
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, conn_loop, &counts[i]);
    long done = 0, errors = 0;
    for (int i = 0; i < threads; i++) {
      pthread_join(th[i], NULL);
      done += counts[i].done;
      errors += counts[i].errors;
    }
    printf("{\"value\": %.1f, \"unit\": \"connections/s\", \"errors\": %ld}\n", (double)done / (now() - t0), errors);
    return 0;
  }
  if (strcmp(argv[1], "rr") == 0) {
    int fd = open_conn();
    if (fd < 0) {
      printf("{\"error\": \"connect: %s\"}\n", strerror(errno));
      return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    long n = 0;
    char b = 'x';
    /* Each transaction's time, in microseconds (the last bucket: 100 ms or more). */
    enum { BUCKETS = 100001 };
    static long hist[BUCKETS];
    double t = now();
    while (t < t_end) {
      if (write(fd, &b, 1) != 1 || read(fd, &b, 1) != 1) {
        printf("{\"error\": \"after %ld transactions: %s\"}\n", n, strerror(errno));
        return 1;
      }
      double t2 = now();
      long us = (long)((t2 - t) * 1e6);
      hist[us < BUCKETS - 1 ? us : BUCKETS - 1]++;
      t = t2;
      n++;
    }
    double p[2] = {0, 0}, want[2] = {0.5, 0.99};
    for (int k = 0; k < 2; k++) {
      long seen = 0;
      for (long i = 0; i < BUCKETS; i++) {
        seen += hist[i];
        if (seen >= want[k] * n) { p[k] = i / 1000.0; break; }
      }
    }
    printf("{\"value\": %.1f, \"unit\": \"transactions/s\", \"p50Ms\": %.3f, \"p99Ms\": %.3f}\n", (double)n / (now() - t0), p[0], p[1]);
    close(fd);
    return 0;
  }
  fprintf(stderr, "loadgen: unknown mode %s\n", argv[1]);
  return 2;
}
