import JIT
import Testing

/// What the assembler does with labels besides encoding: patching forward references, where a
/// label is, and the mistakes it reports.
struct X86LabelTests {
    @Test func forwardReferencesArePatchedWhenTheLabelIsBound() throws {
        var assembler = X86Assembler()
        let target = assembler.newLabel()
        assembler.jmp(target)  // E9 + 4 bytes, at 0
        try assembler.jcc(.e, short: target)  // 74 + 1 byte, at 5
        assembler.nop(length: 3)
        try assembler.bind(target)  // at 10
        #expect(assembler.offset(of: target) == 10)
        #expect(try assembler.finish() == [0xE9, 5, 0, 0, 0, 0x74, 3, 0x0F, 0x1F, 0x00])
        #expect(assembler.instructionOffsets == [0, 5, 7])
    }

    @Test func aShortJumpBackwardsOutOfRangeIsRefusedAndLeavesNoBytes() throws {
        var assembler = X86Assembler()
        let start = assembler.newLabel()
        try assembler.bind(start)
        for _ in 0 ..< 127 { assembler.int3() }
        // From offset 127 the jump would end at 129: 129 bytes back is one too many for rel8.
        #expect(throws: X86AssemblerError.shortJumpOutOfRange(label: 0, jumpAt: 127, distance: -129)) {
            try assembler.jmp(short: start)
        }
        #expect(assembler.offset == 127)
        #expect(assembler.instructionOffsets.count == 127)
    }

    @Test func aShortJumpForwardOutOfRangeFailsTheBindAndPatchesNothing() throws {
        var assembler = X86Assembler()
        let end = assembler.newLabel()
        try assembler.jcc(.ne, short: end)
        for _ in 0 ..< 128 { assembler.int3() }
        #expect(throws: X86AssemblerError.shortJumpOutOfRange(label: 0, jumpAt: 0, distance: 128)) {
            try assembler.bind(end)
        }
        #expect(assembler.offset(of: end) == nil)
        #expect(assembler.bytes.prefix(2) == [0x75, 0x00])
    }

    @Test func labelMistakesAreReported() throws {
        var assembler = X86Assembler()
        let once = assembler.newLabel()
        try assembler.bind(once)
        #expect(throws: X86AssemblerError.labelAlreadyBound(label: 0, at: 0)) { try assembler.bind(once) }
        let never = assembler.newLabel()
        assembler.ret()
        assembler.call(never)
        #expect(throws: X86AssemblerError.unboundLabel(label: 1, referencedAt: 1)) { try assembler.finish() }
        #expect("\(X86AssemblerError.unboundLabel(label: 1, referencedAt: 1))".contains("bind it before finish()"))
    }

    @Test func resetForgetsCodeAndLabels() throws {
        var assembler = X86Assembler()
        let pending = assembler.newLabel()
        assembler.jmp(pending)
        assembler.reset()
        #expect(assembler.offset == 0 && assembler.instructionOffsets.isEmpty)
        let label = assembler.newLabel()
        try assembler.bind(label)
        assembler.ret()
        #expect(try assembler.finish() == [0xC3])  // the jump to `pending` is gone with the rest
        #expect(assembler.offset(of: label) == 0)
    }
}
