import Foundation
import Machine

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-dtb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Exit status and output of a host tool.
struct ToolResult {
    var status: Int32
    var standardOutput: String
    var standardError: String
}

/// Runs a host tool found on PATH (with a time limit), its output going to files in `directory`.
/// Throws a setup error naming the Debian package when the tool is not installed.
func runTool(_ tool: String, _ arguments: [String], package: String, in directory: TemporaryDirectory,
             timeout: Int = 60) throws -> ToolResult {
    let outPath = directory.path("\(tool).stdout"), errPath = directory.path("\(tool).stderr")
    guard FileManager.default.createFile(atPath: outPath, contents: nil),
          FileManager.default.createFile(atPath: errPath, contents: nil) else {
        throw TestSetupError("cannot create output files in \(directory.url.path)")
    }
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    defer { try? out.close(); try? err.close() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["timeout", String(timeout), tool] + arguments
    process.currentDirectoryURL = directory.url
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    let result = ToolResult(status: process.terminationStatus,
                            standardOutput: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                            standardError: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    if result.status == 127 {
        throw TestSetupError("\(tool) not found: install \(package) (scripts/install-deps.sh does)")
    }
    if result.status == 124 {
        throw TestSetupError("\(tool) \(arguments.joined(separator: " ")) timed out after \(timeout) s")
    }
    return result
}

/// `dtc -I dtb -O dts` of a blob: the source text and whatever dtc printed on stderr (warnings).
func decompile(_ blob: [UInt8], in directory: TemporaryDirectory, name: String) throws -> (source: String, warnings: String) {
    let dtb = directory.path("\(name).dtb"), dts = directory.path("\(name).dts")
    try Data(blob).write(to: URL(fileURLWithPath: dtb))
    let result = try runTool("dtc", ["-I", "dtb", "-O", "dts", "-o", dts, dtb], package: "device-tree-compiler", in: directory)
    guard result.status == 0 else {
        throw TestSetupError("dtc rejected \(name).dtb (status \(result.status)): \(result.standardError)")
    }
    return (try String(contentsOfFile: dts, encoding: .utf8), result.standardError)
}

/// A device tree read back from dtc's decompiled source: every node by path, with its
/// properties as raw bytes (so that dtc's guesses between cells and strings do not matter).
struct DecompiledDeviceTree {
    struct Node {
        var path: String
        /// Property names in source order.
        var propertyNames: [String] = []
        var properties: [String: [UInt8]] = [:]
        /// Child node names in source order.
        var children: [String] = []
    }

    /// All nodes by path ("/", "/soc", "/soc/serial@10000000", ...).
    var nodes: [String: Node] = [:]
    /// Node paths in source order.
    var paths: [String] = []

    /// The path of the node with each phandle.
    var pathsByPhandle: [UInt32: String] {
        var result: [UInt32: String] = [:]
        for (path, node) in nodes {
            if let bytes = node.properties["phandle"], let value = bytes.bigEndianCells.first, bytes.count == 4 {
                result[value] = path
            }
        }
        return result
    }

    static func childPath(_ parent: String, _ name: String) -> String {
        parent == "/" ? "/" + name : parent + "/" + name
    }

    /// Parses the output of `dtc -O dts`.
    init(source: String) throws {
        var parser = DTSParser(Array(source.utf8))
        try parser.expect("/dts-v1/;")
        parser.skipSpace()
        while parser.peek("/memreserve/") {
            while let c = parser.next(), c != UInt8(ascii: ";") {}
            parser.skipSpace()
        }
        try parser.expect("/")
        try parser.expect("{")
        try parseBody(&parser, path: "/")
        try parser.expect(";")
        parser.skipSpace()
        guard parser.atEnd else { throw parser.error("text after the root node") }
    }

    private mutating func parseBody(_ parser: inout DTSParser, path: String) throws {
        nodes[path] = Node(path: path)
        paths.append(path)
        while true {
            parser.skipSpace()
            if parser.peek("}") {
                try parser.expect("}")
                return
            }
            let name = parser.word()
            guard !name.isEmpty else { throw parser.error("expected a property or node name") }
            parser.skipSpace()
            if parser.peek("{") {
                try parser.expect("{")
                nodes[path]!.children.append(name)
                try parseBody(&parser, path: Self.childPath(path, name))
                try parser.expect(";")
            } else {
                var value: [UInt8] = []
                if parser.peek("=") {
                    try parser.expect("=")
                    value = try parser.propertyValue()
                } else {
                    try parser.expect(";")
                }
                nodes[path]!.propertyNames.append(name)
                nodes[path]!.properties[name] = value
            }
        }
    }
}

/// A character-level reader of dtc's decompiled source.
struct DTSParser {
    let text: [UInt8]
    var position = 0

    init(_ text: [UInt8]) { self.text = text }

    var atEnd: Bool { position >= text.count }

    mutating func next() -> UInt8? {
        guard position < text.count else { return nil }
        defer { position += 1 }
        return text[position]
    }

    func peek(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        return position + bytes.count <= text.count && Array(text[position..<position + bytes.count]) == bytes
    }

    func error(_ message: String) -> TestSetupError {
        let line = text[..<min(position, text.count)].filter { $0 == UInt8(ascii: "\n") }.count + 1
        return TestSetupError("dts line \(line): \(message)")
    }

    mutating func skipSpace() {
        while position < text.count, [9, 10, 13, 32].contains(text[position]) { position += 1 }
    }

    mutating func expect(_ s: String) throws {
        skipSpace()
        guard peek(s) else { throw error("expected \(s.debugDescription)") }
        position += s.utf8.count
    }

    /// A node or property name.
    mutating func word() -> String {
        let start = position
        while position < text.count, ![9, 10, 13, 32, UInt8(ascii: "{"), UInt8(ascii: ";"), UInt8(ascii: "=")].contains(text[position]) {
            position += 1
        }
        return String(decoding: text[start..<position], as: UTF8.self)
    }

    /// `<cells>`, `"strings"` and `[bytes]` separated by commas, up to and including the `;`.
    mutating func propertyValue() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while true {
            skipSpace()
            switch next() {
            case UInt8(ascii: "<"):
                while true {
                    skipSpace()
                    if peek(">") { position += 1; break }
                    let token = cellToken()
                    guard let cell = Self.number(token) else { throw error("bad cell \(token.debugDescription)") }
                    bytes.appendBigEndian32(cell)
                }
            case UInt8(ascii: "\""):
                bytes += try string()
            case UInt8(ascii: "["):
                var digits: [UInt8] = []
                while true {
                    guard let c = next() else { throw error("unterminated byte string") }
                    if c == UInt8(ascii: "]") { break }
                    if ![9, 10, 13, 32].contains(c) { digits.append(c) }
                }
                guard digits.count % 2 == 0 else { throw error("odd byte string") }
                for i in stride(from: 0, to: digits.count, by: 2) {
                    guard let b = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { throw error("bad byte") }
                    bytes.append(b)
                }
            default:
                throw error("expected <, \" or [")
            }
            skipSpace()
            if peek(",") { position += 1; continue }
            try expect(";")
            return bytes
        }
    }

    /// One cell inside `<...>`: up to a space or the closing `>`.
    mutating func cellToken() -> String {
        let start = position
        while position < text.count, ![9, 10, 13, 32, UInt8(ascii: ">")].contains(text[position]) { position += 1 }
        return String(decoding: text[start..<position], as: UTF8.self)
    }

    /// A quoted string after its opening quote, with the escapes dtc writes; includes the final NUL.
    mutating func string() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while true {
            guard let c = next() else { throw error("unterminated string") }
            switch c {
            case UInt8(ascii: "\""):
                bytes.append(0)
                return bytes
            case UInt8(ascii: "\\"):
                guard let e = next() else { throw error("unterminated escape") }
                switch e {
                case UInt8(ascii: "a"): bytes.append(7)
                case UInt8(ascii: "b"): bytes.append(8)
                case UInt8(ascii: "t"): bytes.append(9)
                case UInt8(ascii: "n"): bytes.append(10)
                case UInt8(ascii: "v"): bytes.append(11)
                case UInt8(ascii: "f"): bytes.append(12)
                case UInt8(ascii: "r"): bytes.append(13)
                case UInt8(ascii: "x"):
                    var value: UInt8 = 0
                    for _ in 0..<2 {
                        guard position < text.count, let d = UInt8(String(UnicodeScalar(text[position])), radix: 16) else { break }
                        value = value << 4 | d
                        position += 1
                    }
                    bytes.append(value)
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var value = Int(e - UInt8(ascii: "0"))
                    for _ in 0..<2 {
                        guard position < text.count, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(text[position]) else { break }
                        value = value * 8 + Int(text[position] - UInt8(ascii: "0"))
                        position += 1
                    }
                    bytes.append(UInt8(truncatingIfNeeded: value))
                default:
                    bytes.append(e)
                }
            default:
                bytes.append(c)
            }
        }
    }

    static func number(_ token: String) -> UInt32? {
        token.hasPrefix("0x") ? UInt32(token.dropFirst(2), radix: 16) : UInt32(token)
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian32(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
    }

    /// The bytes as big-endian 32-bit cells (a trailing partial cell is dropped).
    var bigEndianCells: [UInt32] {
        stride(from: 0, to: count - count % 4, by: 4).map {
            UInt32(self[$0]) << 24 | UInt32(self[$0 + 1]) << 16 | UInt32(self[$0 + 2]) << 8 | UInt32(self[$0 + 3])
        }
    }

    /// The bytes as one big-endian number (for properties of one or two cells).
    var bigEndianNumber: UInt64 {
        reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// NUL-terminated strings, if the bytes are exactly a list of them.
    var nulTerminatedStrings: [String]? {
        guard last == 0 else { return nil }
        return split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }
}

/// An independent reader of flattened devicetree blobs that checks the layout rules of the
/// Devicetree Specification v0.4, chapter 5, as it goes.
struct FlattenedDeviceTreeReader {
    struct Header: Equatable {
        var magic, totalSize, structureOffset, stringsOffset, reservationsOffset: UInt32
        var version, lastCompatibleVersion, bootCPUID, stringsSize, structureSize: UInt32
    }

    let header: Header
    /// Memory reservation entries, without the terminating empty one.
    let reservations: [(address: UInt64, size: UInt64)]
    /// Properties of every node by path, in order, as (name, value).
    let nodes: [String: [(name: String, value: [UInt8])]]
    /// Node paths in structure-block order.
    let paths: [String]
    /// The strings block split at its NULs.
    let strings: [String]

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    init(_ blob: [UInt8]) throws {
        func u32(_ offset: Int) throws -> UInt32 {
            guard offset >= 0, offset + 4 <= blob.count else { throw Malformed(description: "read past the end at \(offset)") }
            return Array(blob[offset..<offset + 4]).bigEndianCells[0]
        }
        func u64(_ offset: Int) throws -> UInt64 { UInt64(try u32(offset)) << 32 | UInt64(try u32(offset + 4)) }
        let fields = try (0..<10).map { try u32($0 * 4) }
        header = Header(magic: fields[0], totalSize: fields[1], structureOffset: fields[2], stringsOffset: fields[3],
                        reservationsOffset: fields[4], version: fields[5], lastCompatibleVersion: fields[6],
                        bootCPUID: fields[7], stringsSize: fields[8], structureSize: fields[9])
        guard header.magic == 0xD00D_FEED else { throw Malformed(description: "bad magic") }
        guard Int(header.totalSize) == blob.count else { throw Malformed(description: "totalsize \(header.totalSize) != \(blob.count)") }
        guard header.reservationsOffset % 8 == 0, header.structureOffset % 4 == 0 else {
            throw Malformed(description: "misaligned block")
        }
        guard header.structureOffset + header.structureSize <= header.totalSize,
              header.stringsOffset + header.stringsSize <= header.totalSize else {
            throw Malformed(description: "block outside the blob")
        }

        var reservations: [(UInt64, UInt64)] = []
        var offset = Int(header.reservationsOffset)
        while true {
            let entry = (try u64(offset), try u64(offset + 8))
            offset += 16
            if entry == (0, 0) { break }
            reservations.append(entry)
        }
        guard offset <= Int(header.structureOffset) else { throw Malformed(description: "reservations overlap the structure block") }
        self.reservations = reservations

        let stringsBlock = Array(blob[Int(header.stringsOffset)..<Int(header.stringsOffset + header.stringsSize)])
        guard stringsBlock.isEmpty || stringsBlock.last == 0 else { throw Malformed(description: "strings block not NUL-terminated") }
        strings = stringsBlock.nulTerminatedStrings ?? []

        var nodes: [String: [(String, [UInt8])]] = [:]
        var paths: [String] = []
        var stack: [String] = []
        let structureEnd = Int(header.structureOffset + header.structureSize)
        offset = Int(header.structureOffset)
        func skipPadding() throws {
            while offset % 4 != 0 {
                guard blob[offset] == 0 else { throw Malformed(description: "non-zero padding at \(offset)") }
                offset += 1
            }
        }
        tokens: while true {
            guard offset + 4 <= structureEnd else { throw Malformed(description: "structure block ends without FDT_END") }
            let token = try u32(offset)
            offset += 4
            switch token {
            case 1:   // FDT_BEGIN_NODE
                guard let nul = blob[offset..<structureEnd].firstIndex(of: 0) else { throw Malformed(description: "unterminated node name") }
                let name = String(decoding: blob[offset..<nul], as: UTF8.self)
                offset = nul + 1
                try skipPadding()
                if stack.isEmpty {
                    guard paths.isEmpty else { throw Malformed(description: "second root node") }
                    guard name.isEmpty else { throw Malformed(description: "root node named \(name.debugDescription)") }
                }
                let path = stack.last.map { DecompiledDeviceTree.childPath($0, name) } ?? "/"
                guard nodes[path] == nil else { throw Malformed(description: "duplicate node \(path)") }
                nodes[path] = []
                paths.append(path)
                stack.append(path)
            case 2:   // FDT_END_NODE
                guard stack.popLast() != nil else { throw Malformed(description: "unbalanced FDT_END_NODE") }
            case 3:   // FDT_PROP
                guard let path = stack.last else { throw Malformed(description: "property outside a node") }
                let length = Int(try u32(offset)), nameOffset = Int(try u32(offset + 4))
                offset += 8
                guard nameOffset < stringsBlock.count, nameOffset == 0 || stringsBlock[nameOffset - 1] == 0 else {
                    throw Malformed(description: "property name offset \(nameOffset) is not the start of a string")
                }
                let name = String(decoding: stringsBlock[nameOffset...].prefix { $0 != 0 }, as: UTF8.self)
                guard offset + length <= structureEnd else { throw Malformed(description: "property \(name) runs past the structure block") }
                guard !nodes[path]!.contains(where: { $0.0 == name }) else { throw Malformed(description: "duplicate property \(path) \(name)") }
                nodes[path]!.append((name, Array(blob[offset..<offset + length])))
                offset += length
                try skipPadding()
            case 4:   // FDT_NOP
                break
            case 9:   // FDT_END
                guard stack.isEmpty, !paths.isEmpty else { throw Malformed(description: "FDT_END inside a node") }
                guard offset == structureEnd else { throw Malformed(description: "size_dt_struct does not end at FDT_END") }
                break tokens
            default:
                throw Malformed(description: "unknown token \(token) at \(offset - 4)")
            }
        }
        self.nodes = nodes
        self.paths = paths
    }
}
