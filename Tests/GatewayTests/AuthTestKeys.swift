import COpenSSL
import Foundation
import XCTest

@testable import Gateway

/// Keys made once per test run with the `openssl` command line, in a temporary directory, and the
/// tokens the tests sign with them.
final class AuthTestKeys: Sendable {
    /// Created on first use; key generation takes about a second, so every test shares one set.
    static let shared: AuthTestKeys = {
        do {
            return try AuthTestKeys()
        } catch {
            fatalError("cannot make test keys with the openssl command line: \(error)")
        }
    }()

    /// A 32-byte HS256 secret, the shortest the configuration accepts.
    let secret = "0123456789abcdef0123456789abcdef"
    let directory: String
    let rsaPrivate: String
    let rsaPublic: String
    /// The RSA public key in the PKCS#1 `RSA PUBLIC KEY` form.
    let rsaPublicPKCS1: String
    let ecPrivate: String
    let ecPublic: String
    /// A self-signed certificate for the EC key.
    let ecCertificate: String
    /// A second P-256 key, whose signatures the first key must reject.
    let otherECPrivate: String
    let smallRSAPublic: String
    let p384Public: String

    private init() throws {
        let template = NSTemporaryDirectory() + "auth-keys-XXXXXX"
        var buffer = Array(template.utf8CString)
        guard let created = mkdtemp(&buffer) else { throw TestToolError(description: "mkdtemp failed") }
        directory = String(cString: created)
        rsaPrivate = directory + "/rsa.pem"
        rsaPublic = directory + "/rsa.pub.pem"
        rsaPublicPKCS1 = directory + "/rsa.pkcs1.pem"
        ecPrivate = directory + "/ec.pem"
        ecPublic = directory + "/ec.pub.pem"
        ecCertificate = directory + "/ec.cert.pem"
        otherECPrivate = directory + "/ec-other.pem"
        smallRSAPublic = directory + "/rsa1024.pub.pem"
        p384Public = directory + "/p384.pub.pem"

        let smallRSAPrivate = directory + "/rsa1024.pem"
        let p384Private = directory + "/p384.pem"
        try Self.openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsaPrivate])
        try Self.openssl(["pkey", "-in", rsaPrivate, "-pubout", "-out", rsaPublic])
        try Self.openssl(["rsa", "-in", rsaPrivate, "-RSAPublicKey_out", "-out", rsaPublicPKCS1])
        try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ecPrivate])
        try Self.openssl(["pkey", "-in", ecPrivate, "-pubout", "-out", ecPublic])
        try Self.openssl(["req", "-x509", "-key", ecPrivate, "-subj", "/CN=auth-test", "-days", "1", "-out", ecCertificate])
        try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", otherECPrivate])
        try Self.openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", smallRSAPrivate])
        try Self.openssl(["pkey", "-in", smallRSAPrivate, "-pubout", "-out", smallRSAPublic])
        try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", p384Private])
        try Self.openssl(["pkey", "-in", p384Private, "-pubout", "-out", p384Public])
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Signing

    /// The algorithm and key a test token is signed with.
    enum Signer {
        case hs256(secret: [UInt8])
        case rs256(privateKeyFile: String)
        case es256(privateKeyFile: String)
        /// ES256 with the DER signature that OpenSSL outputs, not converted to r||s.
        case es256DER(privateKeyFile: String)
        /// A given signature, for `alg: none` and other forgeries.
        case raw([UInt8])
    }

    /// Signs `header` and `claims` (JSON text) into a compact JWS.
    func token(header: String, claims: String, signer: Signer) throws -> String {
        let signingInput = Self.base64URL(Array(header.utf8)) + "." + Self.base64URL(Array(claims.utf8))
        let signature = try sign(Array(signingInput.utf8), with: signer)
        return signingInput + "." + Self.base64URL(signature)
    }

    /// Makes a token with a standard header for `alg`, valid for an hour, whose claims are `extra` merged
    /// over the defaults without the `removing` keys.
    func token(_ alg: String, claims extra: [String: Any] = [:], removing: [String] = [], signer: Signer? = nil) throws -> String {
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: Any] = ["sub": "u1", "name": "Ada", "workspace_id": "w1", "exp": now + 3600, "iat": now]
        for (key, value) in extra { claims[key] = value }
        for key in removing { claims.removeValue(forKey: key) }
        let json = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        return try token(
            header: "{\"alg\":\"\(alg)\",\"typ\":\"JWT\"}", claims: String(decoding: json, as: UTF8.self),
            signer: signer ?? defaultSigner(alg))
    }

    func defaultSigner(_ alg: String) -> Signer {
        switch alg {
        case "RS256": .rs256(privateKeyFile: rsaPrivate)
        case "ES256": .es256(privateKeyFile: ecPrivate)
        default: .hs256(secret: Array(secret.utf8))
        }
    }

    func sign(_ data: [UInt8], with signer: Signer) throws -> [UInt8] {
        switch signer {
        case .hs256(let secret):
            return Self.hmacSHA256(key: secret, data: data)
        case .rs256(let file):
            return try opensslSign(data, keyFile: file)
        case .es256(let file):
            return try Self.joseSignature(fromDER: try opensslSign(data, keyFile: file))
        case .es256DER(let file):
            return try opensslSign(data, keyFile: file)
        case .raw(let bytes):
            return bytes
        }
    }

    /// HMAC-SHA-256 through the COpenSSL shim.
    static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        let result = key.withUnsafeBytes { keyBytes in
            data.withUnsafeBytes { dataBytes in
                copenssl_hmac_sha256(keyBytes.baseAddress, keyBytes.count, dataBytes.baseAddress, dataBytes.count, &mac)
            }
        }
        precondition(result == 1, "HMAC-SHA-256 failed")
        return mac
    }

    private func opensslSign(_ data: [UInt8], keyFile: String) throws -> [UInt8] {
        let input = directory + "/input-\(UUID().uuidString)"
        let output = input + ".sig"
        defer {
            try? FileManager.default.removeItem(atPath: input)
            try? FileManager.default.removeItem(atPath: output)
        }
        try Data(data).write(to: URL(fileURLWithPath: input))
        try Self.openssl(["dgst", "-sha256", "-sign", keyFile, "-out", output, input])
        return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    /// Converts a DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs) to the 64-byte r||s that ES256 uses.
    static func joseSignature(fromDER der: [UInt8]) throws -> [UInt8] {
        var index = 0
        func readLength() throws -> Int {
            guard index < der.count else { throw TestToolError(description: "truncated DER signature") }
            let first = Int(der[index])
            index += 1
            if first < 0x80 { return first }
            guard first == 0x81, index < der.count else { throw TestToolError(description: "unexpected DER length form") }
            index += 1
            return Int(der[index - 1])
        }
        func readInteger() throws -> [UInt8] {
            guard index < der.count, der[index] == 0x02 else { throw TestToolError(description: "expected a DER INTEGER") }
            index += 1
            let length = try readLength()
            guard index + length <= der.count else { throw TestToolError(description: "truncated DER INTEGER") }
            var bytes = Array(der[index..<(index + length)])
            index += length
            while bytes.count > 32, bytes.first == 0 { bytes.removeFirst() }
            guard bytes.count <= 32 else { throw TestToolError(description: "DER INTEGER longer than 32 bytes") }
            return [UInt8](repeating: 0, count: 32 - bytes.count) + bytes
        }
        guard der.first == 0x30 else { throw TestToolError(description: "expected a DER SEQUENCE") }
        index = 1
        _ = try readLength()
        return try readInteger() + readInteger()
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Runs the `openssl` command line and fails with its error output when it exits non-zero.
    @discardableResult
    static func openssl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestToolError(
                description: "openssl \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): "
                    + String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: outputData, as: UTF8.self)
    }
}

struct TestToolError: Error, CustomStringConvertible {
    let description: String
}
