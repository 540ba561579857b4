import Foundation

/// One line per event on standard error, prefixed with the node's id: what an operator reads to
/// know what the node did and why (role changes, lines up and down, refusals).
public struct NodeLog: Sendable {
    public let nodeID: String

    public init(nodeID: String) { self.nodeID = nodeID }

    public func callAsFunction(_ message: String) {
        let line = "lockstep node \(nodeID): \(message)\n"
        _ = Array(line.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
