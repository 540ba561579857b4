import ELF
import Foundation
import JIT
import Machine
import Testing

/// The translator's statistics (`lockstep run --stats`): counts that are the same for the same
/// run, host time only when a clock was given.
@Suite struct JITStatisticsTests {
    static func run(_ program: String, clock: (() -> UInt64)?) throws -> JITStatistics {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 64 << 20))
        try machine.load(elf: ELFFile(contentsOf: root.appendingPathComponent("guests/out/\(program).elf").path))
        machine.hart.accelerator = try JITAccelerator(translationThreshold: 0)
        if let clock { machine.timeTranslations(with: clock) }
        #expect(machine.run(instructionLimit: 200_000_000) == .exited(code: 0))
        return try #require(machine.jitStatistics)
    }

    @Test func countsAreThoseOfTheRunAndTimeNeedsAClock() throws {
        let plain = try Self.run("bench-short", clock: nil)
        #expect(plain.translationNanoseconds == nil)
        #expect(plain.blocksTranslated > 50)
        #expect(plain.guestBytesTranslated >= 2 * plain.blocksTranslated)
        #expect(plain.codeBytesEmitted > plain.guestBytesTranslated)
        #expect(plain.codeBytesInUse > 0 && plain.codeBytesInUse <= plain.codeBufferCapacity)
        #expect(plain.chainsPatched > 0)
        #expect(plain.coldStretches == 0, "with a threshold of 0 nothing is left cold")
        var ticks: UInt64 = 0
        let timed = try Self.run("bench-short", clock: { ticks += 1_000; return ticks })
        #expect(timed.translationNanoseconds.map { $0 >= 1_000 * UInt64(timed.blocksTranslated) } == true)
        var same = timed
        same.translationNanoseconds = nil
        #expect(same == plain, "the same run translated differently")
        let interpreted = try Machine(configuration: MachineConfiguration(memorySize: 1 << 20))
        interpreted.use(.interpreter)
        #expect(interpreted.jitStatistics == nil)
    }
}
