#include "COpenSSL.h"
#include <string.h>

void copenssl_last_error(char *out, size_t out_len) {
    unsigned long code = ERR_get_error();
    if (out_len == 0) return;
    if (code == 0) {
        strncpy(out, "unknown TLS error", out_len - 1);
        out[out_len - 1] = 0;
    } else {
        ERR_error_string_n(code, out, out_len);
    }
    ERR_clear_error();
}

SSL_CTX *copenssl_server_context(const char *cert_file, const char *key_file, char *error, size_t error_len) {
    SSL_CTX *context = SSL_CTX_new(TLS_server_method());
    if (context == NULL) { copenssl_last_error(error, error_len); return NULL; }
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(context, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(context, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(context) != 1) {
        copenssl_last_error(error, error_len);
        SSL_CTX_free(context);
        return NULL;
    }
    return context;
}

void copenssl_context_free(SSL_CTX *context) { SSL_CTX_free(context); }

SSL_CTX *copenssl_insecure_client_context(void) {
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) return NULL;
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return context;
}

SSL *copenssl_session_new(SSL_CTX *context, int fd, int is_server) {
    SSL *session = SSL_new(context);
    if (session == NULL) return NULL;
    SSL_set_fd(session, fd);
    if (is_server) SSL_set_accept_state(session); else SSL_set_connect_state(session);
    return session;
}

void copenssl_session_free(SSL *session) { SSL_free(session); }

static int copenssl_map(SSL *session, int result) {
    if (result > 0) return result;
    switch (SSL_get_error(session, result)) {
        case SSL_ERROR_WANT_READ: return COPENSSL_WANT_READ;
        case SSL_ERROR_WANT_WRITE: return COPENSSL_WANT_WRITE;
        case SSL_ERROR_ZERO_RETURN: return COPENSSL_CLOSED;
        default: return COPENSSL_ERROR;
    }
}

int copenssl_handshake(SSL *session) {
    ERR_clear_error();
    int result = SSL_do_handshake(session);
    if (result == 1) return 1;
    return copenssl_map(session, result);
}

int copenssl_read(SSL *session, void *buffer, int length) {
    ERR_clear_error();
    return copenssl_map(session, SSL_read(session, buffer, length));
}

int copenssl_write(SSL *session, const void *buffer, int length) {
    ERR_clear_error();
    return copenssl_map(session, SSL_write(session, buffer, length));
}

void copenssl_shutdown(SSL *session) {
    ERR_clear_error();
    (void)SSL_shutdown(session);
    ERR_clear_error();
}

void copenssl_sha1(const void *data, size_t length, uint8_t *digest) {
    SHA1((const unsigned char *)data, length, digest);
}
