import HostIO
import Machine
import Testing

/// A MAC address as people write it, and the machine's network card carrying the configured one:
/// in its configuration space (what the guest's driver reads), in snapshots (format 5), and in
/// the restore's check.
@Suite struct MACAddressTests {
    static let mac: [UInt8] = [0x02, 0x00, 0x00, 0xAA, 0xBB, 0xCC]

    @Test func sixHexPairsParse() throws {
        #expect(try MACAddress.parse("02:00:00:aa:bb:cc") == Self.mac)
        #expect(try MACAddress.parse("02:00:00:AA:BB:CC") == Self.mac)
        #expect(try MACAddress.parse("52:54:00:12:34:56") == VirtioNetwork.defaultMAC)
        #expect(MACAddress.format(Self.mac) == "02:00:00:aa:bb:cc")
        // QEMU's 52:54:00 has the U/L bit (0x02) set too; a vendor's address (00:1b:21, Intel) has not.
        #expect(MACAddress.isLocallyAdministered(Self.mac) && MACAddress.isLocallyAdministered(VirtioNetwork.defaultMAC))
        #expect(!MACAddress.isLocallyAdministered(try MACAddress.parse("00:1b:21:01:02:03")))
    }

    @Test func whatIsNotANetworkCardsAddressIsRefusedSayingWhatIs() {
        for text in ["", "02:00:00:aa:bb", "02:00:00:aa:bb:cc:dd", "02-00-00-aa-bb-cc", "2:00:00:aa:bb:cc", "02:00:00:aa:bb:cg",
                     "002:00:00:aa:bb:c", "02:00:00:aa:bb:", ":02:00:00:aa:bb", "+2:00:00:aa:bb:cc", "02:00:00:aa:bb:cc "] {
            #expect(throws: MACAddressError.malformed(text), "\(text)") { try MACAddress.parse(text) }
        }
        #expect(MACAddressError.malformed("x").description.contains("six pairs of hex digits separated by ':', e.g. 02:00:00:aa:bb:cc"))
        // The group bit (the lowest of the first byte): broadcast and multicast addresses.
        for text in ["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "03:00:00:00:00:01"] {
            #expect(throws: MACAddressError.multicast(text), "\(text)") { try MACAddress.parse(text) }
        }
        #expect(MACAddressError.multicast("01:00:5e:00:00:01").description.contains("multicast"))
        #expect(MACAddressError.multicast("01:00:5e:00:00:01").description.contains("e.g. 02:00:00:aa:bb:cc"))
        #expect(throws: MACAddressError.allZero) { try MACAddress.parse("00:00:00:00:00:00") }
    }

    /// What the guest's virtio-net driver reads from the configuration space (VIRTIO_NET_F_MAC).
    static func configuredMAC(_ machine: Machine) -> [UInt8] {
        let base = PlatformDescription.virtioMMIOAddress(slot: Machine.networkSlot) + 0x100
        return (0..<6).map { UInt8(machine.bus.load(physicalAddress: base + UInt64($0), size: 1) ?? 0xEE) }
    }

    @Test func theNetworkCardHasTheConfiguredAddress() throws {
        #expect(Self.configuredMAC(try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))) == VirtioNetwork.defaultMAC)
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20, mac: Self.mac))
        #expect(machine.network.mac == Self.mac)
        #expect(Self.configuredMAC(machine) == Self.mac)
        // Part of what two machines must agree on.
        #expect(MachineConfiguration(mac: Self.mac) != MachineConfiguration())
        #expect(throws: MachineError.invalidMACAddress([2, 0, 0])) { try Machine(configuration: MachineConfiguration(memorySize: 4 << 20, mac: [2, 0, 0])) }
    }

    /// A snapshot taken on the virtio guest (disk, entropy and interrupts in use).
    static func sample(mac: [UInt8]) throws -> (Machine, [UInt8]) {
        var configuration = SnapshotCorruptionTests.configuration
        configuration.mac = mac
        let machine = try Machine(configuration: configuration, disk: MemoryBlockStorage(contents: VirtioGuestTests.diskImage))
        try machine.load(elfAt: try Repository.guest("virtio"))
        #expect(machine.run(instructionLimit: SnapshotCorruptionTests.samplePoint) == .instructionLimit)
        return (machine, try machine.saveSnapshot())
    }

    static func disk(of machine: Machine) -> MemoryBlockStorage {
        MemoryBlockStorage(contents: (machine.disk!.storage as! MemoryBlockStorage).bytes)
    }

    @Test func aSnapshotCarriesTheAddressAndRestoresOnlyOntoIt() throws {
        let (machine, snapshot) = try Self.sample(mac: Self.mac)
        let info = try SnapshotInfo(snapshot)
        #expect(info.formatVersion == 5 && info.configuration.mac == Self.mac)
        let copy = try Machine(configuration: info.configuration, disk: Self.disk(of: machine))
        try copy.restoreSnapshot(snapshot)
        #expect(copy.stateHash() == machine.stateHash())
        #expect(Self.configuredMAC(copy) == Self.mac)
        #expect(copy.run(instructionLimit: copy.instructionCount + 10_000) == machine.run(instructionLimit: machine.instructionCount + 10_000))
        #expect(copy.stateHash() == machine.stateHash())

        // Onto QEMU's default address: refused by the configuration check, naming both and --mac.
        var other = info.configuration
        other.mac = VirtioNetwork.defaultMAC
        let target = try Machine(configuration: other, disk: Self.disk(of: machine))
        let before = target.stateHash()
        #expect(throws: SnapshotError.macAddressMismatch(snapshot: Self.mac, machine: VirtioNetwork.defaultMAC)) {
            try target.restoreSnapshot(snapshot)
        }
        #expect(target.stateHash() == before)
        #expect(SnapshotError.macAddressMismatch(snapshot: Self.mac, machine: VirtioNetwork.defaultMAC).description
            == "the snapshot's MAC address is 02:00:00:aa:bb:cc, this machine's is 52:54:00:12:34:56: create the machine with the snapshot's (start it with --mac 02:00:00:aa:bb:cc)")
    }

    /// Format 4 had no MAC address: its machines had QEMU's default, which is what it reads as.
    @Test func aFormat4SnapshotReadsWithTheDefaultAddress() throws {
        let (machine, snapshot) = try Self.sample(mac: VirtioNetwork.defaultMAC)
        let old = LegacySnapshot.format4(snapshot)
        #expect(old.count == snapshot.count - 6)
        let info = try SnapshotInfo(old)
        #expect(info.formatVersion == 4 && info.configuration.mac == VirtioNetwork.defaultMAC)
        #expect(info.configuration == machine.configuration && info.instructionCount == machine.instructionCount)
        let copy = try Machine(configuration: info.configuration, disk: Self.disk(of: machine))
        try copy.restoreSnapshot(old)
        #expect(copy.stateHash() == machine.stateHash())
        // A machine with another address refuses it, as it refuses a format-5 snapshot of the default.
        var other = info.configuration
        other.mac = Self.mac
        #expect(throws: SnapshotError.macAddressMismatch(snapshot: VirtioNetwork.defaultMAC, machine: Self.mac)) {
            try Machine(configuration: other, disk: Self.disk(of: machine)).restoreSnapshot(old)
        }
        // Read as format 5, the same bytes lack the address: refused, not misread.
        #expect(throws: SnapshotError.self) { try SnapshotInfo(LegacySnapshot.withVersion(old, 5)) }
    }
}
