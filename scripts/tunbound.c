/*
 * tunbound.c: the bare TUN device's own bound on bulk transfer without offload, for the
 * bench (npm run bench -- --offload off compiles it with cc; nothing else uses it). It
 * moves MTU-sized frames through a TUN device with nothing but the system calls a stack
 * needs, so the stack's bulk rows can be put beside what the device allows.
 *
 *   tunbound NAME in|out SECONDS MTU
 *     Opens the TUN device NAME, prints "ready" and waits for a line on stdin (the bench
 *     gives the kernel side 10.13.0.1/24 and brings the device up meanwhile), then:
 *     in:  a thread sends MTU-sized UDP datagrams from a kernel socket to 10.13.0.2 (they
 *          leave through the device; sent 44 at a time with UDP_SEGMENT) while the main
 *          loop reads the frames from the device and counts their bytes;
 *     out: writes one prebuilt MTU-sized UDP/IPv4 frame (10.13.0.2 -> 10.13.0.1:9999, where
 *          a kernel socket is bound and never read) into the device in a loop.
 *     Prints {"value": Gbit/s of IP frames moved, "unit": "Gbit/s"}.
 *
 * Bounded: both loops stop after SECONDS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int mtu;
static double t_end;

static void *sender(void *arg) {
  (void)arg;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
  inet_pton(AF_INET, "10.13.0.2", &to.sin_addr);
  static char payload[65536];
  /* UDP segmentation offload (UDP_SEGMENT): one send of many datagrams, cut to MTU-sized
   * frames by the kernel as late as TCP's own segments are (GSO), so the sender costs
   * about what a kernel TCP sender does. Without it, a send per datagram. */
  int gso = mtu - 28;
  size_t n = (size_t)gso;
  if (setsockopt(s, IPPROTO_UDP, 103 /* UDP_SEGMENT */, &gso, sizeof gso) == 0) n = (size_t)gso * (65000 / (size_t)gso);
  while (now() < t_end) sendto(s, payload, n, 0, (struct sockaddr *)&to, sizeof to);
  close(s);
  return NULL;
}

static uint16_t csum(const uint8_t *b, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(b[i] << 8 | b[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

int main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[2], "in") != 0 && strcmp(argv[2], "out") != 0)) {
    fprintf(stderr, "usage: tunbound NAME in|out SECONDS MTU\n");
    return 2;
  }
  double seconds = atof(argv[3]);
  mtu = atoi(argv[4]);
  if (mtu < 576 || mtu > 9000 || seconds <= 0 || seconds > 60) {
    fprintf(stderr, "tunbound: MTU 576..9000, SECONDS 0..60\n");
    return 2;
  }
  int fd = open("/dev/net/tun", O_RDWR);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
    printf("{\"error\": \"open %s: %s\"}\n", argv[1], strerror(errno));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;

  static uint8_t buf[65536];
  long long bytes = 0;
  double t0 = now();
  t_end = t0 + seconds;
  if (strcmp(argv[2], "in") == 0) {
    pthread_t th;
    pthread_create(&th, NULL, sender, NULL);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (now() < t_end) {
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t r = read(fd, buf, sizeof buf);
      if (r > 0 && (buf[0] >> 4) == 4 && buf[9] == 17) bytes += r;
    }
    pthread_join(th, NULL);
  } else {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(9999)};
    inet_pton(AF_INET, "10.13.0.1", &at.sin_addr);
    if (bind(s, (struct sockaddr *)&at, sizeof at) < 0) {
      printf("{\"error\": \"bind 10.13.0.1:9999: %s\"}\n", strerror(errno));
      return 1;
    }
    /* IPv4 header (no options), UDP header with no checksum (allowed over IPv4), zeros. */
    memset(buf, 0, (size_t)mtu);
    buf[0] = 0x45;
    buf[2] = (uint8_t)(mtu >> 8);
    buf[3] = (uint8_t)mtu;
    buf[6] = 0x40; /* DF */
    buf[8] = 64;
    buf[9] = 17;
    inet_pton(AF_INET, "10.13.0.2", buf + 12);
    inet_pton(AF_INET, "10.13.0.1", buf + 16);
    uint16_t c = csum(buf, 20);
    buf[10] = (uint8_t)(c >> 8);
    buf[11] = (uint8_t)c;
    buf[20] = 0x00; buf[21] = 9;            /* source port 9 */
    buf[22] = 0x27; buf[23] = 0x0f;         /* destination port 9999 */
    buf[24] = (uint8_t)((mtu - 20) >> 8);
    buf[25] = (uint8_t)(mtu - 20);
    while (now() < t_end) {
      if (write(fd, buf, (size_t)mtu) == mtu) bytes += mtu;
    }
    close(s);
  }
  double secs = now() - t0;
  printf("{\"value\": %.3f, \"unit\": \"Gbit/s\"}\n", bytes * 8 / secs / 1e9);
  close(fd);
  return 0;
}
