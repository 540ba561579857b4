import ELF
import HostIO
import Machine
import Replay

/// What a machine boots, read from files once: a bare-metal ELF program, or a Linux kernel with
/// an optional initrd and a command line. Shared by `run` (which may record it in an event log)
/// and `replay` (which rebuilds it from the log and checks the files are unchanged).
struct GuestSetup {
    enum Kind {
        case elf(path: String, bytes: [UInt8])
        case linux(kernelPath: String, kernel: [UInt8], initrdPath: String?, initrd: [UInt8]?, commandLine: String)
    }

    let kind: Kind

    static func elf(path: String) throws(GuestFileError) -> GuestSetup {
        GuestSetup(kind: .elf(path: path, bytes: try readGuestFile(path, what: "program")))
    }

    static func linux(kernelPath: String, initrdPath: String?, commandLine: String) throws(GuestFileError) -> GuestSetup {
        let kernel = try readGuestFile(kernelPath, what: "kernel")
        var initrd: [UInt8]?
        if let initrdPath { initrd = try readGuestFile(initrdPath, what: "initrd") }
        return GuestSetup(kind: .linux(kernelPath: kernelPath, kernel: kernel, initrdPath: initrdPath, initrd: initrd, commandLine: commandLine))
    }

    /// The kernel and initrd installed in the disk image `bootDisk` (``DiskBootFiles``), named
    /// `IMAGE:PATH` (as a recording describes them; `run --record` saves them as files, see
    /// ``savingBootFiles(beside:)``).
    static func linux(bootDisk: String, commandLine: String) throws(GuestFileError) -> GuestSetup {
        let files: DiskBootFiles
        do {
            files = try DiskBootFiles.read(image: bootDisk)
        } catch {
            throw GuestFileError(path: bootDisk, what: "--boot-from-disk", reason: error.description)
        }
        return GuestSetup(kind: .linux(kernelPath: "\(bootDisk):\(files.kernelPath)", kernel: files.kernel,
                                       initrdPath: files.initrdPath.map { "\(bootDisk):\($0)" }, initrd: files.initrd,
                                       commandLine: commandLine))
    }

    /// The same boot with its kernel and initrd written to `PREFIX.kernel` and `PREFIX.initrd`
    /// and named by those paths: a recording of a `--boot-from-disk` session names files that
    /// `lockstep replay` can read (the disk itself changes as the session runs).
    func savingBootFiles(beside prefix: String) throws(GuestFileError) -> GuestSetup {
        guard case .linux(_, let kernel, _, let initrd, let commandLine) = kind else { return self }
        let kernelPath = prefix + ".kernel", initrdPath = initrd.map { _ in prefix + ".initrd" }
        try writeGuestFile(kernelPath, bytes: kernel, what: "kernel")
        if let initrdPath, let initrd { try writeGuestFile(initrdPath, bytes: initrd, what: "initrd") }
        return GuestSetup(kind: .linux(kernelPath: kernelPath, kernel: kernel, initrdPath: initrdPath, initrd: initrd, commandLine: commandLine))
    }

    var isLinux: Bool {
        if case .linux = kind { return true }
        return false
    }

    /// Loads the program or kernel into a new machine.
    func prepare(_ machine: Machine) throws(GuestFileError) {
        switch kind {
        case .elf(let path, let bytes):
            let file: ELFFile
            do {
                file = try ELFFile(bytes: bytes)
            } catch {
                throw GuestFileError(path: path, what: "program", reason: error.description)
            }
            do {
                try machine.load(elf: file)
            } catch {
                throw GuestFileError(path: path, what: "program", reason: error.description)
            }
        case .linux(let kernelPath, let kernel, _, let initrd, let commandLine):
            do {
                let image = try LinuxImage(bytes: kernel)
                try machine.bootLinux(kernel: image, initrd: initrd, commandLine: commandLine)
            } catch {
                throw GuestFileError(path: kernelPath, what: "kernel", reason: error.description)
            }
            // A Linux guest lives in real time: while it idles, time passes as on the host clock.
            machine.skipsIdleTime = false
        }
    }

    /// How an event log describes this boot.
    var bootDescription: SessionDescription.Boot {
        switch kind {
        case .elf(let path, let bytes):
            return .elf(path: path, hash: SessionDescription.contentHash(bytes))
        case .linux(let kernelPath, let kernel, let initrdPath, let initrd, let commandLine):
            return .linux(kernelPath: kernelPath, kernelHash: SessionDescription.contentHash(kernel),
                          initrdPath: initrdPath, initrdHash: initrd.map(SessionDescription.contentHash), commandLine: commandLine)
        }
    }
}
