import Foundation

/// A new VM disk on a host: a sparse raw image formatted ext4 (the guest mounts it on /data). A
/// backup's copy is overwritten by its first join anyway; the first primary's is the VM's disk.
enum DiskImageFile {
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
