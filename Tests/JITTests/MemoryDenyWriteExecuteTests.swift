import Foundation
import JIT
import Testing

/// Under Linux's memory-deny-write-execute policy (`prctl(PR_SET_MDWE)`, which also backs
/// systemd's `MemoryDenyWriteExecute=`), a mapping can never gain execute permission: the
/// protection-flip strategy is refused with a typed error, and the dual mapping still works. The
/// policy cannot be lifted from a process, so the check runs in a child: this test binary again,
/// filtered to `childUnderMDWE`.
@Suite(.enabled(if: HostArchitecture.isX86_64, HostArchitecture.notX86Message))
struct MemoryDenyWriteExecuteTests {
    static let childVariable = "LOCKSTEP_JIT_MDWE_CHILD"
    static let isChild = ProcessInfo.processInfo.environment[childVariable] == "1"

    @Test(.enabled(if: !isChild && MDWE.isSupported, "the kernel has no PR_SET_MDWE (Linux 6.3 and later)"))
    func dualMappingWorksWhereMappingsCannotBecomeExecutable() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["--testing-library", "swift-testing", "--filter", "childUnderMDWE"]
        process.environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: "1"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "the child failed:\n\(text.suffix(3000))")
        #expect(text.contains("childUnderMDWE() passed"), "the child did not run its test:\n\(text.suffix(3000))")
    }

    /// Runs only in the child: sets the policy on the whole process, then creates buffers.
    @Test(.enabled(if: isChild, "runs in the child process of dualMappingWorksWhereMappingsCannotBecomeExecutable"))
    func childUnderMDWE() throws {
        try MDWE.refuseExecutableGain()
        #expect {
            _ = try CodeBuffer(capacity: 4096, strategies: [.protectionFlip])
        } throws: { error in
            guard case CodeBufferError.executableMemoryUnavailable(let reasons) = error else { return false }
            return reasons.count == 1 && reasons[0].hasPrefix("mprotect to read+execute")
        }
        let buffer = try CodeBuffer(capacity: 4096)
        #expect(buffer.strategy == .dualMapping)
        var assembler = X86Assembler()
        assembler.lea(.qword, .rax, X86Memory(base: .rdi, index: .rsi, scale: .two))
        assembler.ret()
        let entry = try buffer.append(assembler.finish())
        #expect(buffer.function(at: entry, as: (@convention(c) (Int64, Int64) -> Int64).self)(1, 20) == 41)
    }
}

/// `prctl(PR_SET_MDWE)` and `PR_GET_MDWE`, called through `dlsym` because `prctl` is variadic
/// (Swift cannot call it): passing its five integer arguments as fixed ones is what the System V
/// x86-64 ABI does for a variadic call too, except for `al`, which only tells it how many vector
/// registers carry arguments and which prctl's integer-only arguments do not read.
enum MDWE {
    private typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    private static let setMDWE: Int32 = 65, getMDWE: Int32 = 66, refuseExecGain: UInt = 1

    private static let prctl: Prctl? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl").map {
        unsafeBitCast($0, to: Prctl.self)
    }

    /// Whether the kernel knows the policy (reading it changes nothing).
    static let isSupported = (prctl?(getMDWE, 0, 0, 0, 0) ?? -1) >= 0

    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// Sets the policy on this process for good.
    static func refuseExecutableGain() throws {
        guard let prctl, prctl(setMDWE, refuseExecGain, 0, 0, 0) == 0 else {
            throw Refused(description: "prctl(PR_SET_MDWE) failed: \(String(cString: strerror(errno)))")
        }
    }
}
