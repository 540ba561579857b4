import HostIO
import Foundation
import Machine
import RISCV
import Testing

/// The `virtio` guest (guests/bare/virtio) drives a virtio-blk and a virtio-rng device through the
/// PLIC the way Linux's drivers do. On Lockstep, with the devices mapped where QEMU's `virt` puts
/// them, it prints exactly what it prints on QEMU with modern virtio-mmio.
@Suite struct VirtioGuestTests {
    /// Byte i of the disk is (i * 7 + 3) & 0xff, 64 sectors: what the guest expects.
    static let diskImage: [UInt8] = (0..<64 * 512).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    static let serial = "lockstep-disk"

    /// Runs `path` on a Lockstep machine with its disk holding ``diskImage``. The machine's slots
    /// are QEMU's for `-device` blk, rng, net in that order (QEMU fills the last slot first): the
    /// disk in slot 7, the entropy device in 6, the network device in 5.
    static func runOnLockstepWithVirtio(_ path: String) throws -> RunResult {
        try runOnLockstepWithVirtio(path, transmitted: { _ in })
    }

    static func runOnLockstepWithVirtio(_ path: String, transmitted: @escaping ([UInt8]) -> Void) throws -> RunResult {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 64 << 20, entropySeed: 1),
                                  disk: MemoryBlockStorage(contents: diskImage))
        try machine.load(elfAt: path)
        machine.network.onTransmit = transmitted
        var output: [UInt8] = []
        machine.routeConsole { output.append($0) }
        let stop = machine.run(instructionLimit: 200_000_000)
        return RunResult(output: output, stop: stop, instructions: machine.instructionCount)
    }

    /// Runs `path` on QEMU's `virt` with modern virtio-mmio, the disk image, an entropy device and a
    /// network device on user-mode networking.
    static func runOnQEMUWithVirtio(_ path: String, timeout: Int = 60) throws -> (output: [UInt8], exitCode: Int32) {
        let image = FileManager.default.temporaryDirectory
            .appendingPathComponent("lockstep-virtio-\(UUID().uuidString).img").path
        try Data(diskImage).write(to: URL(fileURLWithPath: image))
        defer { try? FileManager.default.removeItem(atPath: image) }
        return try runOnQEMU(path, timeout: timeout, extraArguments: [
            "-global", "virtio-mmio.force-legacy=false",
            "-drive", "file=\(image),if=none,format=raw,id=d0",
            "-device", "virtio-blk-device,drive=d0,serial=\(serial)",
            "-device", "virtio-rng-device",
            "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
        ])
    }

    @Test func sameOutputAsQEMU() throws {
        let path = try Repository.guest("virtio")
        let reference = try Self.runOnQEMUWithVirtio(path)
        let lockstep = try Self.runOnLockstepWithVirtio(path)
        #expect(reference.exitCode == 0, "the guest failed on QEMU")
        #expect(lockstep.stop == .exited(code: reference.exitCode))
        #expect(lockstep.text == String(decoding: reference.output, as: UTF8.self))
        #expect(lockstep.text.hasSuffix("virtio: done\n"))
    }

    @Test func guestTransmitsOneARPRequest() throws {
        var frames: [[UInt8]] = []
        let result = try Self.runOnLockstepWithVirtio(try Repository.guest("virtio")) { frames.append($0) }
        #expect(result.stop == .exited(code: 0))
        #expect(frames.count == 1)
        let frame = frames.first ?? []
        #expect(frame.count == 42)
        #expect(Array(frame.prefix(14)) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + VirtioNetwork.defaultMAC + [0x08, 0x06])
        #expect(Array(frame.suffix(4)) == [10, 0, 2, 2])
    }

    @Test func runsAreDeterministic() throws {
        let path = try Repository.guest("virtio")
        let first = try Self.runOnLockstepWithVirtio(path)
        let second = try Self.runOnLockstepWithVirtio(path)
        #expect(first == second)
        #expect(first.stop == .exited(code: 0))
    }
}
