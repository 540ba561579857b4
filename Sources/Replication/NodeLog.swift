import Logging
import NIOConcurrencyHelpers

/// One record per event, through swift-log (label `node`, level info; the `lockstep` executable
/// writes them as logfmt lines on standard error, ``LogfmtLogHandler``), with the node's id, the
/// VM and, once known, its role and generation as metadata: what an operator reads to know what
/// the node did and why (role changes, lines up and down, refusals). The messages are the ones
/// docs/replication.md lists; harnesses wait for them. A simulation passes its own sink (the
/// trace of a seed).
public struct NodeLog: Sendable {
    public let nodeID: String
    private let sink: (@Sendable (String) -> Void)?
    private let logger: Logger
    /// The role and generation, shared by every copy of this log (the links and roles hold copies).
    private let context: NIOLockedValueBox<Logger.Metadata>

    public init(nodeID: String, vm: String? = nil) {
        self.nodeID = nodeID
        sink = nil
        var logger = Logger(label: "node")
        logger[metadataKey: "node"] = "\(nodeID)"
        if let vm { logger[metadataKey: "vm"] = "\(vm)" }
        self.logger = logger
        context = NIOLockedValueBox([:])
    }

    /// A log whose lines go to `sink` instead of swift-log.
    public init(nodeID: String, sink: @escaping @Sendable (String) -> Void) {
        self.nodeID = nodeID
        self.sink = sink
        logger = Logger(label: "node")
        context = NIOLockedValueBox([:])
    }

    /// The role and generation the records carry from now on.
    public func set(role: String, generation: UInt64) {
        context.withLockedValue { $0 = ["role": "\(role)", "generation": "\(generation)"] }
    }

    public func callAsFunction(_ message: String) {
        if let sink { return sink(message) }
        logger.info("\(message)", metadata: context.withLockedValue { $0 })
    }
}
