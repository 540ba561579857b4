import Foundation
import HostIO
@testable import Machine
import RISCV
import Testing

/// `Machine.reboot()`: after a guest's reset request the machine is in the state a freshly booted
/// machine is in (RAM, every device, the hart), except for what goes on by design: the
/// instruction count, guest time, the entropy stream. Snapshots carry the boot image, so a
/// machine restored from one (a backup) reboots the same way.
@Suite(.serialized) struct RebootTests {
    /// The hart state with what a reboot keeps going (count and time) taken out.
    static func comparableHart(_ machine: Machine) -> HartArchitecturalState {
        var state = machine.hart.exportState()
        state.instructionCount = 0
        state.timeOffset = 0
        return state
    }

    /// The names of the parts of the two machines' state digests that differ, and whether RAM does.
    static func differences(_ a: Machine, _ b: Machine) -> (parts: [String], ram: Bool) {
        let (x, y) = (a.stateDigest(), b.stateDigest())
        let parts = zip(x.parts, y.parts).filter { $0.hash != $1.hash }.map(\.0.name)
        return (parts, x.regions != y.regions)
    }

    static func kvMachine() throws -> Machine {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 2 << 20, entropySeed: 7))
        try machine.load(elfAt: try Repository.guest("kv"))
        return machine
    }

    /// What the guest printed.
    final class Console {
        var bytes: [UInt8] = []
        var text: String { String(decoding: bytes, as: UTF8.self) }

        init(_ machine: Machine) { machine.routeConsole { [unowned self] in bytes.append($0) } }
    }

    /// Runs until the console shows `text`, the machine stops, or the limit.
    @discardableResult
    static func run(_ machine: Machine, until text: String, console: Console, limit: UInt64) -> Machine.StopReason {
        var reason = Machine.StopReason.instructionLimit
        while machine.instructionCount < limit && !console.text.contains(text) {
            reason = machine.run(instructionLimit: min(limit, machine.instructionCount + 1_000_000))
            if reason != .instructionLimit { break }
        }
        return reason
    }

    @Test func aBareMetalGuestRebootsIntoItsBootState() throws {
        let machine = try Self.kvMachine()
        let console = Console(machine)
        Self.run(machine, until: "kv ready", console: console, limit: 10_000_000)
        machine.apply(.consoleBytes(Array("S a 1\nR\n".utf8)))
        #expect(Self.run(machine, until: "never", console: console, limit: 20_000_000) == .resetRequested)
        #expect(console.text.contains("OK a 1"))

        // Stopped at the request: nothing runs until the reboot.
        let count = machine.instructionCount, time = machine.hart.time
        #expect(machine.isResetRequested)
        #expect(machine.run() == .resetRequested)
        #expect(machine.instructionCount == count)

        machine.reboot()
        #expect(!machine.isResetRequested)
        #expect(machine.instructionCount == count)
        #expect(machine.hart.time == time, "guest time goes on across a reboot")
        let fresh = try Self.kvMachine()
        let (parts, ram) = Self.differences(machine, fresh)
        #expect(parts == ["CSRs"], "only the count and time differ from a fresh machine")
        #expect(!ram)
        #expect(Self.comparableHart(machine) == Self.comparableHart(fresh))
        #expect(machine.bootImage == fresh.bootImage)

        // The guest starts again: a new ready line, later in guest time, and an empty table.
        console.bytes = []
        Self.run(machine, until: "kv ready", console: console, limit: count + 10_000_000)
        machine.apply(.consoleBytes(Array("G a\n".utf8)))
        Self.run(machine, until: "N a", console: console, limit: count + 20_000_000)
        let text = console.text
        #expect(text.contains("N a"), "\(text)")
        let stamp = text.split(separator: "\n").first { $0.hasPrefix("kv ready ") }.flatMap { UInt64($0.dropFirst(9)) }
        #expect((stamp ?? 0) >= time)
    }

    @Test func theBootImageTravelsInSnapshotsAndARestoredMachineReboots() throws {
        let machine = try Self.kvMachine()
        let console = Console(machine)
        Self.run(machine, until: "kv ready", console: console, limit: 10_000_000)
        machine.apply(.consoleBytes(Array("S b 2\nR\n".utf8)))
        #expect(Self.run(machine, until: "never", console: console, limit: 20_000_000) == .resetRequested)

        // Taken at the reset request: the copy (which never loaded the program) is stopped there too.
        let snapshot = try machine.saveSnapshot()
        let copy = try Machine(configuration: machine.configuration)
        #expect(copy.bootImage.regions.isEmpty)
        try copy.restoreSnapshot(snapshot)
        #expect(copy.bootImage == machine.bootImage)
        #expect(copy.isResetRequested)
        #expect(copy.stateHash() == machine.stateHash())
        #expect(copy.run() == .resetRequested)

        machine.reboot()
        copy.reboot()
        #expect(copy.stateHash() == machine.stateHash())
        _ = machine.run(instructionLimit: machine.instructionCount + 100_000)
        _ = copy.run(instructionLimit: copy.instructionCount + 100_000)
        #expect(copy.stateHash() == machine.stateHash())

        // An incremental snapshot (no BOOT section) applies only over the same boot image.
        let base = try machine.saveSnapshot()
        machine.startDirtyTracking()
        _ = machine.run(instructionLimit: machine.instructionCount + 100_000)
        let step = try machine.saveIncrementalSnapshot()
        let other = try Machine(configuration: machine.configuration)
        try other.restoreSnapshot(base)
        try other.restoreSnapshot(step)
        #expect(other.stateHash() == machine.stateHash())
        #expect(other.bootImage == machine.bootImage)
    }

    @Test func theBootImageIsPartOfTheStateHash() throws {
        let a = try Self.kvMachine()
        let b = try Self.kvMachine()
        #expect(b.stateHash() == a.stateHash())
        // Same RAM and hart, another boot image: the hashes differ (a backup with another image
        // is found at the first checkpoint, not only after a reboot).
        b.bootImage = BootImage(regions: [], hart: b.bootImage.hart, servesSBI: false)
        #expect(b.stateHash() != a.stateHash())
        #expect(b.stateDigest().parts.first { $0.name.hasPrefix("machine") } != a.stateDigest().parts.first { $0.name.hasPrefix("machine") })
    }

    /// The virtio guest stopped half-way, its disk's queues in use: the transports go back to
    /// power-on (a kernel resets its devices before it reboots; a reboot must not rely on that).
    @Test func virtioTransportsInUseAreReset() throws {
        func make() throws -> Machine {
            let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20, entropySeed: 1),
                                      disk: MemoryBlockStorage(contents: VirtioGuestTests.diskImage))
            try machine.load(elfAt: try Repository.guest("virtio"))
            return machine
        }
        let machine = try make()
        #expect(machine.run(instructionLimit: 20_000) == .instructionLimit)
        #expect(Self.differences(machine, try make()).parts.contains("virtio slot 7 (block)"), "the guest set up its disk")
        machine.reboot()
        let parts = Self.differences(machine, try make()).parts.filter { $0 != "virtio slot 6 (entropy)" }
        #expect(parts == ["CSRs"])
        #expect(!Self.differences(machine, try make()).ram)
    }

    @Test func aMachineThatBootedNothingRebootsToPowerOn() throws {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 1 << 20))
        let fresh = try Machine(configuration: MachineConfiguration(memorySize: 1 << 20))
        // A program written by hand is not a boot image: a reboot clears it.
        machine.memory.write([0x6F, 0, 0, 0], at: MachineConfiguration.ramBase)   // j .
        _ = machine.run(instructionLimit: 1_000)
        machine.reboot()
        #expect(machine.instructionCount == 1_000)
        #expect(Self.differences(machine, fresh).parts == ["CSRs"])
        #expect(!Self.differences(machine, fresh).ram)
        #expect(Self.comparableHart(machine) == Self.comparableHart(fresh))
    }

    /// The default Linux guest, rebooted from its shell with `reboot -f`: every device Linux set
    /// up (virtio queues, PLIC enables, UART, timer) is back at power-on, RAM equals a fresh boot's,
    /// and the kernel boots to its shell again.
    @Test func linuxRebootedFromItsShellEqualsAFreshBoot() throws {
        let machine = try SnapshotLinuxTests.bootedMachine()
        let console = Console(machine)
        Self.run(machine, until: "~ # ", console: console, limit: 400_000_000)
        #expect(console.text.contains("~ # "))
        machine.apply(.consoleBytes(Array("echo before > /tmp/x; reboot -f\n".utf8)))
        #expect(Self.run(machine, until: "never", console: console, limit: machine.instructionCount + 200_000_000) == .resetRequested)
        let count = machine.instructionCount, time = machine.hart.time
        machine.reboot()
        #expect(machine.hart.time == time)
        let fresh = try SnapshotLinuxTests.bootedMachine()
        let (parts, ram) = Self.differences(machine, fresh)
        // The entropy device's stream goes on (a reboot does not replay the first boot's randomness).
        #expect(parts == ["CSRs", "virtio slot 6 (entropy)"])
        #expect(!ram)
        #expect(Self.comparableHart(machine) == Self.comparableHart(fresh))

        console.bytes = []
        Self.run(machine, until: "~ # ", console: console, limit: count + 400_000_000)
        machine.apply(.consoleBytes(Array("cat /tmp/x || echo gone-$((1+1))\n".utf8)))
        Self.run(machine, until: "gone-2", console: console, limit: machine.instructionCount + 100_000_000)
        #expect(console.text.contains("gone-2"))
    }
}
