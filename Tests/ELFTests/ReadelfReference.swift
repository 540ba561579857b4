/// What `riscv64-linux-gnu-readelf -lhs --wide` says about a file: the reference the parser is
/// compared against.
struct ReadelfReference {
    struct Segment: Equatable {
        var type: String
        var offset: UInt64
        var virtualAddress: UInt64
        var physicalAddress: UInt64
        var fileSize: UInt64
        var memorySize: UInt64
        /// As printed, trimmed: "R E", "RW", …
        var flags: String
    }

    struct Symbol {
        var value: UInt64
        var type: String
        var binding: String
        var sectionIndex: String
        var name: String
    }

    var entry: UInt64?
    var segments: [Segment] = []
    var symbols: [Symbol] = []

    init(parsing text: String) throws {
        var section = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingPrefix(while: { $0 == " " })
            if line.hasPrefix("Program Headers:") { section = "program"; continue }
            if line.hasPrefix("Section to Segment mapping") { section = ""; continue }
            if line.hasPrefix("Symbol table") { section = "symbols"; continue }
            if line.hasPrefix("Entry point address:") {
                entry = try Self.hex(line.split(separator: " ").last.map(String.init) ?? "")
                continue
            }
            let fields = line.split(separator: " ").map(String.init)
            switch section {
            case "program":
                // Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align; Flg may contain a space.
                guard fields.count >= 8, fields[1].hasPrefix("0x") else { continue }
                segments.append(Segment(
                    type: fields[0], offset: try Self.hex(fields[1]), virtualAddress: try Self.hex(fields[2]),
                    physicalAddress: try Self.hex(fields[3]), fileSize: try Self.hex(fields[4]),
                    memorySize: try Self.hex(fields[5]), flags: fields[6 ..< fields.count - 1].joined(separator: " ")))
            case "symbols":
                // Num: Value Size Type Bind Vis Ndx [Name]
                guard fields.count >= 7, fields[0].hasSuffix(":"), fields[0] != "Num:" else { continue }
                symbols.append(Symbol(value: try Self.hex(fields[1]), type: fields[3], binding: fields[4],
                                      sectionIndex: fields[6], name: fields.count > 7 ? fields[7] : ""))
            default:
                continue
            }
        }
    }

    /// The value `ELFFile.symbol(named:)` should give for `name`: the first global or weak
    /// definition, else the first local one; undefined, section and file symbols don't count.
    func expectedAddress(of name: String) -> UInt64? {
        let candidates = symbols.filter {
            $0.name == name && $0.sectionIndex != "UND" && $0.type != "SECTION" && $0.type != "FILE"
        }
        return (candidates.first { $0.binding != "LOCAL" } ?? candidates.first)?.value
    }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    private static func hex(_ text: String) throws -> UInt64 {
        let digits = text.hasPrefix("0x") ? text.dropFirst(2) : Substring(text)
        guard let value = UInt64(digits, radix: 16) else {
            throw ParseError(description: "readelf printed '\(text)' where a hexadecimal number was expected")
        }
        return value
    }
}
