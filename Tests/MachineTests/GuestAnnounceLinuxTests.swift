@testable import Machine
import RISCV
import Testing

/// VIRTIO_NET_F_GUEST_ANNOUNCE against Linux's own virtio-net driver: after boot (the default
/// guest's /init gives eth0 an address), a `networkAnnounce` input makes the guest send a
/// gratuitous ARP for its address from its MAC, and the driver acknowledges on the control queue.
@Suite(.serialized) struct GuestAnnounceLinuxTests {
    /// The boot must reach /init's ready line (eth0 configured) within this many instructions.
    static let bootLimit: UInt64 = 600_000_000

    @Test func linuxAnnouncesItselfWhenAsked() throws {
        let (kernel, initrd) = try SnapshotLinuxTests.images()
        let machine = try Machine(configuration: MachineConfiguration())
        try machine.bootLinux(kernel: kernel, initrd: initrd, commandLine: "console=ttyS0 quiet")
        var frames: [[UInt8]] = []
        var console: [UInt8] = []
        machine.onOutput = { output in
            switch output {
            case .networkFrame(let frame): frames.append(frame)
            case .console(let bytes): console += bytes
            }
        }
        while !String(decoding: console, as: UTF8.self).contains("init ready") && machine.instructionCount < Self.bootLimit {
            _ = machine.run(instructionLimit: machine.instructionCount + 10_000_000)
        }
        try #require(String(decoding: console, as: UTF8.self).contains("init ready"))
        let before = frames.count
        machine.apply(.networkAnnounce)
        #expect(machine.network.announcePending)
        // The driver runs its announce work from a workqueue: give the guest time (and ticks).
        for _ in 0..<20 where machine.network.announcePending || frames.count == before {
            _ = machine.run(instructionLimit: machine.instructionCount + 5_000_000)
            if let ticks = machine.hart.ticksUntilTimerInterrupt, ticks > 0 { machine.apply(.timeAdvance(ticks: ticks)) }
        }
        #expect(!machine.network.announcePending)
        #expect(machine.network.acknowledgedAnnouncements == 1)
        // A gratuitous ARP: broadcast, from the card's MAC, ethertype 0x0806, sender IP = target IP.
        let announcements = frames[before...].filter { frame in
            frame.count >= 42 && Array(frame[0..<6]) == [UInt8](repeating: 0xFF, count: 6)
                && Array(frame[6..<12]) == machine.network.mac && frame[12] == 0x08 && frame[13] == 0x06
                && Array(frame[28..<32]) == Array(frame[38..<42])
        }
        #expect(!announcements.isEmpty, "no gratuitous ARP among \(frames.count - before) frames after the announcement")
        if let arp = announcements.first {
            #expect(Array(arp[28..<32]) == [10, 0, 2, 15])   // the address /init gave eth0
        }
    }
}
