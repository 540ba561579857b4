import JIT
import Testing

/// Generated code written into a CodeBuffer and run, with each strategy this host allows.
@Suite(.enabled(if: HostArchitecture.isX86_64, HostArchitecture.notX86Message))
struct CodeBufferTests {
    typealias Binary = @convention(c) (Int64, Int64) -> Int64
    typealias Unary = @convention(c) (Int64) -> Int64

    /// Both strategies work on this kind of host (Linux with memfd_create, no MDWE).
    static let strategies = CodeBufferStrategy.allCases

    /// Assembles `body` into a finished function and appends it to `buffer`.
    private func append(_ buffer: CodeBuffer, _ body: (inout X86Assembler) throws -> Void) throws -> CodeAddress {
        var assembler = X86Assembler()
        try body(&assembler)
        return try buffer.append(assembler.finish())
    }

    @Test(arguments: strategies)
    func addsItsTwoArguments(strategy: CodeBufferStrategy) throws {
        let buffer = try CodeBuffer(capacity: 4096, strategies: [strategy])
        #expect(buffer.strategy == strategy)
        let add = try append(buffer) { a in
            a.mov(.qword, .rax, .rdi)
            a.arithmetic(.add, .qword, .rax, .rsi)
            a.ret()
        }
        let function = buffer.function(at: add, as: Binary.self)
        #expect(function(40, 2) == 42)
        #expect(function(-5, 3) == -2)
        #expect(function(.max, 1) == .min)
    }

    /// Sums 1...n with a short backward jump to a bound label.
    @Test(arguments: strategies)
    func runsALoopWithABackwardJump(strategy: CodeBufferStrategy) throws {
        let buffer = try CodeBuffer(capacity: 4096, strategies: [strategy])
        let sum = try append(buffer) { a in
            let loop = a.newLabel(), done = a.newLabel()
            a.arithmetic(.xor, .dword, .rax, .rax)
            a.test(.qword, .rdi, .rdi)
            try a.jcc(.e, short: done)
            try a.bind(loop)
            a.arithmetic(.add, .qword, .rax, .rdi)
            a.arithmetic(.sub, .qword, .rdi, imm: 1)
            try a.jcc(.ne, short: loop)
            try a.bind(done)
            a.ret()
        }
        let function = buffer.function(at: sum, as: Unary.self)
        #expect(function(0) == 0)
        #expect(function(100) == 5050)
        #expect(function(1_000_000) == 500_000_500_000)
    }

    /// A jump in one appended block, patched to go to another block and back: how blocks will
    /// be chained.
    @Test(arguments: strategies)
    func aPatchedJumpTakesEffect(strategy: CodeBufferStrategy) throws {
        let buffer = try CodeBuffer(capacity: 4096, strategies: [strategy])
        let one = try append(buffer) { a in a.mov(.dword, .rax, imm: 1); a.ret() }
        let two = try append(buffer) { a in a.mov(.dword, .rax, imm: 2); a.ret() }
        var field = 0
        let entry = try append(buffer) { a in
            a.mov(.qword, .rcx, .rdi)
            a.jmp(relative: 0)
            field = a.offset - 4
        }
        try buffer.patchRel32(at: entry.advanced(by: field), toJumpTo: one)
        let function = buffer.function(at: entry, as: Unary.self)
        #expect(function(0) == 1)
        try buffer.patchRel32(at: entry.advanced(by: field), toJumpTo: two)
        #expect(function(0) == 2)
        try buffer.patchRel32(at: entry.advanced(by: field), toJumpTo: one)
        #expect(function(0) == 1)
    }

    /// Generated code calls a Swift `@convention(c)` function through a register, keeping the
    /// stack 16-byte aligned at the call, and uses its result.
    @Test(arguments: strategies)
    func callsBackIntoSwift(strategy: CodeBufferStrategy) throws {
        let triplePlusOne: Unary = { $0 &* 3 &+ 1 }
        let target = Int64(Int(bitPattern: unsafeBitCast(triplePlusOne, to: UnsafeRawPointer.self)))
        let buffer = try CodeBuffer(capacity: 4096, strategies: [strategy])
        let entry = try append(buffer) { a in
            a.push(.rbx)  // aligns rsp to 16 and gives a callee-saved register
            a.lea(.qword, .rbx, X86Memory(base: .rdi, displacement: 1000))
            a.arithmetic(.add, .qword, .rdi, .rdi)
            a.mov(.qword, .rax, imm: target)
            a.call(.rax)
            a.arithmetic(.add, .qword, .rax, .rbx)
            a.pop(.rbx)
            a.ret()
        }
        let function = buffer.function(at: entry, as: Unary.self)
        #expect(function(5) == (10 * 3 + 1) + 1005)
        #expect(function(-7) == (-14 * 3 + 1) + 993)
    }

    /// Every form `mov r64, imm` picks leaves exactly the immediate in every register (rsp
    /// aside), also the callee-saved ones, which the function saves around the test.
    @Test func movImmediateLeavesTheValueInEveryRegister() throws {
        let buffer = try CodeBuffer(capacity: 1 << 16)
        let calleeSaved: Set<X86Register> = [.rbx, .rbp, .r12, .r13, .r14, .r15]
        for register in X86Register.allCases where register != .rsp {
            for immediate in TestOperands.wideImmediates {
                let entry = try append(buffer) { a in
                    if calleeSaved.contains(register) { a.push(register) }
                    a.mov(.qword, register, imm: immediate)
                    a.mov(.qword, .rax, register)
                    if calleeSaved.contains(register) { a.pop(register) }
                    a.ret()
                }
                #expect(buffer.function(at: entry, as: Unary.self)(0) == immediate, "mov \(register), \(immediate)")
            }
        }
    }

    /// The kernel's view of the buffer: the executable view is never writable, the writable view
    /// never executable, and no page of either is both.
    @Test(arguments: strategies)
    func noPageIsWritableAndExecutable(strategy: CodeBufferStrategy) throws {
        let buffer = try CodeBuffer(capacity: 3 * 4096, strategies: [strategy])
        try buffer.append([UInt8](repeating: 0xC3, count: 5000))  // code on the first two pages
        let executable = try ProcessMapping.overlapping(buffer.executableRange)
        let writable = try ProcessMapping.overlapping(buffer.writableRange)
        #expect(ProcessMapping.covered(executable) == UInt(buffer.capacity))
        #expect(!(executable + writable).contains { $0.isWritable && $0.isExecutable }, "\(executable + writable)")
        switch strategy {
        case .dualMapping:
            #expect(executable.allSatisfy { $0.permissions == "r-xs" }, "\(executable)")
            #expect(writable.allSatisfy { $0.permissions == "rw-s" }, "\(writable)")
            #expect(!buffer.executableRange.overlaps(buffer.writableRange))
        case .protectionFlip:
            let code = buffer.executableRange.lowerBound ..< buffer.executableRange.lowerBound + 2 * 4096
            #expect(try ProcessMapping.overlapping(code).allSatisfy { $0.permissions == "r-xp" })
        }
    }

    @Test func resetStartsOverAndNewCodeRuns() throws {
        let buffer = try CodeBuffer(capacity: 4096)
        let first = try append(buffer) { a in a.mov(.dword, .rax, imm: 1); a.ret() }
        #expect(buffer.function(at: first, as: Unary.self)(0) == 1)
        buffer.reset()
        #expect(buffer.count == 0)
        let second = try append(buffer) { a in a.mov(.dword, .rax, imm: 2); a.ret() }
        #expect(second == first)
        #expect(buffer.function(at: second, as: Unary.self)(0) == 2)
    }

    @Test func aFullBufferRefusesCodeAndKeepsWhatItHas() throws {
        let buffer = try CodeBuffer(capacity: 4096)
        try buffer.append([UInt8](repeating: 0x90, count: 4000))
        #expect(throws: CodeBufferError.full(capacity: 4096, used: 4000, requested: 100)) {
            try buffer.append([UInt8](repeating: 0x90, count: 100), alignment: 1)
        }
        #expect(buffer.count == 4000)
        let padded = try buffer.append([0xC3], alignment: 16)
        #expect(padded.offset == 4000)  // 4000 is a multiple of 16
    }

    @Test func appendAlignsWithTraps() throws {
        let buffer = try CodeBuffer(capacity: 4096, strategies: [.dualMapping])
        try buffer.append([0xC3])
        #expect(try buffer.append([], alignment: 1).offset == 1)  // nothing to copy is fine too
        let second = try buffer.append([0xC3], alignment: 64)
        #expect(second.offset == 64)
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: buffer.executableRange.lowerBound), count: 65)
        #expect(Array(bytes) == [0xC3] + [UInt8](repeating: 0xCC, count: 63) + [0xC3])
    }

    /// No strategy left: the error the caller turns into running the interpreter.
    @Test func noUsableStrategyIsATypedErrorThatNamesTheFallback() throws {
        #expect(throws: CodeBufferError.executableMemoryUnavailable(reasons: [])) {
            _ = try CodeBuffer(capacity: 4096, strategies: [])
        }
        let error = CodeBufferError.executableMemoryUnavailable(reasons: ["mmap of the memfd read+execute: Operation not permitted"])
        #expect(error.description.hasSuffix("using the interpreter"))
        #expect(!error.description.contains("\n"))
    }
}
