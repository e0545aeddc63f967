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

// MARK: - Token signatures (signature.c)

/// HMAC-SHA-256 of `length` bytes under `key` into `mac` (32 bytes). Returns 1, or 0 on failure.
int copenssl_hmac_sha256(const void *key, size_t key_length, const void *data, size_t length, uint8_t *mac);
/// Compares `length` bytes in time that does not depend on their contents. Returns 1 when equal.
int copenssl_constant_time_equal(const void *a, const void *b, size_t length);

/// Kind of a loaded public key, as far as token verification cares.
enum {
    COPENSSL_KEY_UNSUPPORTED = 0,
    COPENSSL_KEY_RSA = 1,
    /// ECDSA on NIST P-256 (prime256v1, secp256r1), the only curve ES256 allows.
    COPENSSL_KEY_EC_P256 = 2,
    /// ECDSA on another curve, which ES256 cannot use.
    COPENSSL_KEY_EC_OTHER = 3,
};
/// Loads a public key from PEM text: a SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`), a PKCS#1 RSA
/// public key (`BEGIN RSA PUBLIC KEY`) or a certificate (`BEGIN CERTIFICATE`). Returns NULL and
/// writes OpenSSL's reason into `error` (NUL-terminated, at most `error_len`) when none parses.
EVP_PKEY *copenssl_public_key_from_pem(const char *pem, size_t length, char *error, size_t error_len);
void copenssl_public_key_free(EVP_PKEY *key);
/// One of the COPENSSL_KEY_* kinds.
int copenssl_public_key_kind(const EVP_PKEY *key);
/// Size of the key in bits (the modulus for RSA).
int copenssl_public_key_bits(const EVP_PKEY *key);

/// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature (JWS RS256) over `length` bytes.
/// Returns 1 when valid, 0 when not (including any OpenSSL failure, whose queue is cleared).
int copenssl_verify_rs256(EVP_PKEY *key, const void *data, size_t length,
                          const uint8_t *signature, size_t signature_length);
/// Verifies an ECDSA P-256 SHA-256 signature in the JWS ES256 form: 64 bytes, r then s, each a
/// big-endian 32-byte integer. It is converted to the DER form that OpenSSL verifies. Returns 1
/// when valid, 0 when not (including a signature that is not 64 bytes long).
int copenssl_verify_es256(EVP_PKEY *key, const void *data, size_t length,
                          const uint8_t *signature, size_t signature_length);

#endif
