// libFuzzer harness for the snapshot reader (Sources/Machine: SnapshotFormat's container parser,
// SnapshotInfo, Machine.restoreSnapshot with every section's reader).
//
// Built by run.sh against the RISCV, ELF and Machine modules (fuzz/common.sh; Machine with
// -enable-testing for the internal parser). Every input must either be read or throw a
// SnapshotError, never trap. Beyond that:
//   - a snapshot that is refused leaves the machine exactly as it was (same state hash);
//   - one that is restored puts the hart at the instruction count SnapshotInfo reads, saves again
//     into a snapshot that restores to the same state hash.
// (It does not run the restored machine: a state whose trap vector faults traps forever without
// retiring an instruction, as real hardware would, so run(instructionLimit:) would not return.)
// Each input is tried twice: as it is, and with the header's and every section's CRC-32
// recomputed, so that the fuzzer reaches the section readers behind the checksums.
@testable import Machine
import RISCV

@_cdecl("LLVMFuzzerTestOneInput")
public func lockstepFuzzSnapshot(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzInput(data, size)
    check(bytes)
    if let fixed = withFixedChecksums(bytes), fixed != bytes { check(fixed) }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func lockstepFuzzSnapshotInitialize(_ argc: UnsafeMutablePointer<Int32>?,
                                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    writeSeedsIfAsked(seeds)
    return 0
}

/// The machines snapshots are restored onto: 1 MiB of RAM, without a disk, with one, with two.
private let configuration = MachineConfiguration(memorySize: 1 << 20, instructionsPerTick: 50, entropySeed: 1)

/// A tiny guest that counts in a0 and writes it to the UART, forever.
private let program: [UInt8] = [0x1000_02B7, 0x0015_0513, 0x00A2_8023, 0xFF9F_F06F].flatMap { (word: UInt32) in
    (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * UInt32($0))) }
}

private func freshMachine(disks: Int) -> Machine {
    let machine = try! Machine(configuration: configuration, disks: (0..<disks).map { MemoryBlockStorage(sectorCount: 16 << $0) })
    machine.memory.write(program, at: MachineConfiguration.ramBase)
    return machine
}

/// A machine and the snapshot of its starting state (restored after every input that changed it).
private final class Target {
    let machine: Machine
    let baseline: [UInt8]
    let baselineHash: UInt64
    var changed = false

    init(disks: Int) {
        machine = freshMachine(disks: disks)
        baseline = try! machine.saveSnapshot()
        baselineHash = machine.stateHash()
    }

    func reset() {
        guard changed else { return }
        do { try machine.restoreSnapshot(baseline) } catch { preconditionFailure("the baseline does not restore: \(error)") }
        precondition(machine.stateHash() == baselineHash, "the baseline restores to another state")
        changed = false
    }
}

nonisolated(unsafe) private let targets = [Target(disks: 0), Target(disks: 1), Target(disks: 2)]

private func check(_ bytes: [UInt8]) {
    let info: SnapshotInfo?
    do { info = try SnapshotInfo(bytes) } catch { precondition(!error.description.isEmpty); info = nil }
    var parsed = false
    do {
        let (kind, version, sections) = try SnapshotFormat.parse(bytes)
        precondition(SnapshotFormat.readableVersions.contains(version), "the parser took version \(version)")
        parsed = true
        // (SnapshotInfo also reads the CONF section, so it may refuse what the container parser takes.)
        if let info { precondition(info.kind == kind, "SnapshotInfo disagrees with the parser") }
        for section in SnapshotFormat.sections(kind) {
            guard let reader = sections[section] else { preconditionFailure("section \(section.name) missing") }
            precondition(reader.offset >= 0 && reader.end <= bytes.count && reader.offset <= reader.end, "section outside the file")
        }
    } catch {
        precondition(!error.description.isEmpty)
    }
    for target in targets {
        target.reset()
        let machine = target.machine
        do {
            try machine.restoreSnapshot(bytes)
        } catch {
            precondition(!error.description.isEmpty)
            // (The container parser only reads the bytes; past it, a refusal must undo everything.)
            if parsed {
                precondition(machine.stateHash() == target.baselineHash, "a refused snapshot changed the machine: \(error)")
            }
            if case .diskMismatch = error { continue }   // try the machine with (more) disks
            return
        }
        target.changed = true
        guard let info else { preconditionFailure("restored a snapshot that SnapshotInfo refuses") }
        precondition(machine.instructionCount == info.instructionCount, "restored to another instruction count")
        let restored = machine.stateHash()
        do {
            let again = try machine.saveSnapshot()
            try machine.restoreSnapshot(again)
        } catch {
            preconditionFailure("a restored machine's own snapshot does not restore: \(error)")
        }
        precondition(machine.stateHash() == restored, "save and restore changed the restored state")
        return
    }
}

/// `bytes` with the header's and every section's CRC-32 recomputed (as far as the lengths are
/// inside the input); nil if there is no header.
private func withFixedChecksums(_ bytes: [UInt8]) -> [UInt8]? {
    guard bytes.count >= 20 else { return nil }
    var b = bytes
    b.setLE32(CRC32.checksum(Array(b[0..<16])), at: 16)
    var offset = 20
    while offset <= b.count - 16, let length = b.le(offset + 4, 8), length <= UInt64(b.count - offset - 16) {
        let start = offset + 16, end = start + Int(length)
        b.setLE32(CRC32.checksum(Array(b[start..<end])), at: offset + 12)
        offset = end
    }
    return b
}

/// Full snapshots of both machines fresh and after running, and an incremental one.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    var result: [(name: String, bytes: [UInt8])] = []
    let plain = freshMachine(disks: 0)
    result.append((name: "full-fresh", bytes: try! plain.saveSnapshot()))
    plain.startDirtyTracking()
    _ = plain.run(instructionLimit: 200)
    result.append((name: "incremental-200", bytes: try! plain.saveIncrementalSnapshot()))
    result.append((name: "full-200", bytes: try! plain.saveSnapshot()))
    let disk = freshMachine(disks: 1)
    _ = disk.run(instructionLimit: 100)
    result.append((name: "full-disk-100", bytes: try! disk.saveSnapshot()))
    let disks = freshMachine(disks: 2)
    _ = disks.run(instructionLimit: 100)
    result.append((name: "full-two-disks-100", bytes: try! disks.saveSnapshot()))
    // Header only, and a file cut inside the RAM section.
    let full = result[0].bytes
    result.append((name: "header-only", bytes: Array(full[..<20])))
    result.append((name: "cut-in-ram", bytes: Array(full[..<(full.count - 100)])))
    return result
}
