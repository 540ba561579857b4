// The unit of differential testing: an initial machine state plus a straight-line program.

/// A group of assembly lines that the minimiser removes or keeps as a whole.
public struct Chunk: Sendable, Hashable {
    /// Assembly lines. `{L}` is a placeholder for a per-case label prefix, substituted by the harness.
    public var lines: [String]
    /// Change this chunk applies to `sp` (only `c.addi16sp` chunks have one).
    public var spDelta: Int = 0
    /// Byte range accessed relative to `sp` (sp-relative compressed loads and stores).
    public var spAccess: ClosedRange<Int>? = nil
    /// Label defined by this chunk.
    public var defines: String? = nil
    /// Label this chunk jumps to (must be defined by a later chunk).
    public var references: String? = nil

    public init(lines: [String], spDelta: Int = 0, spAccess: ClosedRange<Int>? = nil,
                defines: String? = nil, references: String? = nil) {
        self.lines = lines
        self.spDelta = spDelta
        self.spAccess = spAccess
        self.defines = defines
        self.references = references
    }

    /// Number of machine instructions this chunk stands for (pseudo-instructions count as one).
    public var instructionCount: Int {
        lines.filter { !$0.hasSuffix(":") && !$0.hasPrefix(".option") }.count
    }
}

/// Layout of the data page that every test case sees through the reserved base register `x8`.
public enum ScratchLayout {
    /// Bytes `0..<writableSize` are the scratch buffer that stores may modify.
    public static let writableSize = 1024
    /// Bytes `writableSize..<totalSize` are the constant pool (read-only by convention).
    public static let totalSize = 2048
    public static let poolOffset = 1024
    public static let poolEntries = (totalSize - poolOffset) / 8
    /// `sp` starts at scratch + 256 and `c.addi16sp` keeps it within `0...spMaximum`.
    public static let initialSP = 256
    public static let spMaximum = 512
    /// The scratch page is placed so that this offset from x8 is a 4 KiB page boundary, making
    /// misaligned accesses (and sp-relative ones) cross pages.
    public static let pageBoundary = 512
}

public struct TestCase: Sendable, Hashable {
    public var seed: UInt64
    /// Initial integer registers x0...x31 (x0, x2 and x8 are ignored: the harness sets sp and the base).
    public var intRegisters: [UInt64]
    /// Initial FP registers f0...f31 as raw 64-bit patterns.
    public var fpRegisters: [UInt64]
    /// Initial content of the scratch page (`ScratchLayout.totalSize` bytes, scratch then pool).
    public var memory: [UInt8]
    public var chunks: [Chunk]
    /// Whether the body is assembled with `.option rvc`, so ordinary mnemonics may compress too.
    public var autoCompress: Bool

    public init(seed: UInt64, intRegisters: [UInt64], fpRegisters: [UInt64], memory: [UInt8],
                chunks: [Chunk], autoCompress: Bool) {
        self.seed = seed
        self.intRegisters = intRegisters
        self.fpRegisters = fpRegisters
        self.memory = memory
        self.chunks = chunks
        self.autoCompress = autoCompress
    }

    /// The program body as assembly text (labels still carry the `{L}` placeholder).
    public var bodyText: String {
        chunks.flatMap(\.lines).joined(separator: "\n") + "\n"
    }

    public var instructionCount: Int { chunks.reduce(0) { $0 + $1.instructionCount } }

    /// Checks the structural invariants that keep a (possibly minimised) case trap-free:
    /// every jump target is defined later, and every sp-relative access stays in the scratch buffer.
    public var isWellFormed: Bool {
        var pending = Set<String>()
        for chunk in chunks.reversed() {
            if let label = chunk.defines { pending.insert(label) }
            if let target = chunk.references, !pending.contains(target) { return false }
        }
        var sp = ScratchLayout.initialSP
        for chunk in chunks {
            if let access = chunk.spAccess {
                if sp + access.lowerBound < 0 || sp + access.upperBound >= ScratchLayout.writableSize { return false }
            }
            sp += chunk.spDelta
            if sp < 0 || sp > ScratchLayout.spMaximum { return false }
        }
        return true
    }

    /// Mnemonics present in the body (`.insn` lines are counted under the mnemonic in their comment).
    public var mnemonics: [String] {
        chunks.flatMap(\.lines).compactMap(Self.mnemonic(of:))
    }

    static func mnemonic(of line: String) -> String? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.isEmpty || trimmed.hasSuffix(":") || trimmed.hasPrefix(".option") { return nil }
        if trimmed.hasPrefix(".insn") {
            guard let hash = trimmed.firstIndex(of: "#") else { return ".insn" }
            return trimmed[trimmed.index(after: hash)...].split(separator: " ").first.map(String.init)
        }
        return trimmed.split(separator: " ").first.map(String.init)
    }
}
