import COpenSSL

/// An OpenSSL server context loaded from PEM files, shared by every connection of a listener.
public final class TLSContext: @unchecked Sendable {
    // @unchecked Sendable: the SSL_CTX is configured once in init and then only read; OpenSSL
    // allows creating sessions from one context on many threads.
    let context: OpaquePointer

    /// Loads the certificate chain and private key; accepts TLS 1.2 and later.
    public init(certificateFile: String, privateKeyFile: String) throws(TransportError) {
        var error = [CChar](repeating: 0, count: 256)
        guard let context = copenssl_server_context(certificateFile, privateKeyFile, &error, error.count) else {
            let reason = String(cCharacters: error)
            throw .tls("cannot load certificate \"\(certificateFile)\" and key \"\(privateKeyFile)\": \(reason)")
        }
        self.context = context
    }

    deinit {
        copenssl_context_free(context)
    }
}

/// One TLS session over a non-blocking socket; owned by its connection, freed with it.
final class TLSSession {
    let session: OpaquePointer

    init?(context: TLSContext, fd: Int32) {
        guard let session = copenssl_session_new(context.context, fd, 1) else { return nil }
        self.session = session
    }

    deinit {
        copenssl_session_free(session)
    }

    enum Progress {
        case done(Int)
        case wantRead
        case wantWrite
        case closed
        case failed(String)
    }

    private func progress(_ result: Int32) -> Progress {
        switch result {
        case Int32(COPENSSL_WANT_READ): return .wantRead
        case Int32(COPENSSL_WANT_WRITE): return .wantWrite
        case Int32(COPENSSL_CLOSED): return .closed
        case ..<0:
            var error = [CChar](repeating: 0, count: 256)
            copenssl_last_error(&error, error.count)
            return .failed(String(cCharacters: error))
        default: return .done(Int(result))
        }
    }

    func handshake() -> Progress { progress(copenssl_handshake(session)) }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Progress {
        progress(copenssl_read(session, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max)))))
    }

    func write(_ buffer: UnsafeRawBufferPointer) -> Progress {
        progress(copenssl_write(session, buffer.baseAddress, Int32(buffer.count)))
    }

    func shutdown() { copenssl_shutdown(session) }
}
