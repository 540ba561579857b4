import Foundation
import Machine
import Testing

/// Every bare-metal guest gives the same console output and exit code on Lockstep as on QEMU.
@Suite struct GuestProgramTests {
    @Test(arguments: ["hello", "exit-code", "isa-checksum", "timer", "bench-short", "vm"])
    func sameOutputAndExitCodeAsQEMU(name: String) throws {
        let path = try Repository.guest(name)
        let reference = try runOnQEMU(path)
        let lockstep = try runOnLockstep(path)
        #expect(lockstep.stop == .exited(code: reference.exitCode), "\(name): exit differs from QEMU")
        // bench prints instret and timer ticks, which differ by design (QEMU's counters follow the
        // host clock); compare everything else.
        let scrub = { (text: String) in
            text.replacingOccurrences(of: #"ticks=\d+ instret=\d+ iterations/s=\d+"#, with: "", options: .regularExpression)
        }
        #expect(scrub(lockstep.text) == scrub(String(decoding: reference.output, as: UTF8.self)), "\(name): output differs from QEMU")
        #expect(!lockstep.output.isEmpty)
    }

    @Test func htifPrintsAndExits() throws {
        // QEMU's virt machine has no HTIF; the convention is that of the RISC-V test programs.
        let result = try runOnLockstep(try Repository.guest("htif-hello"))
        #expect(result.text == "Hello via HTIF\n")
        #expect(result.stop == .exited(code: 0))
    }

    @Test func runsAreDeterministic() throws {
        let path = try Repository.guest("timer")
        let first = try runOnLockstep(path)
        let second = try runOnLockstep(path)
        #expect(first == second)
        #expect(first.stop == .exited(code: 0))
    }

    @Test func instructionLimitStopsExactly() throws {
        let path = try Repository.guest("loop-alu")
        for limit: UInt64 in [1, 2, 7, 1000, 123_457] {
            let result = try runOnLockstep(path, limit: limit)
            #expect(result.stop == .instructionLimit)
            #expect(result.instructions == limit)
        }
    }
}
