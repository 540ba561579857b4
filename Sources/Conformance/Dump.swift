// Parsing the harness's UART dumps and comparing two of them.

public struct TrapRecord: Sendable, Hashable {
    public var caseIndex: Int
    public var mcause: UInt64
    public var mepc: UInt64
    public var mtval: UInt64

    public var description: String {
        "trap mcause=0x\(String(mcause, radix: 16)) (\(Self.causeName(mcause))) mepc=0x\(String(mepc, radix: 16)) mtval=0x\(String(mtval, radix: 16))"
    }

    static func causeName(_ cause: UInt64) -> String {
        switch cause {
        case 0: return "instruction address misaligned"
        case 1: return "instruction access fault"
        case 2: return "illegal instruction"
        case 3: return "breakpoint"
        case 4: return "load address misaligned"
        case 5: return "load access fault"
        case 6: return "store/AMO address misaligned"
        case 7: return "store/AMO access fault"
        case 11: return "ecall from M-mode"
        default: return cause >> 63 == 1 ? "interrupt" : "cause \(cause)"
        }
    }
}

public struct CaseDump: Sendable, Hashable {
    public var index: Int
    public var seed: UInt64
    public var values: [String: UInt64] = [:]
    public var memory: [Int: UInt64] = [:]
    public var complete = false
}

public struct ParsedRun: Sendable {
    public var cases: [Int: CaseDump] = [:]
    public var traps: [Int: TrapRecord] = [:]
    public var finished = false
    public var unparsed: [String] = []

    public init(_ text: String) {
        var current: CaseDump?
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = String(rawLine)
            if line.hasPrefix("case=") {
                if let c = current { cases[c.index] = c }
                let fields = Self.keyValues(line)
                if let index = fields["case"], let seed = fields["seed"] {
                    current = CaseDump(index: Int(index), seed: seed)
                } else {
                    current = nil
                    unparsed.append(line)
                }
            } else if line.hasPrefix("trap ") {
                let fields = Self.keyValues(String(line.dropFirst(5)))
                if let index = fields["case"] {
                    traps[Int(index)] = TrapRecord(caseIndex: Int(index), mcause: fields["mcause"] ?? 0,
                                                   mepc: fields["mepc"] ?? 0, mtval: fields["mtval"] ?? 0)
                } else {
                    unparsed.append(line)
                }
            } else if line == "end" {
                if var c = current {
                    c.complete = true
                    cases[c.index] = c
                }
                current = nil
            } else if line == "done" {
                finished = true
            } else if let eq = line.firstIndex(of: "="), current != nil,
                      let value = UInt64(line[line.index(after: eq)...], radix: 16) {
                let key = String(line[..<eq])
                if key.hasPrefix("m"), key != "mem", key != "mstatus", let offset = Int(key.dropFirst(), radix: 16) {
                    current!.memory[offset] = value
                } else {
                    current!.values[key] = value
                }
            } else if !line.isEmpty {
                unparsed.append(line)
            }
        }
        if let c = current { cases[c.index] = c }
    }

    static func keyValues(_ line: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for item in line.split(separator: " ") {
            let parts = item.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let v = UInt64(parts[1], radix: 16) { result[String(parts[0])] = v }
        }
        return result
    }
}

public struct FieldDifference: Sendable, Hashable {
    public var field: String
    public var reference: UInt64
    public var actual: UInt64

    public var description: String {
        var s = "\(field): qemu=0x\(Harness.hex(reference)) lockstep=0x\(Harness.hex(actual))"
        if field.hasPrefix("f"), field != "fcsr" {
            s += "  (\(FloatFormatting.describe(reference)) vs \(FloatFormatting.describe(actual)))"
        } else if field == "fcsr" {
            s += "  (frm \(reference >> 5 & 7)/\(actual >> 5 & 7), flags \(FloatFormatting.flags(reference))/\(FloatFormatting.flags(actual)))"
        }
        return s
    }
}

/// The outcome of comparing one case between QEMU and Lockstep.
public enum CaseComparison: Sendable, Hashable {
    case match
    /// QEMU itself trapped or produced no dump: the test case (or harness) is invalid.
    case invalidReference(String)
    case mismatch(differences: [FieldDifference], notes: [String])
}

public enum Differ {
    public static func compare(index: Int, reference: ParsedRun, actual: ParsedRun) -> CaseComparison {
        if let trap = reference.traps[index] {
            return .invalidReference("QEMU trapped in case \(index): \(trap.description)")
        }
        guard let ref = reference.cases[index], ref.complete else {
            return .invalidReference("QEMU produced no complete dump for case \(index)")
        }
        var notes: [String] = []
        if let trap = actual.traps[index] {
            notes.append("Lockstep trapped: \(trap.description)")
        }
        guard let act = actual.cases[index], act.complete else {
            notes.append("Lockstep produced no complete dump for case \(index)")
            return .mismatch(differences: [], notes: notes)
        }
        var differences: [FieldDifference] = []
        for field in Harness.fieldNames {
            let r = ref.values[field], a = act.values[field]
            if r != a {
                differences.append(FieldDifference(field: field, reference: r ?? 0, actual: a ?? 0))
                if a == nil { notes.append("Lockstep dump lacks \(field)") }
            }
        }
        for (offset, r) in ref.memory.sorted(by: { $0.key < $1.key }) where act.memory[offset] != r {
            differences.append(FieldDifference(field: "m" + String(offset, radix: 16), reference: r,
                                               actual: act.memory[offset] ?? 0))
        }
        if differences.isEmpty && notes.isEmpty { return .match }
        return .mismatch(differences: differences, notes: notes)
    }
}

enum FloatFormatting {
    static func describe(_ bits: UInt64) -> String {
        let d = Double(bitPattern: bits)
        var s = "d:" + (d.isNaN ? (bits & (1 << 51) != 0 ? "qNaN" : "sNaN") : "\(d)")
        if bits >> 32 == 0xFFFF_FFFF {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: bits))
            s += " s:" + (f.isNaN ? (bits & (1 << 22) != 0 ? "qNaN" : "sNaN") : "\(f)")
        }
        return s
    }

    static func flags(_ fcsr: UInt64) -> String {
        let names = ["NX", "UF", "OF", "DZ", "NV"]
        let set = (0..<5).filter { fcsr >> UInt64($0) & 1 == 1 }.map { names[$0] }
        return set.isEmpty ? "-" : set.reversed().joined(separator: "|")
    }
}
