#ifndef COPENSSL_H
#define COPENSSL_H
// OpenSSL (libssl and libcrypto) as the gateway uses it. Macros that Swift cannot import are
// wrapped in functions here.
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/evp.h>

/// Creates a server context for TLS 1.2 and later with the PEM certificate chain and private key.
/// Returns NULL and writes OpenSSL's reason into `error` (NUL-terminated, at most `error_len`).
SSL_CTX *copenssl_server_context(const char *cert_file, const char *key_file, char *error, size_t error_len);
void copenssl_context_free(SSL_CTX *context);
/// Creates a client context for TLS 1.2 and later that does not verify the peer (test use only).
SSL_CTX *copenssl_insecure_client_context(void);

/// A TLS session on a non-blocking socket. Returns NULL when OpenSSL cannot allocate one.
SSL *copenssl_session_new(SSL_CTX *context, int fd, int is_server);
void copenssl_session_free(SSL *session);

/// Result of a TLS operation: bytes done (> 0), or one of the negative codes below.
enum {
    COPENSSL_WANT_READ = -1,
    COPENSSL_WANT_WRITE = -2,
    COPENSSL_CLOSED = -3,
    COPENSSL_ERROR = -4,
};
/// Advances the handshake: 1 when done, or a negative code.
int copenssl_handshake(SSL *session);
int copenssl_read(SSL *session, void *buffer, int length);
int copenssl_write(SSL *session, const void *buffer, int length);
/// Sends close_notify once; errors are ignored because the socket closes next.
void copenssl_shutdown(SSL *session);
/// Copies the oldest queued OpenSSL error into `out` and clears the queue.
void copenssl_last_error(char *out, size_t out_len);

/// SHA-1 of `length` bytes into `digest` (20 bytes).
void copenssl_sha1(const void *data, size_t length, uint8_t *digest);

#endif
