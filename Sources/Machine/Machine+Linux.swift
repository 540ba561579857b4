import RISCV

extension Machine {
    /// Where a Linux boot placed its pieces in guest-physical memory.
    public struct LinuxBootLayout: Equatable, Sendable {
        public var kernel: Range<UInt64>
        public var initrd: Range<UInt64>?
        public var deviceTree: Range<UInt64>
    }

    /// Delegation a kernel expects from its firmware: every exception it can handle itself (all
    /// but environment calls from S and M, which the SBI serves) and the supervisor interrupts.
    static let linuxExceptionDelegation: UInt64 = 0xB1FF
    static let linuxInterruptDelegation: UInt64 = InterruptCause.supervisorSoftware.mask
        | InterruptCause.supervisorTimer.mask | InterruptCause.supervisorExternal.mask

    /// Prepares the machine to boot a Linux kernel the way firmware would on QEMU's `virt`:
    /// the Image at RAM + text_offset (2 MiB), the device tree (generated here) at the top of RAM
    /// aligned down to 2 MiB, the initrd just below it; the hart in S-mode at the kernel's first
    /// instruction with a0 = hart id 0, a1 = device tree address, satp = 0; SBI served by the
    /// machine (``SupervisorBinaryInterface``). The images and the hart become the machine's
    /// ``bootImage``, what ``reboot()`` returns to.
    @discardableResult
    public func bootLinux(kernel: LinuxImage, initrd: [UInt8]? = nil, commandLine: String) throws(MachineError) -> LinuxBootLayout {
        let ramBase = memory.base
        let ramEnd = ramBase + memory.size
        let kernelStart = ramBase + kernel.textOffset
        let kernelEnd = kernelStart + kernel.imageSize

        // The blob's size does not depend on the initrd addresses (fixed-width cells), so a first
        // build with a placeholder range gives the size to place it by.
        func platform(initrd range: Range<UInt64>?) -> PlatformDescription {
            PlatformDescription(ramBase: ramBase, ramSize: memory.size, bootArguments: commandLine, initrd: range)
        }
        let placeholder: Range<UInt64>? = initrd == nil ? nil : 0..<0
        let size = UInt64(makeVirtDeviceTree(platform(initrd: placeholder)).count)
        let twoMiB: UInt64 = 2 << 20
        guard size + twoMiB < memory.size else { throw .imagesDoNotFit(needed: size + kernelEnd - ramBase, ramSize: memory.size) }
        let treeStart = (ramEnd - size) & ~(twoMiB - 1)

        var initrdRange: Range<UInt64>?
        if let initrd {
            let start = (treeStart - UInt64(initrd.count)) & ~0xFFF
            guard treeStart > UInt64(initrd.count), start >= kernelEnd else {
                throw .imagesDoNotFit(needed: kernelEnd - ramBase + UInt64(initrd.count) + (ramEnd - treeStart), ramSize: memory.size)
            }
            initrdRange = start..<(start + UInt64(initrd.count))
        }
        guard treeStart >= kernelEnd else {
            throw .imagesDoNotFit(needed: kernelEnd - ramBase + (ramEnd - treeStart), ramSize: memory.size)
        }
        let tree = makeVirtDeviceTree(platform(initrd: initrdRange))
        precondition(UInt64(tree.count) == size, "device tree size changed with the initrd addresses")

        memory.write(kernel.bytes, at: kernelStart)
        if let initrd, let initrdRange { memory.write(initrd, at: initrdRange.lowerBound) }
        memory.write(tree, at: treeStart)

        // Firmware duties: delegation, counters, the SBI, the timer as a supervisor interrupt.
        hart.firmwareWriteCSR(CSRAddress.medeleg, Machine.linuxExceptionDelegation)
        hart.firmwareWriteCSR(CSRAddress.mideleg, Machine.linuxInterruptDelegation)
        // cycle, time and instret readable from S, and from U as OpenSBI sets it up (Linux 6.1
        // never writes scounteren, and its vDSO reads `time` directly).
        hart.firmwareWriteCSR(CSRAddress.mcounteren, 0x7)
        hart.firmwareWriteCSR(CSRAddress.scounteren, 0x7)
        hart.timerIsSupervisor = true
        servesSBI = true
        hart.setRegister(10, 0)
        hart.setRegister(11, treeStart)
        hart.pc = kernelStart
        hart.privilege = .supervisor
        var regions = [BootImage.Region(address: kernelStart, bytes: kernel.bytes)]
        if let initrd, let initrdRange { regions.append(BootImage.Region(address: initrdRange.lowerBound, bytes: initrd)) }
        regions.append(BootImage.Region(address: treeStart, bytes: tree))
        recordBootImage(regions)
        return LinuxBootLayout(kernel: kernelStart..<kernelEnd, initrd: initrdRange, deviceTree: treeStart..<(treeStart + size))
    }
}
