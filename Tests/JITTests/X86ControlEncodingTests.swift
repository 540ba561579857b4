import JIT
import Testing

/// Jumps, calls, the stack, traps and no-ops, byte for byte against GNU `as`; label references
/// in both directions, at the edges of the rel8 range.
@Suite(.enabled(if: GNUAssembler.isAvailable, GNUAssembler.missingMessage))
struct X86ControlEncodingTests {
    typealias S = IntelSyntax
    let registers = TestOperands.registers

    /// Every jump form to a label behind and to one ahead. `as` picks rel8 for a plain jump that
    /// reaches; `{disp32}` makes it use rel32.
    @Test func jumpsAndCallsToLabels() throws {
        var batch = EncodingBatch()
        let behind = try emitJumps(into: &batch, labelName: "behind", bindFirst: true)
        let ahead = try emitJumps(into: &batch, labelName: "ahead", bindFirst: false)
        #expect(behind != ahead)
        try batch.expectMatchesGNUAssembler()
    }

    /// Short jumps at exactly -128 and +127 bytes, the ends of the rel8 range.
    @Test func shortJumpsAtTheEdgesOfTheirRange() throws {
        var batch = EncodingBatch()
        let back = batch.newLabel(), forward = batch.newLabel()
        try batch.add("back:", instructions: 0) { try $0.bind(back) }
        addPadding(126, to: &batch)
        try batch.add("jmp back") { try $0.jmp(short: back) }  // ends 128 bytes after `back`
        try batch.add("jne forward") { try $0.jcc(.ne, short: forward) }
        addPadding(127, to: &batch)
        try batch.add("forward:", instructions: 0) { try $0.bind(forward) }
        try batch.expectMatchesGNUAssembler()
    }

    @Test func explicitDisplacements() throws {
        var batch = EncodingBatch()
        for displacement in TestOperands.displacements {
            batch.add("{disp32} jmp .+5+(\(displacement))") { $0.jmp(relative: displacement) }
            batch.add("call .+5+(\(displacement))") { $0.call(relative: displacement) }
        }
        try batch.expectMatchesGNUAssembler()
    }

    @Test func indirectJumpsCallsAndStack() throws {
        var batch = EncodingBatch()
        for register in registers {
            let name = S.name(register, .qword)
            batch.add("jmp \(name)") { $0.jmp(register) }
            batch.add("call \(name)") { $0.call(register) }
            batch.add("push \(name)") { $0.push(register) }
            batch.add("pop \(name)") { $0.pop(register) }
        }
        for memory in TestOperands.allMemory {
            batch.add("jmp \(S.memory(memory, .qword))") { $0.jmp(memory) }
            batch.add("call \(S.memory(memory, .qword))") { $0.call(memory) }
        }
        batch.add("ret") { $0.ret() }
        batch.add("ud2") { $0.ud2() }
        batch.add("int3") { $0.int3() }
        try batch.expectMatchesGNUAssembler()
    }

    /// The nine single no-ops, and alignment padding from every offset modulo 32, which must
    /// match `.nops N, 9` (as many 9-byte no-ops as fit, then one for the rest).
    @Test func noOperationsAndAlignment() throws {
        var batch = EncodingBatch()
        let texts = [
            "nop", "xchg ax, ax", "nop dword ptr [rax]", "{disp8} nop dword ptr [rax]",
            "{disp8} nop dword ptr [rax+rax*1]", "{disp8} nop word ptr [rax+rax*1]", "{disp32} nop dword ptr [rax]",
            "{disp32} nop dword ptr [rax+rax*1]", "{disp32} nop word ptr [rax+rax*1]",
        ]
        for (i, text) in texts.enumerated() {
            batch.add(text) { $0.nop(length: i + 1) }
        }
        for misalignment in 0 ..< 32 {
            batch.add(".balign 32, 0xcc", instructions: (32 - batch.offset % 32) % 32) { $0.alignWithTraps(to: 32) }
            if misalignment > 0 { addPadding(misalignment, to: &batch) }
            let gap = (32 - misalignment) % 32
            batch.add(gap == 0 ? "" : ".nops \(gap), 9", instructions: (gap + 8) / 9) { $0.align(to: 32) }
        }
        try batch.expectMatchesGNUAssembler()
    }

    /// `jmp`, `jmp short`, `jcc` and `jcc short` for every condition, and `call`, all to one
    /// label named `labelName`, bound before them or after them (the short jumps nearest to it,
    /// so that they reach). Returns the label.
    private func emitJumps(into batch: inout EncodingBatch, labelName: String, bindFirst: Bool) throws -> X86Label {
        let label = batch.newLabel()
        if bindFirst {
            try batch.add("\(labelName):", instructions: 0) { try $0.bind(label) }
            try emitShortJumps(into: &batch, label, labelName)
        }
        batch.add("{disp32} jmp \(labelName)") { $0.jmp(label) }
        for condition in X86Condition.allCases {
            batch.add("{disp32} j\(condition) \(labelName)") { $0.jcc(condition, label) }
        }
        batch.add("call \(labelName)") { $0.call(label) }
        if !bindFirst {
            try emitShortJumps(into: &batch, label, labelName)
            try batch.add("\(labelName):", instructions: 0) { try $0.bind(label) }
        }
        return label
    }

    private func emitShortJumps(into batch: inout EncodingBatch, _ label: X86Label, _ labelName: String) throws {
        try batch.add("jmp \(labelName)") { try $0.jmp(short: label) }
        for condition in X86Condition.allCases {
            try batch.add("j\(condition) \(labelName)") { try $0.jcc(condition, short: label) }
        }
    }

    /// `count` bytes of `int3`, one case each.
    private func addPadding(_ count: Int, to batch: inout EncodingBatch) {
        for _ in 0 ..< count { batch.add("int3") { $0.int3() } }
    }
}

extension X86Assembler {
    /// `int3` up to a multiple of `alignment`: a test helper that matches `.balign N, 0xcc`.
    fileprivate mutating func alignWithTraps(to alignment: Int) {
        while offset % alignment != 0 { int3() }
    }
}
