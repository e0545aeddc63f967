// Closed-loop WebSocket echo load generator for loopback benchmarks.
//
// Opens CONNECTIONS WebSocket connections to ws://127.0.0.1:PORT/PATH. Each connection keeps exactly
// one masked text message of PAYLOAD bytes in flight: it sends, waits for the echo, and sends again.
// Round trips completed after WARMUP seconds and before WARMUP + DURATION seconds are counted, and
// their latencies (send to complete echo, in microseconds) go into a 1 us histogram up to 1 s.
//
// Usage: echo_load PORT PATH CONNECTIONS DURATION_SECONDS [WARMUP_SECONDS] [PAYLOAD_BYTES]
// Prints one JSON object: round trips per second, p50, p99 and max latency, and error count.
// Only 127.0.0.1 is ever contacted. A hard alarm ends the process after WARMUP + DURATION + 30 s.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HISTOGRAM_BUCKETS 1000000 /* 1 us buckets, so latencies up to 1 s; longer ones go in the last */
#define READ_BUFFER_BYTES 65536

struct connection {
    int fd;
    uint64_t sent_ns;
    size_t buffered;
    unsigned char buffer[READ_BUFFER_BYTES];
};

static uint32_t *histogram;
static uint64_t counted;
static uint64_t errors;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what) {
    fprintf(stderr, "echo_load: %s failed: %s\n", what, strerror(errno));
    exit(1);
}

static int write_all(int fd, const unsigned char *data, size_t length) {
    while (length > 0) {
        ssize_t n = send(fd, data, length, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                /* The socket buffer is full only if the server stopped reading; wait briefly. */
                usleep(100);
                continue;
            }
            return -1;
        }
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

/* Opens one connection and completes the opening handshake with blocking I/O. */
static int open_connection(int port, const char *path) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket");
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) fail("connect to 127.0.0.1");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    char request[512];
    int length = snprintf(request, sizeof request,
                          "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                          path, port);
    if (write_all(fd, (unsigned char *)request, (size_t)length) != 0) fail("sending the handshake");

    /* Read byte by byte up to the blank line so no frame bytes are consumed here. */
    char response[2048];
    size_t received = 0;
    while (received < sizeof response - 1) {
        ssize_t n = recv(fd, response + received, 1, 0);
        if (n <= 0) fail("reading the handshake response");
        received += (size_t)n;
        response[received] = 0;
        if (received >= 4 && memcmp(response + received - 4, "\r\n\r\n", 4) == 0) break;
    }
    if (strncmp(response, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "echo_load: handshake rejected: %.80s\n", response);
        exit(1);
    }
    return fd;
}

static unsigned char *frame;
static size_t frame_length;

/* Builds the one masked text frame every connection sends. */
static void build_frame(size_t payload_bytes) {
    frame = malloc(payload_bytes + 14);
    size_t offset = 0;
    frame[offset++] = 0x81;
    if (payload_bytes < 126) {
        frame[offset++] = 0x80 | (unsigned char)payload_bytes;
    } else if (payload_bytes <= 0xFFFF) {
        frame[offset++] = 0x80 | 126;
        frame[offset++] = (unsigned char)(payload_bytes >> 8);
        frame[offset++] = (unsigned char)payload_bytes;
    } else {
        fprintf(stderr, "echo_load: payloads over 65535 bytes are not supported\n");
        exit(2);
    }
    const unsigned char mask[4] = {0x37, 0xFA, 0x21, 0x3D};
    memcpy(frame + offset, mask, 4);
    offset += 4;
    for (size_t i = 0; i < payload_bytes; i++) frame[offset + i] = (unsigned char)('a' + i % 26) ^ mask[i % 4];
    frame_length = offset + payload_bytes;
}

static void send_message(struct connection *c) {
    c->sent_ns = now_ns();
    if (write_all(c->fd, frame, frame_length) != 0) {
        errors++;
    }
}

/* Consumes complete frames from the buffer; returns how many data frames completed. */
static int consume_frames(struct connection *c) {
    int completed = 0;
    size_t offset = 0;
    for (;;) {
        size_t available = c->buffered - offset;
        if (available < 2) break;
        unsigned char *p = c->buffer + offset;
        size_t header = 2;
        uint64_t length = p[1] & 0x7F;
        if (length == 126) {
            if (available < 4) break;
            length = (uint64_t)p[2] << 8 | p[3];
            header = 4;
        } else if (length == 127) {
            if (available < 10) break;
            length = 0;
            for (int i = 2; i < 10; i++) length = length << 8 | p[i];
            header = 10;
        }
        if (header + length > READ_BUFFER_BYTES) {
            fprintf(stderr, "echo_load: frame of %llu bytes exceeds the read buffer\n", (unsigned long long)length);
            exit(1);
        }
        if (available < header + length) break;
        unsigned opcode = p[0] & 0x0F;
        if (opcode == 0x1 || opcode == 0x2) completed++;
        if (opcode == 0x8) {
            fprintf(stderr, "echo_load: the server closed a connection\n");
            errors++;
        }
        offset += header + (size_t)length;
    }
    memmove(c->buffer, c->buffer + offset, c->buffered - offset);
    c->buffered -= offset;
    return completed;
}

static uint64_t percentile(double fraction) {
    uint64_t target = (uint64_t)((double)counted * fraction);
    if (target >= counted) target = counted - 1;
    uint64_t seen = 0;
    for (uint64_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += histogram[i];
        if (seen > target) return i;
    }
    return HISTOGRAM_BUCKETS - 1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: echo_load PORT PATH CONNECTIONS DURATION_SECONDS [WARMUP_SECONDS] [PAYLOAD_BYTES]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *path = argv[2];
    int connections = atoi(argv[3]);
    double duration = atof(argv[4]);
    double warmup = argc > 5 ? atof(argv[5]) : 1.0;
    size_t payload_bytes = argc > 6 ? (size_t)atol(argv[6]) : 64;
    if (port <= 0 || port > 65535 || connections <= 0 || connections > 10000 || duration <= 0 || duration > 600 ||
        warmup < 0 || warmup > 60) {
        fprintf(stderr, "echo_load: PORT 1-65535, CONNECTIONS 1-10000, DURATION 0-600 s and WARMUP 0-60 s\n");
        return 2;
    }
    alarm((unsigned)(warmup + duration + 30));

    histogram = calloc(HISTOGRAM_BUCKETS, sizeof *histogram);
    struct connection *all = calloc((size_t)connections, sizeof *all);
    if (histogram == NULL || all == NULL) fail("calloc");
    build_frame(payload_bytes);

    int epoll_fd = epoll_create1(0);
    if (epoll_fd < 0) fail("epoll_create1");
    for (int i = 0; i < connections; i++) {
        all[i].fd = open_connection(port, path);
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, all[i].fd, &event) != 0) fail("epoll_ctl");
    }

    uint64_t start = now_ns();
    uint64_t count_from = start + (uint64_t)(warmup * 1e9);
    uint64_t count_until = count_from + (uint64_t)(duration * 1e9);
    for (int i = 0; i < connections; i++) send_message(&all[i]);

    struct epoll_event events[256];
    uint64_t max_us = 0;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= count_until) break;
        int ready = epoll_wait(epoll_fd, events, 256, 100);
        if (ready < 0) {
            if (errno == EINTR) continue;
            fail("epoll_wait");
        }
        for (int e = 0; e < ready; e++) {
            struct connection *c = &all[events[e].data.u32];
            ssize_t n = recv(c->fd, c->buffer + c->buffered, READ_BUFFER_BYTES - c->buffered, MSG_DONTWAIT);
            if (n <= 0) {
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                fprintf(stderr, "echo_load: a connection ended\n");
                errors++;
                epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            c->buffered += (size_t)n;
            int completed = consume_frames(c);
            if (completed == 0) continue;
            uint64_t received = now_ns();
            if (received >= count_from && received < count_until) {
                uint64_t us = (received - c->sent_ns) / 1000;
                if (us > max_us) max_us = us;
                histogram[us < HISTOGRAM_BUCKETS ? us : HISTOGRAM_BUCKETS - 1]++;
                counted++;
            }
            send_message(c);
        }
    }

    if (counted == 0) {
        fprintf(stderr, "echo_load: no round trip completed in the measured window\n");
        return 1;
    }
    printf("{\"connections\": %d, \"payload_bytes\": %zu, \"seconds\": %.1f, \"round_trips\": %llu, "
           "\"round_trips_per_second\": %.0f, \"p50_us\": %llu, \"p99_us\": %llu, \"max_us\": %llu, \"errors\": %llu}\n",
           connections, payload_bytes, duration, (unsigned long long)counted, (double)counted / duration,
           (unsigned long long)percentile(0.50), (unsigned long long)percentile(0.99), (unsigned long long)max_us,
           (unsigned long long)errors);
    for (int i = 0; i < connections; i++) close(all[i].fd);
    return errors > 0 ? 1 : 0;
}
