// Seeded random generator of straight-line RV64IMAFDC + Zicsr test programs.
//
// Register conventions inside a generated body:
//   x8 (s0)  base of the scratch page (never written): bytes 0..<1024 scratch, 1024..<2048 constant pool
//   x2 (sp)  points into the scratch buffer; only `c.addi16sp` changes it, and never inside a branch shadow
// Every other integer register and all FP registers are free.
// The bodies never trap: memory accesses stay inside the scratch page, atomics are naturally aligned,
// frm only ever holds valid rounding modes, and control flow only goes forward to labels in the body.

public struct ProgramGenerator: Sendable {
    public struct Options: Sendable, Hashable {
        /// Approximate number of instructions per body.
        public var length: Int
        public init(length: Int = 200) { self.length = length }
    }

    public var options: Options

    public init(options: Options = Options()) { self.options = options }
    public init(length: Int) { self.options = Options(length: length) }

    public func generate(seed: UInt64) -> TestCase {
        var builder = Builder(seed: seed)
        return builder.build(length: options.length)
    }
}

// MARK: - Implementation

private enum Precision { case single, double
    var suffix: String { self == .single ? "s" : "d" }
}

private enum PoolKind { case double, single, integer }

private let freeIntegerRegisters: [Int] = [1, 3, 4, 5, 6, 7] + Array(9...31)
private let compressedWritable: [Int] = Array(9...15)
private let compressedReadable: [Int] = Array(8...15)
private let roundingModes = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"]
private let roundingModeNumbers = [0, 1, 2, 3, 4, 7]

private struct Builder {
    var rng: Xoshiro256
    let seed: UInt64
    var sp = ScratchLayout.initialSP
    var labelCounter = 0
    var poolKinds: [PoolKind] = []
    var poolIndices: [PoolKind: [Int]] = [:]
    var memory: [UInt8] = []

    init(seed: UInt64) {
        self.seed = seed
        rng = Xoshiro256(seed: seed)
    }

    // MARK: Top level

    mutating func build(length: Int) -> TestCase {
        var ints = [UInt64](repeating: 0, count: 32)
        for r in 1..<32 { ints[r] = rng.cornerInteger() }
        ints[2] = 0; ints[8] = 0
        var fps = [UInt64](repeating: 0, count: 32)
        for r in 0..<32 { fps[r] = rng.cornerFPRegister() }
        buildMemory()
        let autoCompress = rng.chance(1, in: 5)

        var chunks: [Chunk] = []
        var count = 0
        while count < length {
            let new = chunkGroup(depth: 0)
            count += new.reduce(0) { $0 + $1.instructionCount }
            chunks += new
        }
        return TestCase(seed: seed, intRegisters: ints, fpRegisters: fps, memory: memory,
                        chunks: chunks, autoCompress: autoCompress)
    }

    mutating func buildMemory() {
        memory = []
        memory.reserveCapacity(ScratchLayout.totalSize)
        func append(_ value: UInt64) {
            for i in 0..<8 { memory.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
        }
        for _ in 0..<(ScratchLayout.writableSize / 8) {
            switch rng.below(5) {
            case 0, 1: append(rng.next())
            case 2: append(rng.cornerInteger())
            case 3: append(rng.cornerFPRegister())
            default: append(UInt64(rng.below(256)))
            }
        }
        for index in 0..<ScratchLayout.poolEntries {
            let kind: PoolKind = index < 48 ? .double : (index < 100 ? .single : .integer)
            poolKinds.append(kind)
            poolIndices[kind, default: []].append(index)
            switch kind {
            case .double: append(rng.cornerDouble())
            case .integer: append(rng.cornerInteger())
            case .single:
                let box: UInt64 = rng.chance(4, in: 5) ? 0xFFFF_FFFF : rng.pick(CornerValues.badBoxes)
                append((box << 32) | UInt64(rng.cornerSingle()))
            }
        }
    }

    // MARK: Helpers

    func x(_ r: Int) -> String { "x\(r)" }
    func f(_ r: Int) -> String { "f\(r)" }

    mutating func freeInt() -> Int { rng.pick(freeIntegerRegisters) }
    /// Destination: usually a free register, occasionally x0 (result discarded).
    mutating func destInt() -> Int { rng.chance(1, in: 25) ? 0 : freeInt() }
    /// Any integer register as a source (x2 and x8 hold scratch addresses, which is fine).
    mutating func srcInt() -> Int { rng.below(32) }
    mutating func fpReg() -> Int { rng.below(32) }

    mutating func rmSuffix() -> String {
        rng.chance(1, in: 4) ? "" : ", " + rng.pick(roundingModes)
    }

    mutating func newLabel() -> String {
        labelCounter += 1
        return "{L}\(labelCounter)"
    }

    mutating func immediate12() -> Int {
        rng.chance(2, in: 5) ? rng.pick([0, 1, -1, 2, 2047, -2048, 2046, -2047, 0x7F0, -16])
                             : rng.int(-2048...2047)
    }

    mutating func shiftAmount(max: Int) -> Int {
        rng.chance(1, in: 2) ? rng.pick([0, 1, 31, 32, 63].filter { $0 <= max }) : rng.int(0...max)
    }

    /// Loads an interesting integer into a fresh free register and returns the register.
    mutating func integerOperand(_ lines: inout [String], value: UInt64? = nil) -> Int {
        let r = freeInt()
        let v = value ?? rng.cornerInteger()
        lines.append("li \(x(r)), \(Int64(bitPattern: v))")
        return r
    }

    /// A source integer register, with probability 1/2 freshly loaded with a corner value.
    mutating func integerSource(_ lines: inout [String]) -> Int {
        rng.chance(1, in: 2) ? integerOperand(&lines) : srcInt()
    }

    /// Address of a pool entry of the given kind, as an offset from x8.
    mutating func poolOffset(_ kind: PoolKind) -> Int {
        ScratchLayout.poolOffset + 8 * rng.pick(poolIndices[kind]!)
    }

    /// Loads an FP corner value from the constant pool into a register, appropriate for the precision
    /// (sometimes deliberately not: doubles and badly boxed singles feed single-precision operations).
    mutating func fpCornerLoad(_ precision: Precision, into r: Int, _ lines: inout [String]) {
        switch precision {
        case .single:
            switch rng.below(10) {
            case 0..<7: lines.append("flw \(f(r)), \(poolOffset(.single))(x8)")
            case 7, 8: lines.append("fld \(f(r)), \(poolOffset(.single))(x8)")
            default: lines.append("fld \(f(r)), \(poolOffset(.double))(x8)")
            }
        case .double:
            if rng.chance(9, in: 10) {
                lines.append("fld \(f(r)), \(poolOffset(.double))(x8)")
            } else {
                lines.append("fld \(f(r)), \(poolOffset(.single))(x8)")
            }
        }
    }

    mutating func fpSource(_ precision: Precision, _ lines: inout [String]) -> Int {
        let r = fpReg()
        switch rng.below(16) {
        case 0..<7: fpCornerLoad(precision, into: r, &lines)
        case 7, 8: fpSpecial(precision, into: r, &lines)
        default: break
        }
        return r
    }

    /// Materialises one of the IEEE special values through an integer register and fmv, so that
    /// combinations such as inf*0+NaN, inf-inf, 0/0, x/0 and sqrt(-x) come up often.
    mutating func fpSpecial(_ precision: Precision, into r: Int, _ lines: inout [String]) {
        let t = freeInt()
        switch precision {
        case .single:
            let bits: UInt32 = rng.pick([0, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0x7F80_0001,
                                         0xFFC0_0001, 0x3F80_0000, 0xBF80_0000, 0x0000_0001, 0x7F7F_FFFF, 0x0080_0000])
            lines.append("li \(x(t)), \(Int64(Int32(bitPattern: bits)))")
            lines.append("fmv.w.x \(f(r)), \(x(t))")
        case .double:
            let bits: UInt64 = rng.pick([0, 0x8000_0000_0000_0000, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000,
                                         0x7FF8_0000_0000_0000, 0x7FF0_0000_0000_0001, 0xFFF8_0000_0000_0001,
                                         0x3FF0_0000_0000_0000, 0xBFF0_0000_0000_0000, 0x1, 0x7FEF_FFFF_FFFF_FFFF,
                                         0x0010_0000_0000_0000])
            lines.append("li \(x(t)), \(Int64(bitPattern: bits))")
            lines.append("fmv.d.x \(f(r)), \(x(t))")
        }
    }

    mutating func precision() -> Precision { rng.chance(1, in: 2) ? .single : .double }

    // MARK: Chunk kinds

    enum Kind: CaseIterable {
        case intR, intI, upper, loadImmediate, mulDiv, load, store, lrsc, amo
        case fpArith, fma, fsqrt, fminmax, fcompare, fclass, fsgnj, fmove, fcvt, fpMemory, csr
        case compressed, branch
    }

    static let kinds = Kind.allCases
    static let weights: [Int] = Kind.allCases.map {
        switch $0 {
        case .intR: return 9
        case .intI: return 9
        case .upper: return 3
        case .loadImmediate: return 2
        case .mulDiv: return 7
        case .load: return 7
        case .store: return 6
        case .lrsc: return 3
        case .amo: return 5
        case .fpArith: return 8
        case .fma: return 5
        case .fsqrt: return 2
        case .fminmax: return 3
        case .fcompare: return 3
        case .fclass: return 2
        case .fsgnj: return 3
        case .fmove: return 4
        case .fcvt: return 12
        case .fpMemory: return 4
        case .csr: return 5
        case .compressed: return 14
        case .branch: return 5
        }
    }

    /// One chunk, or for branches the branch, its shadow and the target label.
    /// `depth` limits nesting; inside shadows `sp` must not change.
    mutating func chunkGroup(depth: Int, allowBranches: Bool = true) -> [Chunk] {
        let kind = Self.kinds[rng.weighted(Self.weights)]
        let inShadow = depth > 0
        switch kind {
        case .branch:
            if allowBranches && depth < 2 { return branch(depth: depth) }
            return [intR()]
        case .intR: return [intR()]
        case .intI: return [intI()]
        case .upper: return [upper()]
        case .loadImmediate:
            var lines: [String] = []
            _ = integerOperand(&lines)
            return [Chunk(lines: lines)]
        case .mulDiv: return [mulDiv()]
        case .load: return [load()]
        case .store: return [store()]
        case .lrsc: return [lrsc()]
        case .amo: return [amo()]
        case .fpArith: return [capturingFlags(fpArith())]
        case .fma: return [capturingFlags(fma())]
        case .fsqrt: return [capturingFlags(fsqrt())]
        case .fminmax: return [capturingFlags(fminmax())]
        case .fcompare: return [capturingFlags(fcompare())]
        case .fclass: return [fclass()]
        case .fsgnj: return [fsgnj()]
        case .fmove: return [fmove()]
        case .fcvt: return [capturingFlags(fcvt())]
        case .fpMemory: return [fpMemory()]
        case .csr: return [csr()]
        case .compressed: return [compressed(allowSPChange: !inShadow)]
        }
    }

    /// fflags are sticky, so a wrong flag from one instruction is easily hidden by a later one.
    /// Often read-and-clear them right after the instruction and store them into the scratch buffer.
    mutating func capturingFlags(_ chunk: Chunk) -> Chunk {
        guard rng.chance(2, in: 5) else { return chunk }
        var result = chunk
        let t = freeInt()
        result.lines.append("fsflags \(x(t)), x0")
        result.lines.append("sb \(x(t)), \(rng.below(ScratchLayout.writableSize))(x8)")
        return result
    }

    // MARK: Integer

    mutating func intR() -> Chunk {
        let op = rng.pick(["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
                           "addw", "subw", "sllw", "srlw", "sraw"])
        var lines: [String] = []
        let rs1 = integerSource(&lines)
        let rs2 = rng.chance(1, in: 3) ? integerOperand(&lines, value: UInt64(bitPattern: Int64(rng.pick([0, 1, 31, 32, 33, 63, 64, 65, -1]))))
                                        : srcInt()
        lines.append("\(op) \(x(destInt())), \(x(rs1)), \(x(rs2))")
        return Chunk(lines: lines)
    }

    mutating func intI() -> Chunk {
        var lines: [String] = []
        let rs1 = rng.chance(1, in: 3) ? integerOperand(&lines) : srcInt()
        let rd = destInt()
        switch rng.below(13) {
        case 0..<6:
            let op = ["addi", "slti", "sltiu", "xori", "ori", "andi"][rng.below(6)]
            lines.append("\(op) \(x(rd)), \(x(rs1)), \(immediate12())")
        case 6: lines.append("addiw \(x(rd)), \(x(rs1)), \(immediate12())")
        case 7..<10:
            let op = ["slli", "srli", "srai"][rng.below(3)]
            lines.append("\(op) \(x(rd)), \(x(rs1)), \(shiftAmount(max: 63))")
        default:
            let op = ["slliw", "srliw", "sraiw"][rng.below(3)]
            lines.append("\(op) \(x(rd)), \(x(rs1)), \(shiftAmount(max: 31))")
        }
        return Chunk(lines: lines)
    }

    mutating func upper() -> Chunk {
        let imm = rng.chance(1, in: 2) ? rng.pick([0, 1, 0x7FFFF, 0x80000, 0xFFFFF, 0x80001, 0xFFFFE])
                                       : rng.int(0...0xFFFFF)
        let op = rng.chance(1, in: 2) ? "lui" : "auipc"
        return Chunk(lines: ["\(op) \(x(destInt())), \(imm)"])
    }

    mutating func mulDiv() -> Chunk {
        let op = rng.pick(["mul", "mulh", "mulhsu", "mulhu", "mulw", "div", "divu", "rem", "remu",
                           "divw", "divuw", "remw", "remuw"])
        let isWord = op.hasSuffix("w")
        var lines: [String] = []
        var rs1: Int, rs2: Int
        switch rng.below(8) {
        case 0: // division by zero
            rs1 = integerSource(&lines)
            rs2 = rng.chance(1, in: 2) ? 0 : integerOperand(&lines, value: isWord ? rng.pick([0, 0xFFFF_FFFF_0000_0000]) : 0)
        case 1: // overflow: INT_MIN / -1
            let minValue: UInt64 = isWord ? rng.pick([0xFFFF_FFFF_8000_0000, 0x0000_0000_8000_0000, 0x1234_5678_8000_0000])
                                          : 0x8000_0000_0000_0000
            let minusOne: UInt64 = isWord ? rng.pick([0xFFFF_FFFF_FFFF_FFFF, 0x0000_0000_FFFF_FFFF]) : 0xFFFF_FFFF_FFFF_FFFF
            rs1 = integerOperand(&lines, value: minValue)
            rs2 = integerOperand(&lines, value: minusOne)
            if rs2 == rs1 { // both picked the same register: re-load the dividend elsewhere
                rs1 = integerOperand(&lines, value: minValue)
                if rs1 == rs2 { rs1 = rs2 == 5 ? 6 : 5; lines.append("li \(x(rs1)), \(Int64(bitPattern: minValue))") }
            }
        default:
            rs1 = integerSource(&lines)
            rs2 = integerSource(&lines)
        }
        lines.append("\(op) \(x(destInt())), \(x(rs1)), \(x(rs2))")
        return Chunk(lines: lines)
    }

    // MARK: Memory

    /// Emits the address computation for an access of `size` bytes and returns the `off(base)` operand.
    /// `limit` is the exclusive end of the allowed region (scratch only for stores, scratch+pool for loads).
    mutating func address(size: Int, limit: Int, aligned: Bool, _ lines: inout [String]) -> String {
        var target: Int
        if aligned {
            target = size * rng.below(limit / size)
        } else if size > 1 && rng.chance(1, in: 4) {
            // Straddle the page boundary in the middle of the scratch buffer.
            target = ScratchLayout.pageBoundary - rng.int(1...(size - 1))
        } else {
            target = rng.int(0...(limit - size))
            if size > 1 && target % size == 0 { target = min(target + rng.int(1...(size - 1)), limit - size) }
            if size > 1 && target % size == 0 { target -= 1 }
        }
        if rng.chance(1, in: 4) {
            let t = freeInt()
            let base = rng.int(0...2047)
            lines.append("addi \(x(t)), x8, \(base)")
            return "\(target - base)(\(x(t)))"
        }
        return "\(target)(x8)"
    }

    mutating func load() -> Chunk {
        let (op, size) = rng.pick([("lb", 1), ("lh", 2), ("lw", 4), ("ld", 8), ("lbu", 1), ("lhu", 2), ("lwu", 4)])
        var lines: [String] = []
        let limit = rng.chance(1, in: 3) ? ScratchLayout.totalSize : ScratchLayout.writableSize
        let operand = address(size: size, limit: limit, aligned: rng.chance(7, in: 10), &lines)
        lines.append("\(op) \(x(destInt())), \(operand)")
        return Chunk(lines: lines)
    }

    mutating func store() -> Chunk {
        let (op, size) = rng.pick([("sb", 1), ("sh", 2), ("sw", 4), ("sd", 8)])
        var lines: [String] = []
        let source = srcInt()
        let operand = address(size: size, limit: ScratchLayout.writableSize, aligned: rng.chance(7, in: 10), &lines)
        lines.append("\(op) \(x(source)), \(operand)")
        return Chunk(lines: lines)
    }

    mutating func ordering() -> String { rng.pick(["", ".aq", ".rl", ".aqrl"]) }

    @discardableResult
    mutating func alignedScratchAddress(size: Int, into t: Int, _ lines: inout [String]) -> Int {
        let offset = size * rng.below(ScratchLayout.writableSize / size)
        lines.append("addi \(x(t)), x8, \(offset)")
        return offset
    }

    mutating func lrsc() -> Chunk {
        let width = rng.chance(1, in: 2) ? "w" : "d"
        let size = width == "w" ? 4 : 8
        var lines: [String] = []
        let t = freeInt()
        let lrOffset = alignedScratchAddress(size: size, into: t, &lines)
        var rd1 = destInt()
        if rd1 == t { rd1 = 0 }
        lines.append("lr.\(width)\(ordering()) \(x(rd1)), (\(x(t)))")
        for _ in 0..<rng.below(3) { // register-only instructions between LR and SC, not touching t
            var rd = freeInt()
            if rd == t { rd = 0 }
            let op = rng.pick(["add", "xor", "sub", "or", "addw", "sltu"])
            lines.append("\(op) \(x(rd)), \(x(srcInt())), \(x(srcInt()))")
        }
        if rng.chance(1, in: 10) {
            // A lone SC: there is no reservation (every LR is followed by its SC), so it must fail.
            lines = []
            alignedScratchAddress(size: size, into: t, &lines)
            lines.append("sc.\(width)\(ordering()) \(x(destInt())), \(x(srcInt())), (\(x(t)))")
            return Chunk(lines: lines)
        }
        var address = t
        if rng.chance(1, in: 4) {
            // SC to a different 128-byte block than the LR's: it must fail and store nothing.
            var other = freeInt()
            if other == t { other = t == 5 ? 6 : 5 }
            var offset = size * rng.below(ScratchLayout.writableSize / size)
            if offset / 128 == lrOffset / 128 { offset = (offset + 256) % ScratchLayout.writableSize }
            lines.append("addi \(x(other)), x8, \(offset)")
            address = other
        }
        lines.append("sc.\(width)\(ordering()) \(x(destInt())), \(x(srcInt())), (\(x(address)))")
        return Chunk(lines: lines)
    }

    mutating func amo() -> Chunk {
        let op = rng.pick(["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu"])
        let width = rng.chance(1, in: 2) ? "w" : "d"
        var lines: [String] = []
        let t = freeInt()
        alignedScratchAddress(size: width == "w" ? 4 : 8, into: t, &lines)
        let rs2 = rng.chance(1, in: 3) ? integerOperand(&lines) : srcInt()
        let base = rs2 == t ? freeIntegerRegisters.first { $0 != t }! : t
        if base != t { alignedScratchAddress(size: width == "w" ? 4 : 8, into: base, &lines) }
        lines.append("\(op).\(width)\(ordering()) \(x(destInt())), \(x(rs2)), (\(x(base)))")
        return Chunk(lines: lines)
    }

    // MARK: Floating point

    mutating func fpArith() -> Chunk {
        let p = precision()
        let op = rng.pick(["fadd", "fsub", "fmul", "fdiv"])
        var lines: [String] = []
        let a = fpSource(p, &lines), b = fpSource(p, &lines)
        lines.append("\(op).\(p.suffix) \(f(fpReg())), \(f(a)), \(f(b))\(rmSuffix())")
        return Chunk(lines: lines)
    }

    mutating func fma() -> Chunk {
        let p = precision()
        let op = rng.pick(["fmadd", "fmsub", "fnmsub", "fnmadd"])
        var lines: [String] = []
        let a = fpSource(p, &lines), b = fpSource(p, &lines), c = fpSource(p, &lines)
        lines.append("\(op).\(p.suffix) \(f(fpReg())), \(f(a)), \(f(b)), \(f(c))\(rmSuffix())")
        return Chunk(lines: lines)
    }

    mutating func fsqrt() -> Chunk {
        let p = precision()
        var lines: [String] = []
        let a = fpSource(p, &lines)
        lines.append("fsqrt.\(p.suffix) \(f(fpReg())), \(f(a))\(rmSuffix())")
        return Chunk(lines: lines)
    }

    mutating func fminmax() -> Chunk {
        let p = precision()
        var lines: [String] = []
        let a = fpSource(p, &lines), b = rng.chance(1, in: 8) ? a : fpSource(p, &lines)
        lines.append("\(rng.pick(["fmin", "fmax"])).\(p.suffix) \(f(fpReg())), \(f(a)), \(f(b))")
        return Chunk(lines: lines)
    }

    mutating func fcompare() -> Chunk {
        let p = precision()
        var lines: [String] = []
        let a = fpSource(p, &lines), b = rng.chance(1, in: 8) ? a : fpSource(p, &lines)
        lines.append("\(rng.pick(["feq", "flt", "fle"])).\(p.suffix) \(x(destInt())), \(f(a)), \(f(b))")
        return Chunk(lines: lines)
    }

    mutating func fclass() -> Chunk {
        let p = precision()
        var lines: [String] = []
        let a = fpSource(p, &lines)
        lines.append("fclass.\(p.suffix) \(x(destInt())), \(f(a))")
        return Chunk(lines: lines)
    }

    mutating func fsgnj() -> Chunk {
        let p = precision()
        var lines: [String] = []
        let a = fpSource(p, &lines), b = rng.chance(1, in: 5) ? a : fpSource(p, &lines)
        lines.append("\(rng.pick(["fsgnj", "fsgnjn", "fsgnjx"])).\(p.suffix) \(f(fpReg())), \(f(a)), \(f(b))")
        return Chunk(lines: lines)
    }

    mutating func fmove() -> Chunk {
        var lines: [String] = []
        switch rng.below(4) {
        case 0:
            let a = fpSource(.single, &lines)
            lines.append("fmv.x.w \(x(destInt())), \(f(a))")
        case 1:
            let a = fpSource(.double, &lines)
            lines.append("fmv.x.d \(x(destInt())), \(f(a))")
        case 2:
            let r = rng.chance(1, in: 2) ? integerOperand(&lines, value: UInt64(rng.cornerSingle()) | (rng.chance(1, in: 2) ? 0xFFFF_FFFF_0000_0000 : 0))
                                         : srcInt()
            lines.append("fmv.w.x \(f(fpReg())), \(x(r))")
        default:
            // fmv.d.x is also how improperly NaN-boxed singles get into FP registers.
            let value: UInt64
            switch rng.below(3) {
            case 0: value = rng.cornerDouble()
            case 1: value = (rng.pick(CornerValues.badBoxes) << 32) | UInt64(rng.cornerSingle())
            default: value = 0xFFFF_FFFF_0000_0000 | UInt64(rng.cornerSingle())
            }
            let r = rng.chance(2, in: 3) ? integerOperand(&lines, value: value) : srcInt()
            lines.append("fmv.d.x \(f(fpReg())), \(x(r))")
        }
        return Chunk(lines: lines)
    }

    mutating func fcvt() -> Chunk {
        var lines: [String] = []
        let integerTypes = ["w", "wu", "l", "lu"]
        switch rng.below(5) {
        case 0, 1: // float -> integer
            let p = precision()
            let a = fpSource(p, &lines)
            lines.append("fcvt.\(rng.pick(integerTypes)).\(p.suffix) \(x(destInt())), \(f(a))\(rmSuffix())")
        case 2, 3: // integer -> float
            let p = precision()
            let type = rng.pick(integerTypes)
            let r = integerSource(&lines)
            let rd = fpReg()
            if p == .double && (type == "w" || type == "wu") {
                // Exact conversions: the assembler rejects a rounding mode, so encode one with .insn sometimes.
                if rng.chance(1, in: 3) {
                    let rmIndex = rng.below(roundingModes.count)
                    lines.append(".insn r OP_FP, \(roundingModeNumbers[rmIndex]), 0x69, \(f(rd)), \(x(r)), x\(type == "w" ? 0 : 1)  # fcvt.d.\(type) \(roundingModes[rmIndex])")
                } else {
                    lines.append("fcvt.d.\(type) \(f(rd)), \(x(r))")
                }
            } else {
                lines.append("fcvt.\(p.suffix).\(type) \(f(rd)), \(x(r))\(rmSuffix())")
            }
        default: // float <-> float
            if rng.chance(1, in: 2) {
                let a = fpSource(.double, &lines)
                lines.append("fcvt.s.d \(f(fpReg())), \(f(a))\(rmSuffix())")
            } else {
                let a = fpSource(.single, &lines)
                let rd = fpReg()
                if rng.chance(1, in: 3) {
                    let rmIndex = rng.below(roundingModes.count)
                    lines.append(".insn r OP_FP, \(roundingModeNumbers[rmIndex]), 0x21, \(f(rd)), \(f(a)), x0  # fcvt.d.s \(roundingModes[rmIndex])")
                } else {
                    lines.append("fcvt.d.s \(f(rd)), \(f(a))")
                }
            }
        }
        return Chunk(lines: lines)
    }

    mutating func fpMemory() -> Chunk {
        var lines: [String] = []
        let aligned = rng.chance(4, in: 5)
        switch rng.below(4) {
        case 0:
            let operand = address(size: 4, limit: ScratchLayout.totalSize, aligned: aligned, &lines)
            lines.append("flw \(f(fpReg())), \(operand)")
        case 1:
            let operand = address(size: 8, limit: ScratchLayout.totalSize, aligned: aligned, &lines)
            lines.append("fld \(f(fpReg())), \(operand)")
        case 2:
            let operand = address(size: 4, limit: ScratchLayout.writableSize, aligned: aligned, &lines)
            lines.append("fsw \(f(fpReg())), \(operand)")
        default:
            let operand = address(size: 8, limit: ScratchLayout.writableSize, aligned: aligned, &lines)
            lines.append("fsd \(f(fpReg())), \(operand)")
        }
        return Chunk(lines: lines)
    }

    /// A value for frm with random (ignored) upper bits on top of a valid rounding mode.
    mutating func frmValue() -> Int64 {
        let mode = Int64(rng.below(5))
        return rng.chance(1, in: 4) ? mode | (Int64(rng.below(1 << 20)) << 3) : mode
    }

    mutating func csr() -> Chunk {
        var lines: [String] = []
        let rd = destInt()
        switch rng.below(16) {
        case 0: lines.append("csrr \(x(rd)), \(rng.pick(["fflags", "frm", "fcsr"]))")
        case 1: lines.append("\(rng.pick(["frflags", "frrm", "frcsr"])) \(x(rd))")
        case 2: lines.append("csrwi frm, \(rng.below(5))")
        case 3: lines.append("fsrmi \(x(rd)), \(rng.below(5))")
        case 4:
            let r = freeInt()
            lines.append("li \(x(r)), \(frmValue())")
            lines.append(rng.chance(1, in: 2) ? "fsrm \(x(rd)), \(x(r))" : "csrw frm, \(x(r))")
        case 5:
            let r = freeInt()
            let value = (frmValue() << 5) | Int64(rng.below(32)) | (rng.chance(1, in: 4) ? Int64(rng.below(1 << 20)) << 8 : 0)
            lines.append("li \(x(r)), \(value)")
            lines.append(rng.chance(1, in: 2) ? "fscsr \(x(rd)), \(x(r))" : "csrw fcsr, \(x(r))")
        case 6: lines.append("csrrw \(x(rd)), fflags, \(x(srcInt()))")
        case 7: lines.append("csrrs \(x(rd)), fflags, \(x(srcInt()))")
        case 8: lines.append("csrrc \(x(rd)), fflags, \(x(srcInt()))")
        case 9: lines.append("csrrwi \(x(rd)), fflags, \(rng.below(32))")
        case 10: lines.append("csrrsi \(x(rd)), fflags, \(rng.below(32))")
        case 11: lines.append("csrrci \(x(rd)), fflags, \(rng.below(32))")
        case 12: lines.append("fsflags \(x(rd)), \(x(srcInt()))")
        case 13: lines.append("fsflagsi \(x(rd)), \(rng.below(32))")
        case 14: lines.append("csrrwi \(x(rd)), frm, \(rng.below(5))")
        default: lines.append("csrrs \(x(rd)), frm, x0")
        }
        return Chunk(lines: lines)
    }

    // MARK: Compressed

    mutating func nonzeroImm6() -> Int {
        var v = rng.chance(1, in: 3) ? rng.pick([1, -1, 31, -32]) : rng.int(-32...31)
        if v == 0 { v = 1 }
        return v
    }

    mutating func compressed(allowSPChange: Bool) -> Chunk {
        let ops = ["c.addi", "c.addiw", "c.li", "c.lui", "c.addi16sp", "c.addi4spn", "c.slli", "c.srli", "c.srai",
                   "c.andi", "c.mv", "c.add", "c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw",
                   "c.lw", "c.ld", "c.sw", "c.sd", "c.fld", "c.fsd", "c.lwsp", "c.ldsp", "c.fldsp",
                   "c.swsp", "c.sdsp", "c.fsdsp", "c.nop"]
        var op = rng.pick(ops)
        if op == "c.addi16sp" && !allowSPChange { op = "c.addi" }
        let rdp = rng.pick(compressedWritable), rsp = rng.pick(compressedReadable)
        let rd = freeInt()
        switch op {
        case "c.addi": return Chunk(lines: ["c.addi \(x(rd)), \(nonzeroImm6())"])
        case "c.addiw": return Chunk(lines: ["c.addiw \(x(rd)), \(rng.int(-32...31))"])
        case "c.li": return Chunk(lines: ["c.li \(x(rd)), \(rng.int(-32...31))"])
        case "c.lui":
            let v = nonzeroImm6()
            return Chunk(lines: ["c.lui \(x(rd)), \(v > 0 ? v : 0x100000 + v)"])
        case "c.addi16sp":
            let choices = stride(from: -512, through: 496, by: 16).filter {
                $0 != 0 && sp + $0 >= 0 && sp + $0 <= ScratchLayout.spMaximum
            }
            let delta = rng.pick(choices)
            sp += delta
            return Chunk(lines: ["c.addi16sp sp, \(delta)"], spDelta: delta)
        case "c.addi4spn": return Chunk(lines: ["c.addi4spn \(x(rdp)), sp, \(4 * rng.int(1...255))"])
        case "c.slli": return Chunk(lines: ["c.slli \(x(rd)), \(rng.int(1...63))"])
        case "c.srli", "c.srai": return Chunk(lines: ["\(op) \(x(rdp)), \(rng.int(1...63))"])
        case "c.andi": return Chunk(lines: ["c.andi \(x(rdp)), \(rng.int(-32...31))"])
        case "c.mv", "c.add": return Chunk(lines: ["\(op) \(x(rd)), \(x(rng.int(1...31)))"])
        case "c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw":
            return Chunk(lines: ["\(op) \(x(rdp)), \(x(rsp))"])
        case "c.lw": return Chunk(lines: ["c.lw \(x(rdp)), \(4 * rng.below(32))(x8)"])
        case "c.ld": return Chunk(lines: ["c.ld \(x(rdp)), \(8 * rng.below(32))(x8)"])
        case "c.sw": return Chunk(lines: ["c.sw \(x(rsp)), \(4 * rng.below(32))(x8)"])
        case "c.sd": return Chunk(lines: ["c.sd \(x(rsp)), \(8 * rng.below(32))(x8)"])
        case "c.fld": return Chunk(lines: ["c.fld \(f(rng.int(8...15))), \(8 * rng.below(32))(x8)"])
        case "c.fsd": return Chunk(lines: ["c.fsd \(f(rng.int(8...15))), \(8 * rng.below(32))(x8)"])
        case "c.lwsp", "c.swsp":
            let offset = 4 * rng.below(64)
            let reg = op == "c.lwsp" ? rd : srcInt()
            return Chunk(lines: ["\(op) \(x(reg)), \(offset)(sp)"], spAccess: offset...(offset + 3))
        case "c.ldsp", "c.sdsp":
            let offset = 8 * rng.below(64)
            let reg = op == "c.ldsp" ? rd : srcInt()
            return Chunk(lines: ["\(op) \(x(reg)), \(offset)(sp)"], spAccess: offset...(offset + 7))
        case "c.fldsp", "c.fsdsp":
            let offset = 8 * rng.below(64)
            return Chunk(lines: ["\(op) \(f(fpReg())), \(offset)(sp)"], spAccess: offset...(offset + 7))
        default: return Chunk(lines: ["c.nop"])
        }
    }

    // MARK: Control flow

    mutating func branch(depth: Int) -> [Chunk] {
        let label = newLabel()
        var lines: [String] = []
        var shadowCount = rng.int(1...4)
        var nested = true
        switch rng.below(10) {
        case 0..<4:
            let op = rng.pick(["beq", "bne", "blt", "bge", "bltu", "bgeu"])
            let rs1 = srcInt()
            let rs2: Int
            switch rng.below(6) {
            case 0: rs2 = rs1
            case 1: rs2 = 0
            default: rs2 = srcInt()
            }
            lines.append("\(op) \(x(rs1)), \(x(rs2)), \(label)")
        case 4, 5:
            lines.append("\(rng.pick(["c.beqz", "c.bnez"])) \(x(rng.pick(compressedReadable))), \(label)")
            shadowCount = rng.int(1...3)
            nested = false // keep the target within c.beqz/c.bnez's +-256 byte reach
        case 6:
            lines.append("jal \(x(rng.pick([0, 1, freeInt()]))), \(label)")
        case 7:
            lines.append("c.j \(label)")
        case 8:
            let t = freeInt()
            lines.append("la \(x(t)), \(label)")
            switch rng.below(3) {
            case 0: lines.append("jalr \(x(destInt())), 0(\(x(t)))")
            case 1: lines.append("jalr \(x(destInt())), 1(\(x(t)))") // bit 0 of the target is cleared
            default:
                lines.append("addi \(x(t)), \(x(t)), -16")
                lines.append("jalr \(x(destInt())), 16(\(x(t)))")
            }
        default:
            let t = freeInt()
            lines.append("la \(x(t)), \(label)")
            lines.append("\(rng.chance(1, in: 2) ? "c.jr" : "c.jalr") \(x(t))")
        }
        var group = [Chunk(lines: lines, references: label)]
        for _ in 0..<shadowCount {
            group += chunkGroup(depth: nested ? depth + 1 : 2, allowBranches: nested)
        }
        group.append(Chunk(lines: ["\(label):"], defines: label))
        return group
    }
}
