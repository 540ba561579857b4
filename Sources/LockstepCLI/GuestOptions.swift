import ArgumentParser
import HostIO
import Machine

/// The guest flags of `lockstep run` and `lockstep node`: the same spellings, help and limits in
/// both (`run` adds --elf, which a replicated node does not support; each has its own --disk,
/// `node`'s with a record beside each image).
struct GuestOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("RISC-V Linux kernel Image to boot (arch/riscv/boot/Image; default: the default guest's).", valueName: "path"))
    var kernel: String?

    @Option(name: .long, help: ArgumentHelp("Initial ramdisk for --kernel (e.g. a cpio.gz).", valueName: "path"))
    var initrd: String?

    @Option(name: .long, help: ArgumentHelp("Kernel command line (default: \(GuestOptions.defaultCommandLine)).", valueName: "cmdline"))
    var append: String?

    @Option(name: .long, help: ArgumentHelp("Guest RAM size in MiB (\(GuestOptions.memoryRange.lowerBound) to \(GuestOptions.memoryRange.upperBound)).", valueName: "MiB"))
    var memory: UInt64 = 128

    @Option(name: .long, help: ArgumentHelp("The network card's MAC address, six hex pairs separated by ':' (default \(MACAddress.format(VirtioNetwork.defaultMAC)), QEMU's); a unicast one, e.g. \(MACAddress.example). Both nodes of a VM give the same.", valueName: "mac"))
    var mac: String?

    @OptionGroup var engineOption: EngineOption

    @Flag(name: .long, help: "Boot the kernel and initrd installed in --disk's ext4 root file system (/vmlinuz and /initrd.img, or the newest /boot/vmlinuz-* or vmlinux-* and its initrd), read with e2fsprogs' debugfs; --append gives the command line.")
    var bootFromDisk = false

    /// The kernel command line when none is given.
    static let defaultCommandLine = "console=ttyS0"

    /// The guest RAM sizes accepted, in MiB.
    static let memoryRange: ClosedRange<UInt64> = 1...65536

    /// The kernel command line: --append, or the default.
    var commandLine: String { append ?? Self.defaultCommandLine }

    /// The network card's MAC address: --mac, or QEMU's default. Checked by ``validate()``.
    var macAddress: [UInt8] {
        get throws { try mac.map(Self.parseMAC) ?? VirtioNetwork.defaultMAC }
    }

    /// `text` as a MAC address, or a ValidationError that says what a valid one looks like.
    static func parseMAC(_ text: String) throws -> [UInt8] {
        do { return try MACAddress.parse(text) } catch { throw ValidationError("--mac: \(error)") }
    }

    /// Whether a flag names a Linux guest (--kernel, --initrd, --append or --boot-from-disk).
    var namesLinuxGuest: Bool { kernel != nil || initrd != nil || append != nil || bootFromDisk }

    func validate() throws {
        _ = try macAddress
        guard Self.memoryRange.contains(memory) else {
            throw ValidationError("--memory must be between \(Self.memoryRange.lowerBound) and \(Self.memoryRange.upperBound) MiB (got \(memory))")
        }
        if bootFromDisk && (kernel != nil || initrd != nil) {
            throw ValidationError("--boot-from-disk takes the kernel and initrd from the disk: give either --boot-from-disk or --kernel (and --initrd), not both")
        }
        if kernel == nil && initrd != nil {
            throw ValidationError("--initrd needs --kernel (without either, the default guest boots with its own initramfs)")
        }
    }

    /// Checks that --boot-from-disk has a disk to read (`disk`: the command's first --disk).
    func validateBootDisk(_ disk: String?) throws {
        if bootFromDisk && disk == nil {
            throw ValidationError("--boot-from-disk reads the kernel and initrd from the disk image: give --disk IMAGE (an ext4 root file system)")
        }
    }

    /// The Linux guest the flags name: the kernel and initrd in `bootDisk` (--boot-from-disk),
    /// --kernel (with --initrd), or the default guest; booted with ``commandLine``.
    func linuxSetup(bootDisk: String? = nil) throws(GuestFileError) -> GuestSetup {
        if bootFromDisk {
            guard let bootDisk else {
                throw GuestFileError(path: "(no --disk)", what: "--boot-from-disk", reason: "give --disk IMAGE to read the kernel from")
            }
            return try GuestSetup.linux(bootDisk: bootDisk, commandLine: commandLine)
        }
        if let kernel {
            return try GuestSetup.linux(kernelPath: kernel, initrdPath: initrd, commandLine: commandLine)
        }
        let guest = try DefaultGuest.locate()
        return try GuestSetup.linux(kernelPath: guest.kernel, initrdPath: guest.initrd, commandLine: commandLine)
    }
}
