#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory behind a `CodeBuffer`: one region seen through a writable view and an executable
/// view, created by one of two strategies so that no page is ever writable and executable at
/// once. All the system calls of the buffer are here.
struct CodeMapping {
    let strategy: CodeBufferStrategy
    /// The length of both views, a multiple of the page size.
    let length: Int
    let pageSize: Int
    /// Where code is written (read-write).
    let writable: UnsafeMutableRawPointer
    /// Where code runs (read-execute). The same address as `writable` for `.protectionFlip`.
    let executable: UnsafeMutableRawPointer
    /// The memfd of `.dualMapping`, -1 otherwise.
    let fileDescriptor: Int32

    /// Maps `capacity` bytes (rounded up to pages) with the first strategy of `strategies` that
    /// this host allows.
    static func make(capacity: Int, strategies: [CodeBufferStrategy]) throws(CodeBufferError) -> CodeMapping {
        precondition(capacity > 0 && capacity <= 1 << 30, "a code buffer holds 1 byte to 1 GiB (rel32 jumps must reach across it), not \(capacity)")
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        let length = (capacity + pageSize - 1) / pageSize * pageSize
        var reasons: [String] = []
        for strategy in strategies {
            let result = switch strategy {
            case .dualMapping: dualMapping(length: length, pageSize: pageSize)
            case .protectionFlip: protectionFlip(length: length, pageSize: pageSize)
            }
            switch result {
            case .success(let mapping): return mapping
            case .failure(let reason): reasons.append(reason.text)
            }
        }
        throw .executableMemoryUnavailable(reasons: reasons)
    }

    /// Unmaps both views and closes the memfd. Nothing may use the mapping afterwards.
    func release() {
        munmap(writable, length)
        if executable != writable { munmap(executable, length) }
        if fileDescriptor >= 0 { close(fileDescriptor) }
    }

    /// Runs `write` with the writable view's address of `range.lowerBound`; the bytes of `range`
    /// are executable afterwards. Sound for the dual mapping because the writable view is never
    /// executable; for `.protectionFlip`, the pages around `range` are read-write (and not
    /// executable) during the write, so no thread may run code from them meanwhile, which
    /// `CodeBuffer` ensures by not being `Sendable`.
    func write(_ range: Range<Int>, _ write: (UnsafeMutableRawPointer) -> Void) throws(CodeBufferError) {
        guard strategy == .protectionFlip else {
            write(writable + range.lowerBound)
            return
        }
        let first = range.lowerBound / pageSize * pageSize
        let end = min(length, (range.upperBound + pageSize - 1) / pageSize * pageSize)
        // Sound: first..<end lies inside the mapping (range is inside it, end is clamped).
        let pages = writable + first
        if mprotect(pages, end - first, PROT_READ | PROT_WRITE) != 0 {
            throw .protectionChangeFailed(operation: "mprotect(read+write)", error: Self.lastError())
        }
        write(writable + range.lowerBound)
        if mprotect(pages, end - first, PROT_READ | PROT_EXEC) != 0 {
            throw .protectionChangeFailed(operation: "mprotect(read+execute)", error: Self.lastError())
        }
    }

    // MARK: - Strategies

    /// Why one strategy failed, for `CodeBufferError.executableMemoryUnavailable`.
    struct Failure: Error {
        let text: String
    }

    private static func dualMapping(length: Int, pageSize: Int) -> Result<CodeMapping, Failure> {
        #if !os(Linux)
        return .failure(Failure(text: "memfd_create is Linux's"))
        #else
        // glibc declares memfd_create only under _GNU_SOURCE, which Swift's Glibc module does not
        // define, so it is looked up by name. Sound: the symbol, when present, is glibc's
        // `int memfd_create(const char *name, unsigned int flags)`, the type it is cast to.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create") else {
            return .failure(Failure(text: "memfd_create is not available"))
        }
        typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
        let memfdCreate = unsafeBitCast(symbol, to: MemfdCreate.self)
        let closeOnExec: UInt32 = 0x1, allowExec: UInt32 = 0x10  // MFD_CLOEXEC, MFD_EXEC (Linux 6.3)
        var fd = memfdCreate("lockstep-jit", closeOnExec | allowExec)
        if fd < 0 && errno == EINVAL {
            fd = memfdCreate("lockstep-jit", closeOnExec)  // a kernel older than MFD_EXEC
        }
        guard fd >= 0 else { return .failure(Failure(text: "memfd_create: \(lastError())")) }
        guard ftruncate(fd, off_t(length)) == 0 else {
            let failure = Failure(text: "ftruncate of the memfd: \(lastError())")
            close(fd)
            return .failure(failure)
        }
        let writable = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let writable, writable != MAP_FAILED else {
            let failure = Failure(text: "mmap of the memfd read+write: \(lastError())")
            close(fd)
            return .failure(failure)
        }
        let executable = mmap(nil, length, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0)
        guard let executable, executable != MAP_FAILED else {
            let failure = Failure(text: "mmap of the memfd read+execute: \(lastError())")
            munmap(writable, length)
            close(fd)
            return .failure(failure)
        }
        return .success(CodeMapping(strategy: .dualMapping, length: length, pageSize: pageSize, writable: writable,
                                    executable: executable, fileDescriptor: fd))
        #endif
    }

    private static func protectionFlip(length: Int, pageSize: Int) -> Result<CodeMapping, Failure> {
        let region = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let region, region != MAP_FAILED else {
            return .failure(Failure(text: "mmap read+write: \(lastError())"))
        }
        // Try the switch to read+execute now, so that a host that refuses it is found when the
        // buffer is created, not when the first block is.
        guard mprotect(region, pageSize, PROT_READ | PROT_EXEC) == 0,
              mprotect(region, pageSize, PROT_READ | PROT_WRITE) == 0 else {
            let failure = Failure(text: "mprotect to read+execute: \(lastError())")
            munmap(region, length)
            return .failure(failure)
        }
        return .success(CodeMapping(strategy: .protectionFlip, length: length, pageSize: pageSize, writable: region,
                                    executable: region, fileDescriptor: -1))
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
