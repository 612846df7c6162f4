/*
 * tuntap.c: the one piece of the stack written in C. It opens a Linux TUN or TAP
 * device, configures the kernel side of it, and moves frames between the device
 * and JavaScript in batches.
 *
 * Reads never go through the libuv thread pool: the fd is non-blocking and
 * watched by uv_poll; on each wake-up we read until EAGAIN (bounded by the batch
 * size and the buffer JavaScript lent us) and make ONE call into JavaScript for
 * the whole batch. Writes are plain write(2) calls on the same non-blocking fd,
 * one native call per batch.
 *
 * Exports:
 *   open(name, tap, offload) -> [fd, name]           throws Error{code}; offload (TUN):
 *                                                    virtio-net headers, checksum and
 *                                                    TCP segmentation offload (below)
 *   configure(name, addr, prefixLen, mtu, up)        kernel-side address/MTU/flags
 *   hwaddr(name) -> Buffer(6)                        kernel-side MAC (TAP)
 *   startPolling(fd, buf, meta, maxFrame, cb, vnet) -> h   cb(count, errno) per batch;
 *                                                    meta[3i]=offset, meta[3i+1]=length,
 *                                                    meta[3i+2]=1 if the checksum is vouched for
 *   stopPolling(h, cb)                               cb() once the fd is closed
 *   writeBatch(fd, buf, meta, count) -> n | -errno   frames written before an error
 *
 * Offload (IFF_VNET_HDR + TUNSETOFFLOAD TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6, on TUN and TAP), as a virtio-net NIC
 * offers it: every frame both ways starts with a 10-byte struct virtio_net_hdr. The
 * kernel then hands us TCP segments of up to 64 KiB (as its TSO autosizing builds them,
 * not cut to the MTU) whose checksum it left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM). We strip
 * the header and tell JavaScript, per frame, that the kernel vouches for the transport
 * checksum (meta[3i+2] = 1), as a NIC's receive checksum offload would. On the way out
 * JavaScript writes the header itself (tun-device.ts).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define CHECK(call)                                                          \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_error(env, "EINTERNAL", "tuntap: Node-API call failed: " #call); \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *what, const char *name) {
  char msg[256];
  const char *hint = "";
  if (err == EPERM || err == EACCES) hint = " (needs root or CAP_NET_ADMIN)";
  else if (err == ENOENT || err == ENODEV) hint = " (is the tun module loaded? /dev/net/tun missing)";
  else if (err == EBUSY) hint = " (device name in use by another process or of another type)";
  snprintf(msg, sizeof msg, "%s %s: %s%s", what, name ? name : "", strerror(err), hint);
  napi_value code, message, error;
  const char *code_name = "EIO";
  switch (err) {
    case EPERM: code_name = "EPERM"; break;
    case EACCES: code_name = "EACCES"; break;
    case ENOENT: code_name = "ENOENT"; break;
    case ENODEV: code_name = "ENODEV"; break;
    case EBUSY: code_name = "EBUSY"; break;
    case EINVAL: code_name = "EINVAL"; break;
    case EEXIST: code_name = "EEXIST"; break;
    case EADDRNOTAVAIL: code_name = "EADDRNOTAVAIL"; break;
  }
  napi_create_string_utf8(env, code_name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errno_v;
  napi_create_int32(env, err, &errno_v);
  napi_set_named_property(env, error, "errno", errno_v);
  napi_throw(env, error);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *out, size_t cap) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, out, cap, &len) != napi_ok) return -1;
  return (int)len;
}

/* open(name: string, tap: boolean, offload?: boolean): [fd, actualName] */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  if (argc < 2 || get_string(env, argv[0], name, sizeof name) < 0) {
    napi_throw_type_error(env, "EINVAL", "open(name, tap): name must be a string");
    return NULL;
  }
  bool tap = false, offload = false;
  CHECK(napi_get_value_bool(env, argv[1], &tap));
  if (argc > 2) CHECK(napi_get_value_bool(env, argv[2], &offload));

  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return throw_errno(env, errno, "open /dev/net/tun for", name);
  const char *what; /* the step that failed, for the error */
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = (tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name, IFNAMSIZ - 1); /* name is NUL-terminated within IFNAMSIZ; ifr was zeroed */
  what = "TUNSETIFF";
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) goto fail;
  if (offload) {
    int hdr = (int)sizeof(struct virtio_net_hdr);
    what = "TUNSETVNETHDRSZ";
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) goto fail;
    what = "TUNSETOFFLOAD";
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) < 0) goto fail;
  } else {
    /* Offload settings belong to the device, not the fd: a persistent device may still
     * have them from an earlier open, and without virtio-net headers we could not tell
     * its partial checksums and 64 KiB segments from ordinary packets. Clear them. */
    (void)ioctl(fd, TUNSETOFFLOAD, 0UL);
  }
  napi_value result, fdv, namev;
  CHECK(napi_create_array_with_length(env, 2, &result));
  CHECK(napi_create_int32(env, fd, &fdv));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &namev));
  CHECK(napi_set_element(env, result, 0, fdv));
  CHECK(napi_set_element(env, result, 1, namev));
  return result;

fail: {
    int err = errno;
    close(fd);
    return throw_errno(env, err, what, name);
  }
}

/* configure(name, addr: u32 | 0, prefixLen, mtu, up[, txqueuelen]) */
static napi_value Configure(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  uint32_t addr = 0, prefix = 0, mtu = 0, txqlen = 0;
  bool up = false;
  if (argc < 5 || get_string(env, argv[0], name, sizeof name) < 0) {
    napi_throw_type_error(env, "EINVAL", "configure(name, addr, prefixLen, mtu, up)");
    return NULL;
  }
  CHECK(napi_get_value_uint32(env, argv[1], &addr));
  CHECK(napi_get_value_uint32(env, argv[2], &prefix));
  CHECK(napi_get_value_uint32(env, argv[3], &mtu));
  CHECK(napi_get_value_bool(env, argv[4], &up));
  if (argc > 5) CHECK(napi_get_value_uint32(env, argv[5], &txqlen));
  if (prefix > 32 || (mtu != 0 && (mtu < 68 || mtu > 65535))) {
    napi_throw_range_error(env, "EINVAL", "configure: prefix length must be 0..32 and MTU 68..65535");
    return NULL;
  }

  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return throw_errno(env, errno, "socket for", name);
  const char *what; /* the step that failed, for the error */
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, IFNAMSIZ - 1); /* name is NUL-terminated within IFNAMSIZ; ifr was zeroed */
  if (mtu) {
    ifr.ifr_mtu = (int)mtu;
    what = "set MTU of";
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) goto fail;
  }
  if (addr) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    memset(&ifr.ifr_addr, 0, sizeof ifr.ifr_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(addr);
    what = "set address of";
    if (ioctl(s, SIOCSIFADDR, &ifr) < 0) goto fail;
    memset(&ifr.ifr_netmask, 0, sizeof ifr.ifr_netmask);
    sin = (struct sockaddr_in *)&ifr.ifr_netmask;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(prefix == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - prefix)));
    what = "set netmask of";
    if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) goto fail;
  }
  if (txqlen) {
    /* The kernel's queue of packets for us (default 500 for TUN/TAP): a longer one rides
     * out bursts, such as floods, that arrive faster than one read batch. */
    ifr.ifr_qlen = (int)txqlen;
    what = "set txqueuelen of";
    if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0) goto fail;
  }
  what = "get flags of";
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) goto fail;
  if (up) ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  else ifr.ifr_flags &= ~IFF_UP;
  what = "set flags of";
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) goto fail;
  close(s);
  return NULL;

fail: {
    int err = errno;
    close(s);
    return throw_errno(env, err, what, name);
  }
}

/* configure6(name, addr: Buffer(16), prefixLen): adds an IPv6 address to the device's
 * kernel side (SIOCSIFADDR on an AF_INET6 socket takes a struct in6_ifreq). */
static napi_value Configure6(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  uint32_t prefix = 0;
  void *data = NULL;
  size_t len = 0;
  if (argc < 3 || get_string(env, argv[0], name, sizeof name) < 0) {
    napi_throw_type_error(env, "EINVAL", "configure6(name, addr16, prefixLen)");
    return NULL;
  }
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  CHECK(napi_get_value_uint32(env, argv[2], &prefix));
  if (len != 16 || prefix > 128) {
    napi_throw_range_error(env, "EINVAL", "configure6: a 16-byte address and a prefix length 0..128");
    return NULL;
  }
  int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return throw_errno(env, errno, "AF_INET6 socket for", name);
  const char *what = "get index of";
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) goto fail;
  struct in6_ifreq {
    struct in6_addr ifr6_addr;
    uint32_t ifr6_prefixlen;
    int ifr6_ifindex;
  } r6;
  memset(&r6, 0, sizeof r6);
  memcpy(&r6.ifr6_addr, data, 16);
  r6.ifr6_prefixlen = prefix;
  r6.ifr6_ifindex = ifr.ifr_ifindex;
  what = "set IPv6 address of";
  if (ioctl(s, SIOCSIFADDR, &r6) < 0) goto fail;
  close(s);
  return NULL;

fail: {
    int err = errno;
    close(s);
    return throw_errno(env, err, what, name);
  }
}

/* hwaddr(name): Buffer(6) */
static napi_value HwAddr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  if (argc < 1 || get_string(env, argv[0], name, sizeof name) < 0) {
    napi_throw_type_error(env, "EINVAL", "hwaddr(name)");
    return NULL;
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return throw_errno(env, errno, "socket for", name);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, IFNAMSIZ - 1); /* name is NUL-terminated within IFNAMSIZ; ifr was zeroed */
  if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
    int err = errno;
    close(s);
    return throw_errno(env, err, "get MAC of", name);
  }
  close(s);
  void *data;
  napi_value buf;
  CHECK(napi_create_buffer_copy(env, 6, ifr.ifr_hwaddr.sa_data, &data, &buf));
  return buf;
}

typedef struct {
  uv_poll_t poll;
  int fd;
  napi_env env;
  napi_ref cb;
  napi_ref buf_ref;
  napi_ref meta_ref;
  napi_ref close_cb;
  napi_async_context async_ctx;
  uint8_t *buf;
  size_t buf_len;
  int32_t *meta;
  size_t max_batch;
  size_t max_frame;
  int vnet;
  int stopped;
} poller_t;

/*
 * A frame read with offload on starts with a virtio_net_hdr. The kernel marks what it
 * vouches for: NEEDS_CSUM (it produced the packet and left the transport checksum
 * partial, for the "hardware" to finish) or DATA_VALID (it checked the checksum). Either
 * way the payload came from kernel memory intact, so JavaScript may skip verifying it,
 * as a stack trusts a NIC's receive checksum offload. Returns 1 for those, else 0.
 */
static int vnet_checksum_ok(const uint8_t *b) {
  struct virtio_net_hdr h;
  memcpy(&h, b, sizeof h);
  return (h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) != 0;
}

static void call_js(poller_t *p, napi_value cbv, size_t argc, napi_value *argv) {
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value recv, result;
  /* napi_make_callback converts its receiver to an object: undefined would throw. */
  napi_get_global(env, &recv);
  /* napi_make_callback gives the call a callback scope, so promise jobs and
   * process.nextTick callbacks queued by the handler run when it returns. */
  napi_status st = napi_make_callback(env, p->async_ctx, recv, cbv, argc, argv, &result);
  if (st == napi_pending_exception) {
    /* An exception thrown from a libuv callback must not be left pending:
     * clear it and hand it to Node's uncaught-exception machinery. */
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  poller_t *p = (poller_t *)handle->data;
  if (p->stopped) return;
  napi_env env = p->env;
  size_t n = 0, off = 0;
  int err = 0, transient = 0;
  if (status < 0) {
    err = -status;
  } else {
    while (n < p->max_batch && off + p->max_frame <= p->buf_len) {
      ssize_t r = read(p->fd, p->buf + off, p->max_frame);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EINVAL || errno == EMSGSIZE || errno == EFAULT) {
          /* One packet the kernel could not hand over (e.g. a GSO type the virtio-net
           * header cannot express): it is gone, the next one may be fine. Reported, and
           * reading goes on. */
          transient = errno;
          continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
        break;
      }
      if (r == 0) break;
      size_t hdr = 0;
      int ok = 0;
      if (p->vnet) {
        hdr = sizeof(struct virtio_net_hdr);
        if ((size_t)r < hdr) continue; /* cannot happen with IFF_VNET_HDR; dropped */
        ok = vnet_checksum_ok(p->buf + off);
      }
      p->meta[3 * n] = (int32_t)(off + hdr);
      p->meta[3 * n + 1] = (int32_t)((size_t)r - hdr);
      p->meta[3 * n + 2] = ok;
      n++;
      off += ((size_t)r + 7) & ~(size_t)7;
    }
  }
  if (n == 0 && err == 0 && transient == 0) return;
  if (err != 0) {
    /* A persistent error (EIO, EBADFD: the device is gone) would keep a level-triggered
     * watcher firing forever: stop watching, and let JavaScript hear of it once. */
    uv_poll_stop(&p->poll);
  } else {
    err = transient;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cbv, argv[2];
  napi_get_reference_value(env, p->cb, &cbv);
  napi_create_uint32(env, (uint32_t)n, &argv[0]);
  napi_create_int32(env, err, &argv[1]);
  call_js(p, cbv, 2, argv);
  napi_close_handle_scope(env, scope);
}

static void on_closed(uv_handle_t *h);

/* startPolling(fd, buf: ArrayBuffer view, meta: Int32Array, maxFrame, cb(count, errno), vnet?) */
static napi_value StartPolling(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, "EINVAL", "startPolling(fd, buf, meta, maxFrame, cb)");
    return NULL;
  }
  int32_t fd;
  uint32_t max_frame;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_uint32(env, argv[3], &max_frame));
  napi_typedarray_type t1, t2;
  size_t len1, len2, boff1, boff2;
  void *d1, *d2;
  napi_value ab1, ab2;
  CHECK(napi_get_typedarray_info(env, argv[1], &t1, &len1, &d1, &ab1, &boff1));
  CHECK(napi_get_typedarray_info(env, argv[2], &t2, &len2, &d2, &ab2, &boff2));
  if (t1 != napi_uint8_array || t2 != napi_int32_array || len2 < 3) {
    napi_throw_type_error(env, "EINVAL", "startPolling: buf must be a Uint8Array, meta an Int32Array of 3 per frame");
    return NULL;
  }
  bool vnet = false;
  if (argc > 5 && napi_get_value_bool(env, argv[5], &vnet) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "startPolling: vnet must be a boolean");
    return NULL;
  }
  /* A frame must fit the buffer (else nothing is ever read and the watcher spins), be
   * longer than a virtio-net header when there is one, and offsets must fit an int32. */
  if (max_frame == 0 || max_frame > len1 || len1 > INT32_MAX || (vnet && max_frame <= sizeof(struct virtio_net_hdr))) {
    napi_throw_range_error(env, "EINVAL", "startPolling: maxFrame must be 1..buf.length (more than 10 with vnet), buf at most 2^31-1 bytes");
    return NULL;
  }
  poller_t *p = calloc(1, sizeof *p);
  if (!p) { napi_throw_error(env, "ENOMEM", "startPolling: out of memory"); return NULL; }
  p->fd = fd;
  p->env = env;
  p->buf = d1;
  p->buf_len = len1;
  p->meta = d2;
  p->max_batch = len2 / 3;
  p->max_frame = max_frame;
  p->vnet = vnet;
  /* Until libuv holds the handle, every failure gives back what was made so far. */
  napi_value resource_name;
  struct uv_loop_s *loop;
  int r = 0;
  if (napi_create_reference(env, argv[4], 1, &p->cb) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &p->buf_ref) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &p->meta_ref) != napi_ok ||
      napi_create_string_utf8(env, "tcpip:tuntap", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &p->async_ctx) != napi_ok ||
      napi_get_uv_event_loop(env, &loop) != napi_ok ||
      (r = uv_poll_init(loop, &p->poll, fd)) != 0) {
    if (p->cb) napi_delete_reference(env, p->cb);
    if (p->buf_ref) napi_delete_reference(env, p->buf_ref);
    if (p->meta_ref) napi_delete_reference(env, p->meta_ref);
    if (p->async_ctx) napi_async_destroy(env, p->async_ctx);
    free(p);
    if (r != 0) return throw_errno(env, -r, "uv_poll_init on fd", NULL);
    napi_throw_error(env, "EINTERNAL", "tuntap: startPolling: a Node-API call failed");
    return NULL;
  }
  p->poll.data = p;
  r = uv_poll_start(&p->poll, UV_READABLE, on_readable);
  if (r != 0) {
    /* libuv holds the handle now: it is freed (and the fd closed) by on_closed. */
    p->stopped = 1;
    uv_close((uv_handle_t *)&p->poll, on_closed);
    return throw_errno(env, -r, "uv_poll_start on fd", NULL);
  }
  napi_value handle;
  CHECK(napi_create_external(env, p, NULL, NULL, &handle));
  return handle;
}

static void on_closed(uv_handle_t *h) {
  poller_t *p = (poller_t *)h->data;
  napi_env env = p->env;
  /* Only now that libuv has let go of the fd may it be closed. */
  close(p->fd);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (p->close_cb) {
    napi_value cbv;
    napi_get_reference_value(env, p->close_cb, &cbv);
    call_js(p, cbv, 0, NULL);
    napi_delete_reference(env, p->close_cb);
  }
  napi_delete_reference(env, p->cb);
  napi_delete_reference(env, p->buf_ref);
  napi_delete_reference(env, p->meta_ref);
  napi_async_destroy(env, p->async_ctx);
  napi_close_handle_scope(env, scope);
  free(p);
}

/* stopPolling(handle, cb): stops the watcher, closes the fd, then calls cb(). */
static napi_value StopPolling(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  poller_t *p;
  CHECK(napi_get_value_external(env, argv[0], (void **)&p));
  if (!p || p->stopped) return NULL;
  p->stopped = 1;
  if (argc > 1) {
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t == napi_function) CHECK(napi_create_reference(env, argv[1], 1, &p->close_cb));
  }
  uv_poll_stop(&p->poll);
  uv_close((uv_handle_t *)&p->poll, on_closed);
  return NULL;
}

/* setRef(handle, ref): whether the fd watcher keeps the Node process alive (uv_ref or
 * uv_unref), so that a stack with no open sockets lets the process exit, as Node's own
 * sockets do. */
static napi_value SetRef(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  poller_t *p;
  bool ref = true;
  if (argc < 2) {
    napi_throw_type_error(env, "EINVAL", "setRef(handle, ref)");
    return NULL;
  }
  CHECK(napi_get_value_external(env, argv[0], (void **)&p));
  CHECK(napi_get_value_bool(env, argv[1], &ref));
  if (!p || p->stopped) return NULL;
  if (ref) uv_ref((uv_handle_t *)&p->poll);
  else uv_unref((uv_handle_t *)&p->poll);
  return NULL;
}

/* writeBatch(fd, buf: Uint8Array, meta: Int32Array, count): frames written, or -errno
 * if the first write failed. A frame the kernel refuses (e.g. EINVAL, EIO) is skipped
 * and counted by the caller from the return; EAGAIN stops the batch. */
static napi_value WriteBatch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t count;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_uint32(env, argv[3], &count));
  napi_typedarray_type t1, t2;
  size_t len1, len2, boff;
  void *d1, *d2;
  napi_value ab;
  CHECK(napi_get_typedarray_info(env, argv[1], &t1, &len1, &d1, &ab, &boff));
  CHECK(napi_get_typedarray_info(env, argv[2], &t2, &len2, &d2, &ab, &boff));
  if (t1 != napi_uint8_array || t2 != napi_int32_array) {
    napi_throw_type_error(env, "EINVAL", "writeBatch: buf must be a Uint8Array, meta an Int32Array");
    return NULL;
  }
  uint8_t *buf = d1;
  int32_t *meta = d2;
  if (count > len2 / 2) count = (uint32_t)(len2 / 2);
  int32_t written = 0, first_err = 0;
  for (uint32_t i = 0; i < count; i++) {
    int32_t off = meta[2 * i], len = meta[2 * i + 1];
    if (off < 0 || len < 0 || (size_t)off + (size_t)len > len1) { first_err = EINVAL; break; }
    ssize_t r;
    do { r = write(fd, buf + off, (size_t)len); } while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) { if (!first_err) first_err = EAGAIN; break; }
      if (!first_err) first_err = errno;
      continue;
    }
    written++;
  }
  napi_value result;
  CHECK(napi_create_int32(env, written == 0 && first_err ? -first_err : written, &result));
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, Open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"configure", NULL, Configure, NULL, NULL, NULL, napi_enumerable, NULL},
    {"configure6", NULL, Configure6, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hwaddr", NULL, HwAddr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"startPolling", NULL, StartPolling, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stopPolling", NULL, StopPolling, NULL, NULL, NULL, napi_enumerable, NULL},
    {"writeBatch", NULL, WriteBatch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setRef", NULL, SetRef, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
