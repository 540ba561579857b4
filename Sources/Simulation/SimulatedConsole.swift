import HostIO

/// A node's console port in the simulation: what the client types waits here for the primary;
/// what the primary releases goes to whoever listens. Its connections live on the node's
/// ``SimulatedLoop``: a write made there goes out at once, one made elsewhere is queued for it
/// (as SwiftNIO queues a `writeAndFlush` from another thread).
final class SimulatedConsole: ConsoleBackend {
    private var input: [UInt8] = []
    /// The node's event loop (nil: writes go out at once).
    var loop: SimulatedLoop?
    /// The generation of the primary role writing, read when a write is made.
    var generation: () -> UInt64 = { 0 }
    /// Receives output as it goes out, with the generation of the role that wrote it.
    var onWrite: (_ bytes: [UInt8], _ generation: UInt64) -> Void = { _, _ in }

    func type(_ bytes: [UInt8]) { input += bytes }
    func takeInput() -> [UInt8] {
        defer { input = [] }
        return input
    }
    var hasInput: Bool { !input.isEmpty }
    func poll(timeout: Double) -> ConsolePoll { .bytes(takeInput()) }
    var isClosed: Bool { false }
    func write(_ bytes: [UInt8]) {
        let generation = generation()
        guard let loop, !loop.isCurrent else { return onWrite(bytes, generation) }
        loop.execute { [unowned self] in onWrite(bytes, generation) }
    }
    func wake() {}   // the simulation's machine thread never sleeps in poll
}
