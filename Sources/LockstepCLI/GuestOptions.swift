import ArgumentParser

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

    /// The kernel command line when none is given.
    static let defaultCommandLine = "console=ttyS0"

    /// The guest RAM sizes accepted, in MiB.
    static let memoryRange: ClosedRange<UInt64> = 1...65536

    /// The kernel command line: --append, or the default.
    var commandLine: String { append ?? Self.defaultCommandLine }

    /// Whether a flag names a Linux guest (--kernel, --initrd or --append).
    var namesLinuxGuest: Bool { kernel != nil || initrd != nil || append != nil }

    func validate() throws {
        guard Self.memoryRange.contains(memory) else {
            throw ValidationError("--memory must be between \(Self.memoryRange.lowerBound) and \(Self.memoryRange.upperBound) MiB (got \(memory))")
        }
        if kernel == nil && initrd != nil {
            throw ValidationError("--initrd needs --kernel (without either, the default guest boots with its own initramfs)")
        }
    }

    /// The Linux guest the flags name: --kernel (with --initrd), or the default guest; booted with
    /// ``commandLine``.
    func linuxSetup() throws(GuestFileError) -> GuestSetup {
        if let kernel {
            return try GuestSetup.linux(kernelPath: kernel, initrdPath: initrd, commandLine: commandLine)
        }
        let guest = try DefaultGuest.locate()
        return try GuestSetup.linux(kernelPath: guest.kernel, initrdPath: guest.initrd, commandLine: commandLine)
    }
}
