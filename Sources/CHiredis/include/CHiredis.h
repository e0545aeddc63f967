#ifndef CHIREDIS_H
#define CHIREDIS_H
// hiredis 0.14 (Debian's libhiredis-dev) and a small adapter that lets Swift drive its
// asynchronous API from an event loop. Swift never sees a redisAsyncContext: it holds a
// chiredis_connection and receives every hiredis callback through the function pointers below.
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <stddef.h>
#include <stdint.h>

/// Callbacks into Swift. `owner` is the pointer given to chiredis_connect. None of them is called
/// after chiredis_release, and none may call chiredis_release's memory after it returns.
typedef struct chiredis_callbacks {
    /// hiredis wants the socket polled for reading and/or writing (each 0 or 1).
    void (*interest_changed)(void *owner, int fd, int want_read, int want_write);
    /// The context is being torn down after an error or a close; the socket is about to be closed,
    /// so remove it from the poll set now. Called at most once.
    void (*closing)(void *owner, int fd);
    /// The non-blocking connect finished: status 0 on success, else `error` says why.
    void (*connected)(void *owner, int status, const char *error);
    /// A connected context was closed; status 0 for a requested close, else `error` says why.
    void (*disconnected)(void *owner, int status, const char *error);
    /// The reply to the command sent with `request_id`, or NULL when the context closed first.
    /// The reply is freed by hiredis when this returns.
    void (*reply)(void *owner, uint64_t request_id, redisReply *reply);
} chiredis_callbacks;

typedef struct chiredis_connection chiredis_connection;

/// Starts a non-blocking TCP connect to a numeric `ip` (IPv4 or IPv6) and `port`. Returns NULL and
/// writes the reason to `error` when the context cannot be created.
chiredis_connection *chiredis_connect(const char *ip, int port, void *owner, const chiredis_callbacks *callbacks,
                                      char *error, size_t error_size);

/// The socket, or -1 once the context is gone.
int chiredis_fd(const chiredis_connection *connection);
/// 1 while the hiredis context exists, 0 after an error or close freed it.
int chiredis_is_open(const chiredis_connection *connection);

/// Lets hiredis read or write after the event loop reported the socket ready.
void chiredis_handle_read(chiredis_connection *connection);
void chiredis_handle_write(chiredis_connection *connection);

/// Queues one command (binary-safe arguments); the reply arrives through `callbacks->reply` with
/// `request_id`. Returns 0, or -1 when the context is closed or closing.
int chiredis_command(chiredis_connection *connection, uint64_t request_id, int argc, const char **argv,
                     const size_t *argv_lengths);

/// Detaches the owner, so no callback reaches Swift again, then frees the context and the
/// adapter. Inside a callback the free waits until hiredis returns to the adapter. The caller must
/// have removed the socket from its poll set.
void chiredis_release(chiredis_connection *connection);

#endif
