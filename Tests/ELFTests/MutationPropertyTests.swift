import ELF
import Foundation
import Testing

/// A small, fast, seedable PRNG (SplitMix64) so that every run tries the same mutations and a
/// failure can be reproduced from its mutation number.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Fuzz-style property: no mutation of a real executable may crash the parser; each must either
/// parse into something that satisfies `ELFFile`'s guarantees or throw an `ELFError`.
@Suite struct MutationPropertyTests {
    static let mutationCount = 20_000

    /// A header field: file offset and width in bytes.
    typealias Field = (offset: Int, width: Int)

    /// Every header field the parser could read: ELF header, program headers, section headers,
    /// and the first symbols.
    static func fields(of elf: ELFBytes) -> [Field] {
        var fields: [Field] = [(4, 1), (5, 1), (6, 1), (7, 1), (16, 2), (18, 2), (20, 4), (24, 8), (32, 8), (40, 8),
                               (48, 4), (52, 2), (54, 2), (56, 2), (58, 2), (60, 2), (62, 2)]
        for i in 0 ..< elf.programHeaderCount {
            let base = elf.programHeader(i)
            fields += [(base, 4), (base + 4, 4)] + stride(from: 8, through: 48, by: 8).map { (base + $0, 8) }
        }
        for i in 0 ..< elf.sectionHeaderCount {
            let base = elf.sectionHeader(i)
            fields += [(base, 4), (base + 4, 4), (base + 40, 4), (base + 44, 4)]
                + [8, 16, 24, 32, 48, 56].map { (base + $0, 8) }
        }
        if let symtab = elf.symbolTableSection {
            let start = Int(elf.read(elf.sectionHeader(symtab) + ELFBytes.shOffset, 8))
            for i in 0 ..< 8 {
                let base = start + 24 * i
                fields += [(base, 4), (base + 4, 1), (base + 6, 2), (base + 8, 8), (base + 16, 8)]
            }
        }
        return fields
    }

    /// Offsets at which a truncated copy is most interesting: every program and section header
    /// boundary (and one byte either side), the header, the tables and segments.
    static func cutPoints(of elf: ELFBytes) -> [Int] {
        var cuts = [0, 1, 4, 5, 16, 52, 63, 64]
        for i in 0 ... elf.programHeaderCount { cuts.append(elf.programHeader(i)) }
        for i in 0 ... elf.sectionHeaderCount { cuts.append(elf.sectionHeader(i)) }
        for i in elf.loadIndices {
            let start = Int(elf.read(elf.programHeader(i) + ELFBytes.pOffset, 8))
            cuts += [start, start + Int(elf.read(elf.programHeader(i) + ELFBytes.pFilesz, 8))]
        }
        for i in 0 ..< elf.sectionHeaderCount {
            let start = Int(elf.read(elf.sectionHeader(i) + ELFBytes.shOffset, 8))
            cuts += [start, start + Int(elf.read(elf.sectionHeader(i) + ELFBytes.shSize, 8))]
        }
        return Set(cuts.flatMap { [$0 - 1, $0, $0 + 1] }.filter { $0 >= 0 && $0 < elf.bytes.count }).sorted()
    }

    /// A value likely to hit an edge in a `width`-byte field.
    static func interestingValue(width: Int, fileSize: Int, original: UInt64,
                                 using random: inout SplitMix64) -> UInt64 {
        let maximum: UInt64 = width == 8 ? .max : (1 << UInt64(8 * width)) - 1
        let candidates: [UInt64] = [
            0, 1, 2, 3, 0x7f, 0x80, 0xff, maximum, maximum - 1, maximum / 2, maximum / 2 + 1,
            UInt64(fileSize), UInt64(fileSize) - 1, UInt64(fileSize) + 1, UInt64(fileSize) / 2,
            original &+ 1, original &- 1, original &* 2, original ^ 0x8000_0000, 24, 56, 64, 243,
            random.next(),
        ]
        return candidates.randomElement(using: &random)! & maximum
    }

    /// One mutation of `elf`.
    static func mutate(_ elf: ELFBytes, number: Int, fields: [Field], cuts: [Int],
                       using random: inout SplitMix64) -> [UInt8] {
        var copy = elf
        let count = copy.bytes.count
        // The first mutations truncate at every boundary; the rest are random, some stacked.
        if number < cuts.count { return Array(copy.bytes.prefix(cuts[number])) }
        for _ in 0 ..< Int.random(in: 1 ... 3, using: &random) {
            switch Int.random(in: 0 ..< 10, using: &random) {
            case 0 ... 1: // bit flips anywhere
                for _ in 0 ..< Int.random(in: 1 ... 8, using: &random) {
                    copy.bytes[Int.random(in: 0 ..< count, using: &random)] ^= 1 << UInt8.random(in: 0 ..< 8, using: &random)
                }
            case 2 ... 3: // boundary bytes anywhere, favouring the headers
                let limit = Bool.random(using: &random) ? min(count, 64 + 56 * elf.programHeaderCount) : count
                copy.bytes[Int.random(in: 0 ..< limit, using: &random)] = [0, 0xff, 0x7f, 0x80].randomElement(using: &random)!
            case 4 ... 8: // a header field set to an interesting value
                let field = fields.randomElement(using: &random)!
                let value = interestingValue(width: field.width, fileSize: count,
                                             original: copy.read(field.offset, field.width), using: &random)
                copy.write(field.offset, field.width, value)
            default: // truncation at a random point
                copy.bytes = Array(copy.bytes.prefix(Int.random(in: 0 ..< copy.bytes.count, using: &random)))
                return copy.bytes
            }
        }
        return copy.bytes
    }

    /// Checks what `ELFFile` promises about a file it accepted; returns a description of the
    /// first broken promise, or nil.
    static func brokenInvariant(_ elf: ELFFile, bytes: [UInt8]) -> String? {
        if elf.segments.isEmpty { return "no segments" }
        for (i, s) in elf.segments.enumerated() {
            if s.memorySize == 0 { return "segment \(i) is empty" }
            if s.fileSize > s.memorySize { return "segment \(i) memsz < filesz" }
            if UInt64(s.data.count) != s.fileSize { return "segment \(i) data.count != fileSize" }
            if s.virtualAddress.addingReportingOverflow(s.memorySize - 1).overflow
                || s.physicalAddress.addingReportingOverflow(s.memorySize - 1).overflow {
                return "segment \(i) wraps around"
            }
        }
        for (i, s) in elf.segments.enumerated() {
            for (j, t) in elf.segments.enumerated() where j > i {
                if s.virtualAddress <= t.virtualAddress + (t.memorySize - 1)
                    && t.virtualAddress <= s.virtualAddress + (s.memorySize - 1) {
                    return "segments \(i) and \(j) overlap"
                }
            }
        }
        if !elf.segments.contains(where: { $0.virtualAddress <= elf.entry && elf.entry - $0.virtualAddress < $0.memorySize }) {
            return "entry outside segments"
        }
        return nil
    }

    @Test func mutationsNeverCrash() throws {
        let original = ELFBytes(try Toolchain.fixtures().bytes)
        let fields = Self.fields(of: original)
        let cuts = Self.cutPoints(of: original)
        #expect(cuts.count > 20)
        var random = SplitMix64(seed: 0x10C5_7E9E_1F00_0001)
        var parsed = 0
        var errorKinds: [String: Int] = [:]
        let started = ContinuousClock.now

        for number in 0 ..< Self.mutationCount {
            let bytes = Self.mutate(original, number: number, fields: fields, cuts: cuts, using: &random)
            do {
                let elf = try ELFFile(bytes: bytes)
                parsed += 1
                if let broken = Self.brokenInvariant(elf, bytes: bytes) {
                    Issue.record("mutation \(number): parsed, but \(broken)")
                }
                for name in ["_start", "counter", "scratch", "hidden_total", "x"] { _ = elf.symbol(named: name) }
            } catch {
                // Typed throws: `error` is an ELFError. It must explain itself.
                // The case name (payload cases) or the message's first clause (plain cases).
                let kind = Mirror(reflecting: error).children.first?.label
                    ?? String(error.description.prefix { $0 != ";" && $0 != "(" })
                errorKinds[kind, default: 0] += 1
                if error.description.isEmpty { Issue.record("mutation \(number): empty error message") }
            }
        }
        let elapsed = ContinuousClock.now - started
        print("ELF mutations: \(Self.mutationCount) in \(elapsed), \(parsed) parsed, errors: "
            + errorKinds.sorted { $0.value > $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        // The mutations must exercise both outcomes and many different checks.
        #expect(parsed > 100, "only \(parsed) of \(Self.mutationCount) mutations parsed")
        #expect(errorKinds.count >= 15, "only \(errorKinds.count) distinct errors: \(errorKinds)")
        #expect(elapsed < .seconds(60), "20,000 mutations took \(elapsed)")
    }
}
