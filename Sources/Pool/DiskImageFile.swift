import Foundation

/// A new VM disk on a host: a sparse raw image formatted ext4 (the guest mounts it on /data), or
/// a copy of the image the VM was declared with. A backup's copy is overwritten by its first join
/// anyway; the first primary's is the VM's disk.
enum DiskImageFile {
    /// Copies the declared image `source` to `path` (sparse: holes stay holes), for the VM's first
    /// primary, extended to `mebibytes` MiB if it is shorter (the size every host's copy has).
    static func copy(_ source: String, to path: String, mebibytes: Int, vm: String, host: String) throws {
        guard FileManager.default.isReadableFile(atPath: source) else {
            throw PoolError.invalid("VM '\(vm)' is declared with the disk image \(source), which host \(host) cannot read: put the image at that path on every host (or on storage they share), or declare the VM with a size")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cp")
        process.arguments = ["--sparse=always", source, path]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw PoolError.invalid("copying VM '\(vm)''s disk image \(source) to \(path) failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        if try handle.seekToEnd() < UInt64(mebibytes) << 20 { try handle.truncate(atOffset: UInt64(mebibytes) << 20) }
        try handle.close()
    }

    static func create(_ path: String, mebibytes: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw PoolError.invalid("cannot create \(path)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(mebibytes) << 20)
        try handle.close()
        let mkfs = ["/sbin/mkfs.ext4", "/usr/sbin/mkfs.ext4"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let mkfs else { throw PoolError.invalid("mkfs.ext4 not found: apt-get install e2fsprogs") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mkfs)
        process.arguments = ["-q", "-F", path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PoolError.invalid("mkfs.ext4 \(path) failed (\(process.terminationStatus))") }
    }
}
