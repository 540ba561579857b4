import Foundation

/// One line per event on standard error, prefixed with the node's id: what an operator reads to
/// know what the node did and why (role changes, lines up and down, refusals). A simulation
/// passes its own sink (the trace of a seed).
public struct NodeLog: Sendable {
    public let nodeID: String
    private let sink: (@Sendable (String) -> Void)?

    public init(nodeID: String) {
        self.nodeID = nodeID
        sink = nil
    }

    /// A log whose lines go to `sink` instead of standard error.
    public init(nodeID: String, sink: @escaping @Sendable (String) -> Void) {
        self.nodeID = nodeID
        self.sink = sink
    }

    public func callAsFunction(_ message: String) {
        if let sink { return sink(message) }
        let line = "lockstep node \(nodeID): \(message)\n"
        _ = Array(line.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
