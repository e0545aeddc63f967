import COpenSSL

/// A public key for RS256 or ES256 tokens, loaded once from PEM at start.
///
/// It owns one OpenSSL `EVP_PKEY`, freed in `deinit`.
final class PublicKey: @unchecked Sendable {
    // @unchecked Sendable: the key is never modified after `init`. OpenSSL 3 allows verifying
    // with one EVP_PKEY from several threads at once, because each verification makes its own
    // context and the key's reference count is atomic.

    /// The key type, which fixes the one algorithm the key verifies.
    enum Kind: Equatable, Sendable {
        /// RSA, for RS256, with its modulus size in bits.
        case rsa(bits: Int)
        /// ECDSA on NIST P-256, for ES256.
        case ecP256
    }

    /// The reason PEM text gives no usable key.
    struct LoadError: Error, Equatable, Sendable, CustomStringConvertible {
        let description: String
    }

    /// RFC 7518 section 3.3: RS256 keys must be at least 2048 bits long.
    static let minimumRSABits = 2048

    let kind: Kind
    private let key: OpaquePointer

    /// Loads a `PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE` PEM block.
    init(pem: [UInt8]) throws(LoadError) {
        var error = [CChar](repeating: 0, count: 256)
        let loaded = pem.withUnsafeBytes { bytes in
            copenssl_public_key_from_pem(bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count, &error, error.count)
        }
        guard let loaded else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw LoadError(description: "no PEM public key or certificate found (OpenSSL: \(reason)); "
                + "export the public key with `openssl pkey -pubout -in private.pem -out public.pem`")
        }

        switch copenssl_public_key_kind(loaded) {
        case Int32(COPENSSL_KEY_RSA):
            let bits = Int(copenssl_public_key_bits(loaded))
            guard bits >= Self.minimumRSABits else {
                copenssl_public_key_free(loaded)
                throw LoadError(description: "the RSA key is \(bits) bits long and RS256 needs at least \(Self.minimumRSABits) (RFC 7518 section 3.3)")
            }
            kind = .rsa(bits: bits)
        case Int32(COPENSSL_KEY_EC_P256):
            kind = .ecP256
        case Int32(COPENSSL_KEY_EC_OTHER):
            copenssl_public_key_free(loaded)
            throw LoadError(description: "the EC key is not on curve P-256 (prime256v1), the only curve ES256 uses")
        default:
            copenssl_public_key_free(loaded)
            throw LoadError(description: "the key is neither RSA (for RS256) nor EC P-256 (for ES256)")
        }
        key = loaded
    }

    deinit {
        copenssl_public_key_free(key)
    }

    /// The JWS algorithm this key verifies.
    var algorithm: String {
        switch kind {
        case .rsa: "RS256"
        case .ecP256: "ES256"
        }
    }

    /// Returns whether `signature` is this key's signature of `data` under `algorithm`.
    func verify(signature: [UInt8], of data: [UInt8]) -> Bool {
        data.withUnsafeBytes { dataBytes in
            signature.withUnsafeBufferPointer { signatureBytes in
                switch kind {
                case .rsa:
                    copenssl_verify_rs256(key, dataBytes.baseAddress, dataBytes.count, signatureBytes.baseAddress, signatureBytes.count) == 1
                case .ecP256:
                    copenssl_verify_es256(key, dataBytes.baseAddress, dataBytes.count, signatureBytes.baseAddress, signatureBytes.count) == 1
                }
            }
        }
    }
}
