import HostIO

/// A node's console port in the simulation: what the client types waits here for the primary;
/// what the primary releases goes to whoever listens.
final class SimulatedConsole: ConsoleBackend {
    private var input: [UInt8] = []
    /// Receives released output.
    var onWrite: ([UInt8]) -> Void = { _ in }

    func type(_ bytes: [UInt8]) { input += bytes }
    func takeInput() -> [UInt8] {
        defer { input = [] }
        return input
    }
    var hasInput: Bool { !input.isEmpty }
    func poll(timeout: Double) -> ConsolePoll { .bytes(takeInput()) }
    var isClosed: Bool { false }
    func write(_ bytes: [UInt8]) { onWrite(bytes) }
    func wake() {}   // the simulation's machine thread never sleeps in poll
}
