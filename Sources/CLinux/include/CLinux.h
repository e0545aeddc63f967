#ifndef CLINUX_H
#define CLINUX_H
// Linux system calls and constants that the Glibc module does not export to Swift, wrapped so
// that Swift never touches the packed `struct epoll_event` directly.
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/inotify.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>

/// One ready file descriptor as reported by epoll_wait, unpacked.
typedef struct {
    uint64_t data;
    uint32_t events;
} clinux_ready_event;

static const uint32_t CLINUX_EPOLLIN = EPOLLIN;
static const uint32_t CLINUX_EPOLLOUT = EPOLLOUT;
static const uint32_t CLINUX_EPOLLERR = EPOLLERR;
static const uint32_t CLINUX_EPOLLHUP = EPOLLHUP;
static const uint32_t CLINUX_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t CLINUX_EPOLLET = EPOLLET;
static const uint32_t CLINUX_EPOLLEXCLUSIVE = EPOLLEXCLUSIVE;

int clinux_epoll_create(void);
/// Adds, modifies or deletes `fd` (op is EPOLL_CTL_ADD, _MOD or _DEL); returns 0 or -1 with errno.
int clinux_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/// Waits like epoll_wait and copies up to `max` ready events into `out`; returns the count or -1.
int clinux_epoll_wait(int epfd, clinux_ready_event *out, int max, int timeout_ms);
static const int CLINUX_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int CLINUX_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int CLINUX_EPOLL_CTL_DEL = EPOLL_CTL_DEL;

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; returns the new socket or -1 with errno.
int clinux_accept_nonblocking(int fd, struct sockaddr *address, socklen_t *length);

int clinux_eventfd(void);
int clinux_inotify_init(void);
int clinux_inotify_add_watch(int fd, const char *path);
/// Reads pending inotify events from `fd`; returns 1 when at least one event was read, 0 when none
/// were pending, -1 on error. The gateway only needs "something changed", so names are not returned.
int clinux_inotify_drain(int fd);

int clinux_timerfd_create(void);
int clinux_timerfd_set_ms(int fd, uint64_t initial_ms, uint64_t interval_ms);

/// Raises RLIMIT_NOFILE to its hard limit; returns the new soft limit, or -1.
long clinux_raise_nofile_limit(void);

/// Blocks SIGTERM, SIGINT, SIGHUP and SIGPIPE in the calling thread (call before creating threads so
/// that every thread inherits the mask) and returns a signalfd that reports the first three.
int clinux_signalfd_for_shutdown_signals(void);
/// Reads one signal number from the signalfd, or -1.
int clinux_read_signal(int fd);

/// Monotonic clock in nanoseconds.
uint64_t clinux_monotonic_ns(void);
/// Wall clock in milliseconds since the Unix epoch.
uint64_t clinux_wall_ms(void);
/// CPU time of the calling process (user + system) in microseconds.
uint64_t clinux_process_cpu_us(void);

#endif
