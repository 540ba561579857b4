import JIT
import Testing

/// Many encoder cases checked against GNU `as` in one run: each case is reference text in Intel
/// syntax and the `X86Assembler` calls meant to produce the same bytes. All texts go into one
/// source file, each after a label of its own; the labels' offsets in `as`'s output cut its
/// bytes into cases, which are compared byte for byte with the assembler's.
struct EncodingBatch {
    private var assembler = X86Assembler()
    private var cases: [Case] = []

    private struct Case {
        var text: String
        var bytes: Range<Int>
        var expectedInstructions: Int
        /// The indices of the case's entries in `instructionOffsets`.
        var recorded: Range<Int>
    }

    /// The number of cases.
    var count: Int { cases.count }

    /// The offset the next case starts at.
    var offset: Int { assembler.offset }

    /// A new label of the batch's assembler.
    mutating func newLabel() -> X86Label {
        assembler.newLabel()
    }

    /// Adds a case: `text` holds `instructions` instructions (separated by `;`, which `as` reads
    /// as a line break), `emit` makes them.
    mutating func add(_ text: String, instructions: Int = 1, _ emit: (inout X86Assembler) throws -> Void) rethrows {
        let start = assembler.offset
        let recorded = assembler.instructionOffsets.count
        try emit(&assembler)
        cases.append(Case(text: text, bytes: start ..< assembler.offset, expectedInstructions: instructions,
                          recorded: recorded ..< assembler.instructionOffsets.count))
    }

    /// Adds `mnemonic destination, source` for every size in `sizes` and every pair of the 16
    /// registers, the source named at `sourceSize` (the same size when nil).
    mutating func addRegisterPairs(_ mnemonic: String, sizes: [X86OperandSize], sourceSize: X86OperandSize? = nil,
                                   _ emit: (inout X86Assembler, X86OperandSize, X86Register, X86Register) -> Void) {
        for size in sizes {
            for destination in X86Register.allCases {
                for source in X86Register.allCases {
                    let text = "\(mnemonic) \(IntelSyntax.name(destination, size)), \(IntelSyntax.name(source, sourceSize ?? size))"
                    add(text) { emit(&$0, size, destination, source) }
                }
            }
        }
    }

    /// Assembles every case with GNU `as` and records an issue for the cases whose bytes differ
    /// (the first 30 of them, with both encodings) or whose instructions were not recorded in
    /// `instructionOffsets`. Returns the number of distinct encodings checked.
    @discardableResult
    func expectMatchesGNUAssembler(sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        #expect(!cases.isEmpty, "an empty batch checks nothing", sourceLocation: sourceLocation)
        var source = ".intel_syntax noprefix\n.text\n"
        for (index, item) in cases.enumerated() {
            source += "case_\(index): \(item.text)\n"
        }
        source += "case_end:\n"
        let reference = try GNUAssembler.assemble(source)
        let ours = try assembler.finish()
        var failures: [String] = []
        for (index, item) in cases.enumerated() {
            guard let start = reference.symbols["case_\(index)"],
                  let end = reference.symbols[index + 1 < cases.count ? "case_\(index + 1)" : "case_end"] else {
                failures.append("\(item.text): as defined no label for it")
                continue
            }
            let expected = Array(reference.text[start ..< end])
            let actual = Array(ours[item.bytes])
            if expected != actual {
                failures.append("\(item.text): as \(Self.hex(expected)), ours \(Self.hex(actual))")
            } else {
                let starts = assembler.instructionOffsets[item.recorded]
                if starts.count != item.expectedInstructions || starts.first.map({ $0 != item.bytes.lowerBound }) ?? !item.bytes.isEmpty {
                    failures.append("\(item.text): instructionOffsets recorded \(Array(starts)) for bytes at \(item.bytes)")
                }
            }
        }
        if !failures.isEmpty {
            let report = "\(failures.count) of \(cases.count) cases differ from GNU as:\n" + failures.prefix(30).joined(separator: "\n")
            Issue.record(Comment(rawValue: report), sourceLocation: sourceLocation)
        }
        let distinct = Set(cases.map { ours[$0.bytes] }).count
        print("\(cases.count) cases, \(distinct) distinct encodings compared with GNU as (\(sourceLocation.fileName):\(sourceLocation.line))")
        return distinct
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.isEmpty ? "(nothing)" : bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
