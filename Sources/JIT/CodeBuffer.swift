/// A region of executable memory that translated code is appended to, called, patched and
/// thrown away, and in which no page is ever writable and executable at once.
///
/// Code is written through a writable view and runs from an executable view (see
/// `CodeBufferStrategy`); `CodeAddress`es are offsets valid in both. On x86-64 the processor
/// keeps instruction fetch coherent with stores to the same physical memory, and the call or jump
/// into freshly written code is enough for the thread that wrote it to see it. Another thread
/// that runs code patched while it might be executing it needs a serializing instruction first
/// (`cpuid`, or the system call of `membarrier`), as the Intel manual's cross-modifying code
/// rules say.
///
/// Not `Sendable`: one thread writes and runs the code of a buffer (with `.protectionFlip` a page
/// is briefly not executable while code is added to it).
public final class CodeBuffer {
    /// The strategy this buffer was created with.
    public var strategy: CodeBufferStrategy { mapping.strategy }
    /// The size of the region in bytes (the requested capacity rounded up to whole pages).
    public var capacity: Int { mapping.length }
    /// The bytes used so far: the next `append` goes at or after this offset.
    public private(set) var count = 0

    private let mapping: CodeMapping

    /// Reserves `capacity` bytes (rounded up to pages) of executable memory with the first of
    /// `strategies` this host allows. Throws `CodeBufferError.executableMemoryUnavailable` if
    /// none works: the caller then runs the interpreter.
    public init(capacity: Int, strategies: [CodeBufferStrategy] = CodeBufferStrategy.allCases) throws(CodeBufferError) {
        mapping = try CodeMapping.make(capacity: capacity, strategies: strategies)
    }

    deinit {
        mapping.release()
    }

    /// Copies `code` into the buffer, at the next multiple of `alignment` (a power of two; the gap
    /// is filled with `int3`), and returns where it starts. The code is executable on return.
    /// Throws `.full` when the region has no room left (nothing is written then).
    @discardableResult
    public func append(_ code: [UInt8], alignment: Int = 16) throws(CodeBufferError) -> CodeAddress {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment \(alignment) is not a power of two")
        let start = (count + alignment - 1) & -alignment
        guard start + code.count <= capacity else {
            throw .full(capacity: capacity, used: count, requested: start - count + code.count)
        }
        let padding = start - count
        try mapping.write(count ..< start + code.count) { destination in
            // Sound: count ..< start + code.count lies inside the writable view (checked above),
            // and `destination` is its first byte.
            destination.initializeMemory(as: UInt8.self, repeating: 0xCC, count: padding)
            code.withUnsafeBytes { source in
                guard let start = source.baseAddress else { return }  // no bytes to copy
                (destination + padding).copyMemory(from: start, byteCount: source.count)
            }
        }
        count = start + code.count
        return CodeAddress(offset: start)
    }

    /// The host address at which `address` executes: for call and jump targets in other code
    /// and for the host-pc maps.
    public func hostAddress(of address: CodeAddress) -> UInt {
        precondition(address.offset >= 0 && address.offset <= capacity, "\(address) is outside the code buffer")
        return UInt(bitPattern: mapping.executable + address.offset)
    }

    /// The host address range of the executable view.
    public var executableRange: Range<UInt> {
        hostAddress(of: CodeAddress(offset: 0)) ..< hostAddress(of: CodeAddress(offset: capacity))
    }

    /// The host address range of the writable view (the same as `executableRange` with
    /// `.protectionFlip`, whose pages switch between the two).
    public var writableRange: Range<UInt> {
        let start = UInt(bitPattern: mapping.writable)
        return start ..< start + UInt(capacity)
    }

    /// The code at `address` as a function of type `Function`, which must be a
    /// `@convention(c)` function type that matches what the code does with its arguments, its
    /// result and the stack (System V: arguments in rdi, rsi, rdx, rcx, r8, r9, result in rax,
    /// rbx/rbp/r12-r15 preserved, rsp 16-byte aligned at calls). That contract is what makes
    /// calling it sound; the buffer can only check that the address holds emitted code.
    public func function<Function>(at address: CodeAddress, as type: Function.Type = Function.self) -> Function {
        precondition(address.offset >= 0 && address.offset < count, "\(address) is not inside the code emitted so far (\(count) bytes)")
        precondition(MemoryLayout<Function>.size == MemoryLayout<UnsafeRawPointer>.size,
                     "\(Function.self) is not a @convention(c) function type")
        // Sound under the contract above: a @convention(c) function value is the bare address of
        // its code, the same size as the pointer (checked), and the address is executable.
        return unsafeBitCast(mapping.executable + address.offset, to: Function.self)
    }

    /// Rewrites the rel32 field at `field` (the last 4 bytes of a `jmp`/`jcc`/`call` already
    /// emitted) so that the instruction goes to `target`: how blocks are chained. Written
    /// through the writable view as one 4-byte store, so a thread executing the jump sees either
    /// the old or the new target if the field does not cross a cache line (the translator keeps
    /// such fields aligned).
    public func patchRel32(at field: CodeAddress, toJumpTo target: CodeAddress) throws(CodeBufferError) {
        precondition(field.offset >= 0 && field.offset + 4 <= count, "the rel32 field at \(field) is not inside the emitted code")
        precondition(target.offset >= 0 && target.offset <= capacity, "\(target) is outside the code buffer")
        // Both offsets are below the capacity, which is far below 2 GiB: the distance fits.
        let displacement = Int32(target.offset - (field.offset + 4))
        try mapping.write(field.offset ..< field.offset + 4) { destination in
            // Sound: the 4 bytes lie inside the emitted code (checked above); storeBytes allows
            // an unaligned address.
            destination.storeBytes(of: displacement.littleEndian, as: Int32.self)
        }
    }

    /// Forgets all code: the next `append` starts at offset 0. Every `CodeAddress` and function
    /// obtained before is invalid, and no code from the buffer may be running.
    public func reset() {
        count = 0
    }
}
