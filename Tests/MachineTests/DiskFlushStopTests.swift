import Foundation
@testable import Machine
import RISCV
import Testing

/// A replicated primary with `--disk-sync both` stops its machine right after each guest flush
/// (``Machine/stopsAtDiskFlush``) and checkpoints or snapshots there; its backup replays the same
/// run without stopping and runs to that count as a limit. The two must be in one state at every
/// such count: a Linux guest syncing writes to its disk, stopped at each flush, against a machine
/// run to the same counts.
@Suite(.serialized) struct DiskFlushStopTests {
    static let inputAt: UInt64 = 150_000_000
    static let end: UInt64 = 260_000_000
    /// Four rounds of a write and a flush of the whole device (busybox `dd conv=fsync` ends with
    /// `fsync` on /dev/vda, which the block layer turns into VIRTIO_BLK_T_FLUSH).
    static let input = "for i in 1 2 3 4; do dd if=/dev/urandom of=/dev/vda bs=4096 count=8 seek=$i conv=fsync; done; echo flushes-done\n"

    static func machine() throws -> Machine {
        let (kernel, initrd) = try SnapshotLinuxTests.images()
        let machine = try Machine(configuration: MachineConfiguration(entropySeed: 7),
                                  disk: MemoryBlockStorage(contents: [UInt8](repeating: 0, count: 1 << 20)))
        try machine.bootLinux(kernel: kernel, initrd: initrd, commandLine: "console=ttyS0")
        return machine
    }

    @Test func stoppingAtAFlushLeavesTheStateOfARunToThatCount() throws {
        let stopping = try Self.machine()
        stopping.stopsAtDiskFlush = true
        var output: [UInt8] = []
        stopping.routeConsole { output.append($0) }
        let following = try Self.machine()
        following.routeConsole { _ in }

        var flushes = 0
        var limit = Self.inputAt
        var typed = false
        while stopping.instructionCount < Self.end {
            let reason = stopping.run(instructionLimit: limit)
            let count = stopping.instructionCount
            #expect(following.run(instructionLimit: count) == .instructionLimit)
            #expect(following.instructionCount == count)
            switch reason {
            case .diskFlushed:
                flushes += 1
                #expect(stopping.stateHash() == following.stateHash(), "the states differ at the flush stop at \(count)")
                #expect(stopping.stateDigest().differences(from: following.stateDigest()) == nil)
            case .instructionLimit where !typed:
                let bytes = Array(Self.input.utf8)
                stopping.apply(.consoleBytes(bytes))
                following.apply(.consoleBytes(bytes))
                typed = true
                limit = Self.end
            case .instructionLimit:
                break
            default:
                Issue.record("unexpected stop \(reason) at \(count)")
                return
            }
        }
        #expect(stopping.stateHash() == following.stateHash())
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("flushes-done"), "the guest did not finish its writes: \(text.suffix(300))")
        #expect(flushes >= 4, "the guest flushed \(flushes) times")
    }
}
