import Conformance
import Testing

@Suite("Program generator")
struct GeneratorTests {
    @Test("same seed gives identical text; different seeds differ")
    func determinism() {
        let generator = ProgramGenerator()
        for seed: UInt64 in [0, 1, 42, 0xDEAD_BEEF, .max] {
            let a = generator.generate(seed: seed), b = generator.generate(seed: seed)
            #expect(a == b)
            #expect(a.bodyText == b.bodyText)
            #expect(Harness.assembly(for: [a]) == Harness.assembly(for: [b]))
        }
        let texts = Set((0..<50 as Range<UInt64>).map { generator.generate(seed: $0).bodyText })
        #expect(texts.count == 50)
        // Pin the PRNG so that a seed means the same program on every platform and toolchain.
        var rng = Xoshiro256(seed: 0)
        #expect(rng.next() == 0x99EC_5F36_CB75_F2B4)
        var mixer = SplitMix64(seed: 0)
        #expect(mixer.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test("length option and structural invariants")
    func lengthAndWellFormedness() {
        for length in [10, 200, 600] {
            let generator = ProgramGenerator(length: length)
            for seed: UInt64 in 0..<40 {
                let testCase = generator.generate(seed: seed)
                #expect(testCase.instructionCount >= length)
                #expect(testCase.instructionCount < length + 80)
                #expect(testCase.isWellFormed)
                #expect(testCase.memory.count == ScratchLayout.totalSize)
                #expect(testCase.intRegisters.count == 32 && testCase.fpRegisters.count == 32)
                // x8 (scratch base) and sp are reserved: never a destination.
                let noDestination: Set<String> = ["sb", "sh", "sw", "sd", "fsw", "fsd", "c.sw", "c.sd", "c.fsd",
                    "c.swsp", "c.sdsp", "c.fsdsp", "beq", "bne", "blt", "bge", "bltu", "bgeu", "c.beqz", "c.bnez",
                    "c.j", "c.jr", "c.jalr", "c.addi16sp", "csrw", "csrwi", ".insn", "c.nop"]
                for line in testCase.chunks.flatMap(\.lines) where !line.hasSuffix(":") {
                    let tokens = line.split(separator: " ")
                    guard !noDestination.contains(String(tokens[0])), tokens.count > 1 else { continue }
                    let rd = tokens[1].trimmingCharacters(in: [","])
                    #expect(rd != "x8" && rd != "x2" && rd != "sp", "reserved register written: \(line)")
                }
            }
        }
    }

    /// Every instruction class the generator promises must show up across a few hundred seeds.
    @Test("coverage of RV64IMAFDC + Zicsr mnemonics")
    func coverage() {
        let generator = ProgramGenerator()
        var counts: [String: Int] = [:]
        var allLines: [String] = []
        for seed: UInt64 in 0..<300 {
            let testCase = generator.generate(seed: seed)
            for mnemonic in testCase.mnemonics { counts[mnemonic, default: 0] += 1 }
            allLines += testCase.chunks.flatMap(\.lines)
        }
        // Strip acquire/release suffixes for the base-mnemonic check.
        var base: [String: Int] = [:]
        for (mnemonic, count) in counts {
            var m = mnemonic
            for suffix in [".aqrl", ".aq", ".rl"] where m.hasSuffix(suffix) { m.removeLast(suffix.count); break }
            base[m, default: 0] += count
        }
        let integer = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
                       "addw", "subw", "sllw", "srlw", "sraw", "addi", "slti", "sltiu", "xori", "ori", "andi",
                       "slli", "srli", "srai", "addiw", "slliw", "srliw", "sraiw", "lui", "auipc", "li", "la"]
        let multiply = ["mul", "mulh", "mulhsu", "mulhu", "mulw", "div", "divu", "rem", "remu",
                        "divw", "divuw", "remw", "remuw"]
        let memory = ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu", "sb", "sh", "sw", "sd"]
        let atomics = ["lr.w", "lr.d", "sc.w", "sc.d"] +
            ["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu"]
                .flatMap { ["\($0).w", "\($0).d"] }
        var float: [String] = []
        for p in ["s", "d"] {
            float += ["fadd", "fsub", "fmul", "fdiv", "fsqrt", "fmin", "fmax", "fmadd", "fmsub", "fnmsub",
                      "fnmadd", "fsgnj", "fsgnjn", "fsgnjx", "feq", "flt", "fle", "fclass"].map { "\($0).\(p)" }
            float += ["w", "wu", "l", "lu"].flatMap { ["fcvt.\($0).\(p)", "fcvt.\(p).\($0)"] }
        }
        float += ["fcvt.s.d", "fcvt.d.s", "fmv.x.w", "fmv.w.x", "fmv.x.d", "fmv.d.x", "flw", "fsw", "fld", "fsd"]
        let csr = ["csrr", "csrw", "csrwi", "csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci",
                   "frflags", "frrm", "frcsr", "fsflags", "fsflagsi", "fsrm", "fsrmi", "fscsr"]
        let compressed = ["c.addi", "c.addiw", "c.li", "c.lui", "c.addi16sp", "c.addi4spn", "c.slli", "c.srli",
                          "c.srai", "c.andi", "c.mv", "c.add", "c.sub", "c.xor", "c.or", "c.and", "c.subw",
                          "c.addw", "c.lw", "c.ld", "c.sw", "c.sd", "c.fld", "c.fsd", "c.lwsp", "c.ldsp",
                          "c.fldsp", "c.swsp", "c.sdsp", "c.fsdsp", "c.beqz", "c.bnez", "c.j", "c.jr", "c.jalr",
                          "c.nop"]
        let control = ["beq", "bne", "blt", "bge", "bltu", "bgeu", "jal", "jalr"]
        let required = integer + multiply + memory + atomics + float + csr + compressed + control
        let missing = required.filter { (base[$0] ?? 0) == 0 }
        #expect(missing.isEmpty, "mnemonics never generated in 300 seeds: \(missing)")

        // Acquire/release orderings and every rounding mode appear.
        for suffix in [".aq", ".rl", ".aqrl"] {
            #expect(counts.keys.contains { $0.hasSuffix(suffix) && ($0.hasPrefix("amo") || $0.hasPrefix("lr") || $0.hasPrefix("sc")) },
                    "no atomic with \(suffix)")
        }
        for mode in ["rne", "rtz", "rdn", "rup", "rmm", "dyn"] {
            #expect(allLines.contains { $0.hasSuffix(", \(mode)") }, "rounding mode \(mode) never used")
            #expect(allLines.contains { $0.hasPrefix(".insn") && $0.hasSuffix(mode) }, "no .insn exact conversion with \(mode)")
        }
        // Misaligned ordinary accesses, and loads from the constant pool.
        let misaligned = allLines.filter { line in
            guard let op = line.split(separator: " ").first, let size = ["lh": 2, "lw": 4, "ld": 8, "sh": 2, "sw": 4, "sd": 8, "flw": 4, "fld": 8][String(op)],
                  let last = line.split(separator: " ").last, let paren = last.firstIndex(of: "("),
                  let offset = Int(last[..<paren]) else { return false }
            return offset % size != 0 && last.hasSuffix("(x8)")
        }
        #expect(misaligned.count > 100)
        #expect(allLines.contains { $0.hasPrefix("fld") && ($0.contains(", 1") || $0.contains(", 2")) })
        // Division corner cases are set up explicitly.
        #expect(allLines.contains("li x5, -9223372036854775808") || allLines.contains { $0.hasSuffix(", -9223372036854775808") })
        print("coverage: \(counts.count) distinct mnemonics, \(counts.values.reduce(0, +)) instructions")
    }

    @Test("initial FP state includes improperly NaN-boxed singles and corner values")
    func floatingPointState() {
        let generator = ProgramGenerator()
        var unboxed = 0, boxed = 0, nan = 0
        for seed: UInt64 in 0..<50 {
            for value in generator.generate(seed: seed).fpRegisters {
                if value >> 32 == 0xFFFF_FFFF { boxed += 1 } else if value >> 32 < 0x8000_0000, value >> 52 == 0 { unboxed += 1 }
                if value & 0x7FF0_0000_0000_0000 == 0x7FF0_0000_0000_0000 && value & 0xF_FFFF_FFFF_FFFF != 0 { nan += 1 }
            }
        }
        #expect(boxed > 300)
        #expect(unboxed > 20)
        #expect(nan > 20)
    }
}
