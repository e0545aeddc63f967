#include "CHiredis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Lifetime rules. hiredis 0.14 frees a context by itself when the connect fails, when the server
// closes the socket and on a protocol error, always from inside redisAsyncHandleRead or
// redisAsyncHandleWrite. Its `cleanup` hook runs on every such path before the free, so the adapter
// forgets the context there and never touches it again. The adapter struct itself lives until
// chiredis_release; `depth` counts calls into hiredis in progress so that a release requested from
// a callback is carried out only after hiredis has returned.
struct chiredis_connection {
    redisAsyncContext *context;
    void *owner;
    chiredis_callbacks callbacks;
    int fd;
    int want_read;
    int want_write;
    int depth;
    int release_pending;
};

static void report_interest(chiredis_connection *connection) {
    if (connection->owner && connection->callbacks.interest_changed) {
        connection->callbacks.interest_changed(connection->owner, connection->fd, connection->want_read,
                                               connection->want_write);
    }
}

static void on_add_read(void *data) {
    chiredis_connection *connection = data;
    if (connection->want_read) return;
    connection->want_read = 1;
    report_interest(connection);
}

static void on_del_read(void *data) {
    chiredis_connection *connection = data;
    if (!connection->want_read) return;
    connection->want_read = 0;
    report_interest(connection);
}

static void on_add_write(void *data) {
    chiredis_connection *connection = data;
    if (connection->want_write) return;
    connection->want_write = 1;
    report_interest(connection);
}

static void on_del_write(void *data) {
    chiredis_connection *connection = data;
    if (!connection->want_write) return;
    connection->want_write = 0;
    report_interest(connection);
}

// hiredis calls this once or twice on its way to freeing the context; only the first call matters.
static void on_cleanup(void *data) {
    chiredis_connection *connection = data;
    if (connection->context == NULL) return;
    connection->context = NULL;
    connection->want_read = 0;
    connection->want_write = 0;
    if (connection->owner && connection->callbacks.closing) {
        connection->callbacks.closing(connection->owner, connection->fd);
    }
}

static void on_connect(const redisAsyncContext *context, int status) {
    chiredis_connection *connection = context->data;
    if (connection == NULL || connection->owner == NULL || connection->callbacks.connected == NULL) return;
    connection->callbacks.connected(connection->owner, status == REDIS_OK ? 0 : -1,
                                    context->errstr[0] ? context->errstr : "connection failed");
}

static void on_disconnect(const redisAsyncContext *context, int status) {
    chiredis_connection *connection = context->data;
    if (connection == NULL || connection->owner == NULL || connection->callbacks.disconnected == NULL) return;
    connection->callbacks.disconnected(connection->owner, status == REDIS_OK ? 0 : -1,
                                       context->errstr[0] ? context->errstr : "connection closed");
}

static void on_reply(redisAsyncContext *context, void *reply, void *privdata) {
    chiredis_connection *connection = context->data;
    if (connection == NULL || connection->owner == NULL || connection->callbacks.reply == NULL) return;
    connection->callbacks.reply(connection->owner, (uint64_t)(uintptr_t)privdata, reply);
}

static void free_if_released(chiredis_connection *connection) {
    if (connection->depth > 0 || !connection->release_pending) return;
    if (connection->context != NULL) {
        redisAsyncContext *context = connection->context;
        // The owner is detached, so the callbacks that redisAsyncFree runs reach no one; the
        // cleanup hook clears `context`.
        redisAsyncFree(context);
    }
    free(connection);
}

chiredis_connection *chiredis_connect(const char *ip, int port, void *owner, const chiredis_callbacks *callbacks,
                                      char *error, size_t error_size) {
    chiredis_connection *connection = calloc(1, sizeof(*connection));
    if (connection == NULL) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    redisAsyncContext *context = redisAsyncConnect(ip, port);
    if (context == NULL) {
        snprintf(error, error_size, "out of memory");
        free(connection);
        return NULL;
    }
    if (context->err) {
        snprintf(error, error_size, "%s", context->errstr);
        redisAsyncFree(context);
        free(connection);
        return NULL;
    }
    connection->context = context;
    connection->owner = owner;
    connection->callbacks = *callbacks;
    connection->fd = context->c.fd;
    context->data = connection;
    context->ev.data = connection;
    context->ev.addRead = on_add_read;
    context->ev.delRead = on_del_read;
    context->ev.addWrite = on_add_write;
    context->ev.delWrite = on_del_write;
    context->ev.cleanup = on_cleanup;
    redisAsyncSetConnectCallback(context, on_connect);
    redisAsyncSetDisconnectCallback(context, on_disconnect);
    // redisAsyncConnect asked for write readiness before the hooks existed; ask again.
    connection->want_write = 1;
    report_interest(connection);
    return connection;
}

int chiredis_fd(const chiredis_connection *connection) {
    return connection->context ? connection->fd : -1;
}

int chiredis_is_open(const chiredis_connection *connection) {
    return connection->context != NULL;
}

void chiredis_handle_read(chiredis_connection *connection) {
    if (connection->context == NULL) return;
    connection->depth++;
    redisAsyncHandleRead(connection->context);
    connection->depth--;
    free_if_released(connection);
}

void chiredis_handle_write(chiredis_connection *connection) {
    if (connection->context == NULL) return;
    connection->depth++;
    redisAsyncHandleWrite(connection->context);
    connection->depth--;
    free_if_released(connection);
}

int chiredis_command(chiredis_connection *connection, uint64_t request_id, int argc, const char **argv,
                     const size_t *argv_lengths) {
    if (connection->context == NULL || connection->release_pending) return -1;
    connection->depth++;
    int status = redisAsyncCommandArgv(connection->context, on_reply, (void *)(uintptr_t)request_id, argc, argv,
                                       argv_lengths);
    connection->depth--;
    free_if_released(connection);
    return status == REDIS_OK ? 0 : -1;
}

void chiredis_release(chiredis_connection *connection) {
    if (connection == NULL) return;
    connection->owner = NULL;
    connection->release_pending = 1;
    free_if_released(connection);
}
