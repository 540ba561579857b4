@_spi(Simulation) import Replication

/// A node's console port in the simulation: what the client types waits here for the primary;
/// what the primary releases goes to whoever listens.
final class SimulatedConsole: ConsoleChannel {
    private var input: [UInt8] = []
    /// Receives released output.
    var onWrite: ([UInt8]) -> Void = { _ in }

    func type(_ bytes: [UInt8]) { input += bytes }
    func takeInput() -> [UInt8] {
        defer { input = [] }
        return input
    }
    var hasInput: Bool { !input.isEmpty }
    func write(_ bytes: [UInt8]) { onWrite(bytes) }
}
