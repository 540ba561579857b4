import Foundation

/// The memory mappings of this process as the kernel reports them in /proc/self/maps.
struct ProcessMapping {
    /// The host addresses the mapping covers.
    var range: Range<UInt>
    /// The permissions column: `r-xs`, `rw-p`...
    var permissions: String

    var isWritable: Bool { permissions.dropFirst(1).first == "w" }
    var isExecutable: Bool { permissions.dropFirst(2).first == "x" }

    /// The mappings that overlap `range`, clipped to it.
    static func overlapping(_ range: Range<UInt>) throws -> [ProcessMapping] {
        // Read to the end: /proc files report a size of 0, so reads sized by stat get nothing.
        guard let file = FileHandle(forReadingAtPath: "/proc/self/maps") else { throw MapsUnreadable() }
        defer { try? file.close() }
        let maps = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        return maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            let bounds = fields.first?.split(separator: "-").compactMap { UInt($0, radix: 16) } ?? []
            guard fields.count >= 2, bounds.count == 2 else { return nil }
            let mapped = bounds[0] ..< bounds[1]
            guard mapped.overlaps(range) else { return nil }
            return ProcessMapping(range: mapped.clamped(to: range), permissions: String(fields[1]))
        }
    }

    struct MapsUnreadable: Error, CustomStringConvertible {
        var description: String { "cannot open /proc/self/maps: the test needs Linux's /proc" }
    }

    /// The bytes of `range` that the mappings in `mappings` cover.
    static func covered(_ mappings: [ProcessMapping]) -> UInt {
        mappings.reduce(0) { $0 + UInt($1.range.count) }
    }
}
