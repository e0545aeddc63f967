import Transport

/// A connection as seen from another event loop: the reference may travel between threads, but the
/// connection is only touched inside `loop.execute` or on `loop` itself.
struct ConnectionReference: @unchecked Sendable {
    // @unchecked Sendable: `connection` is used only on `loop`'s thread (see `deliver`); other
    // threads only hold the reference.
    let connection: Connection
    let loop: EventLoop

    var id: UInt64 { connection.id }
}
