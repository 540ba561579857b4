import RISCV

/// One descriptor chain taken from a virtqueue: the buffers the driver made available for one
/// request, already validated (every segment lies in RAM, readable segments precede writable ones,
/// total length below 4 GiB).
///
/// A device treats the readable segments as one byte stream and the writable segments as another,
/// whatever way the driver split them into descriptors (modern devices must accept any layout).
public struct VirtioRequest: Sendable {
    /// A guest-physical buffer.
    public struct Segment: Sendable, Equatable {
        public var address: UInt64
        public var length: Int
    }

    /// The queue the chain came from.
    public let queue: Int
    /// Index of the chain's head descriptor (the id written to the used ring).
    public let head: UInt16
    /// Device-readable buffers, in order.
    public let readable: [Segment]
    /// Device-writable buffers, in order.
    public let writable: [Segment]

    /// Total bytes the device may read.
    public var readableLength: Int { readable.reduce(0) { $0 + $1.length } }
    /// Total bytes the device may write.
    public var writableLength: Int { writable.reduce(0) { $0 + $1.length } }

    /// Copies `count` bytes of the readable stream starting at byte `offset` of the stream
    /// (fewer if the stream ends first).
    public func read(from memory: GuestMemory, offset: Int, count: Int) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(max(0, count))
        var skip = offset
        var remaining = count
        for segment in readable where remaining > 0 {
            if skip >= segment.length { skip -= segment.length; continue }
            let n = min(segment.length - skip, remaining)
            result += memory.read(at: segment.address + UInt64(skip), count: n)
            remaining -= n
            skip = 0
        }
        return result
    }

    /// Copies `bytes` into the writable stream starting at byte `offset` of the stream; returns how
    /// many bytes fit.
    @discardableResult
    public func write(_ bytes: some Collection<UInt8>, to memory: GuestMemory, offset: Int) -> Int {
        var skip = offset
        var source = bytes[...]
        var written = 0
        for segment in writable where !source.isEmpty {
            if skip >= segment.length { skip -= segment.length; continue }
            let n = min(segment.length - skip, source.count)
            let end = source.index(source.startIndex, offsetBy: n)
            memory.write(source[source.startIndex..<end], at: segment.address + UInt64(skip))
            source = source[end...]
            written += n
            skip = 0
        }
        return written
    }
}
