import RISCV

extension Machine {
    /// The machine's state digested part by part (see ``StateDigest``): the hart's registers (pc,
    /// x, f) apart from the rest of the hart (CSRs, privilege, timer, reservation), each device
    /// in its snapshot serialization, RAM region by region, and each disk's content digest, as
    /// ``stateHash()`` covers them. Costs about as much as ``stateHash()``: one pass over the RAM
    /// pages the guest has touched (and, the first time, a read of each whole disk, unless
    /// something read it already: see ``VirtioBlock/prepareDigest()``).
    public func stateDigest() -> StateDigest {
        var parts: [StateDigest.Part] = []
        func digest(_ name: String, _ body: (inout StateWriter) -> Void) {
            var writer = StateWriter(reservingCapacity: 1024)
            body(&writer)
            var hasher = StateHasher()
            writer.bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
            parts.append(.init(name: name, hash: hasher.finalize()))
        }
        let hartState = hart.exportState()
        digest("registers") { writer in
            writer.writeUInt64(hartState.pc)
            for value in hartState.x { writer.writeUInt64(value) }
            for value in hartState.f { writer.writeUInt64(value) }
        }
        var control = hartState
        control.pc = 0
        control.x = [UInt64](repeating: 0, count: control.x.count)
        control.f = [UInt64](repeating: 0, count: control.f.count)
        digest("CSRs") { control.save(to: &$0) }
        digest("machine (SBI, HTIF)") { saveMachineSection(.machine, to: &$0) }
        digest("CLINT") { clint.save(to: &$0) }
        digest("PLIC") { plic.save(to: &$0) }
        digest("UART") { uart.save(to: &$0) }
        for (index, slot) in virtioSlots.enumerated() {
            let kind: String
            switch index {
            case Machine.networkSlot: kind = " (network)"
            case Machine.entropySlot: kind = " (entropy)"
            default: kind = slot.device is VirtioBlock ? " (block)" : ""
            }
            digest("virtio slot \(index)\(kind)") { slot.save(to: &$0) }
        }

        let pageSize = Int(GuestMemory.pageSize)
        let pages = (Int(memory.size) + pageSize - 1) / pageSize
        let pagesPerRegion = max(1, (pages + StateDigest.maximumRegions - 1) / StateDigest.maximumRegions)
        let regionBytes = pagesPerRegion * pageSize
        var regions: [UInt64] = []
        memory.withRAMBytes { ram in
            var start = 0
            while start < ram.count {
                let end = min(ram.count, start + regionBytes)
                let firstPage = start / pageSize
                var hasher = StateHasher()
                hasher.combine(ram: UnsafeRawBufferPointer(rebasing: ram[start..<end]),
                               untouched: { memory.isUntouched(page: firstPage + $0) })
                regions.append(hasher.finalize())
                start = end
            }
        }
        return StateDigest(instructionCount: instructionCount, parts: parts, regionSize: UInt64(regionBytes),
                           ramBase: memory.base, regions: regions, disks: disks.map(\.stateDigestValue))
    }
}
