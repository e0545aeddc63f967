// Signature primitives for JWS tokens (RFC 7515, algorithms from RFC 7518 section 3).
#include "COpenSSL.h"
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int copenssl_hmac_sha256(const void *key, size_t key_length, const void *data, size_t length, uint8_t *mac) {
    unsigned int mac_length = 0;
    // HMAC() reads no key bytes when key_length is 0, but it rejects a NULL key pointer.
    static const uint8_t empty = 0;
    const void *key_bytes = key_length == 0 ? (const void *)&empty : key;
    const void *data_bytes = length == 0 ? (const void *)&empty : data;
    if (key_length > INT32_MAX) return 0;
    if (HMAC(EVP_sha256(), key_bytes, (int)key_length, data_bytes, length, mac, &mac_length) == NULL) {
        ERR_clear_error();
        return 0;
    }
    return mac_length == 32;
}

int copenssl_constant_time_equal(const void *a, const void *b, size_t length) {
    return CRYPTO_memcmp(a, b, length) == 0;
}

EVP_PKEY *copenssl_public_key_from_pem(const char *pem, size_t length, char *error, size_t error_len) {
    if (length > INT32_MAX) {
        strncpy(error, "PEM text is too large", error_len - 1);
        error[error_len - 1] = 0;
        return NULL;
    }
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(pem, (int)length);
    if (bio == NULL) { copenssl_last_error(error, error_len); return NULL; }

    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (key == NULL) {
        (void)BIO_reset(bio);
        // PKCS#1 `RSA PUBLIC KEY`: OpenSSL 3 reads it only through a decoder for that structure.
        OSSL_DECODER_CTX *decoder = OSSL_DECODER_CTX_new_for_pkey(
            &key, "PEM", "type-specific", "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
        if (decoder != NULL) {
            if (OSSL_DECODER_from_bio(decoder, bio) != 1) key = NULL;
            OSSL_DECODER_CTX_free(decoder);
        }
    }
    if (key == NULL) {
        (void)BIO_reset(bio);
        X509 *certificate = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (certificate != NULL) {
            key = X509_get_pubkey(certificate);
            X509_free(certificate);
        }
    }
    BIO_free(bio);
    if (key == NULL) {
        copenssl_last_error(error, error_len);
        return NULL;
    }
    ERR_clear_error();
    return key;
}

void copenssl_public_key_free(EVP_PKEY *key) { EVP_PKEY_free(key); }

int copenssl_public_key_kind(const EVP_PKEY *key) {
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
            return COPENSSL_KEY_RSA;
        case EVP_PKEY_EC: {
            char group[64] = {0};
            size_t group_length = 0;
            if (EVP_PKEY_get_group_name(key, group, sizeof group, &group_length) != 1) {
                ERR_clear_error();
                return COPENSSL_KEY_EC_OTHER;
            }
            return strcmp(group, SN_X9_62_prime256v1) == 0 ? COPENSSL_KEY_EC_P256 : COPENSSL_KEY_EC_OTHER;
        }
        default:
            return COPENSSL_KEY_UNSUPPORTED;
    }
}

int copenssl_public_key_bits(const EVP_PKEY *key) { return EVP_PKEY_get_bits(key); }

/// Verifies `signature` (in the form OpenSSL expects for the key) over SHA-256 of the data.
static int copenssl_verify_sha256(EVP_PKEY *key, int padding_pkcs1, const void *data, size_t length,
                                  const uint8_t *signature, size_t signature_length) {
    ERR_clear_error();
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context == NULL) { ERR_clear_error(); return 0; }
    EVP_PKEY_CTX *key_context = NULL;
    int valid = 0;
    if (EVP_DigestVerifyInit(context, &key_context, EVP_sha256(), NULL, key) == 1 &&
        (!padding_pkcs1 || EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PADDING) == 1)) {
        valid = EVP_DigestVerify(context, signature, signature_length, data, length) == 1;
    }
    EVP_MD_CTX_free(context);
    ERR_clear_error();
    return valid;
}

int copenssl_verify_rs256(EVP_PKEY *key, const void *data, size_t length,
                          const uint8_t *signature, size_t signature_length) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) return 0;
    return copenssl_verify_sha256(key, 1, data, length, signature, signature_length);
}

int copenssl_verify_es256(EVP_PKEY *key, const void *data, size_t length,
                          const uint8_t *signature, size_t signature_length) {
    if (signature_length != 64 || copenssl_public_key_kind(key) != COPENSSL_KEY_EC_P256) return 0;

    // RFC 7518 section 3.4: the JWS signature is R and S as 32-byte big-endian integers, while
    // OpenSSL verifies the DER encoding of ECDSA-Sig-Value (RFC 3279), so re-encode it.
    ECDSA_SIG *parts = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(signature, 32, NULL);
    BIGNUM *s = BN_bin2bn(signature + 32, 32, NULL);
    if (parts == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(parts, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(parts);
        ERR_clear_error();
        return 0;
    }
    unsigned char *der = NULL;
    int der_length = i2d_ECDSA_SIG(parts, &der);
    ECDSA_SIG_free(parts);
    if (der_length <= 0) { ERR_clear_error(); return 0; }

    int valid = copenssl_verify_sha256(key, 0, data, length, der, (size_t)der_length);
    OPENSSL_free(der);
    return valid;
}
