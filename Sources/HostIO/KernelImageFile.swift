import Foundation
import LockstepSupport

/// A kernel file as distributions install it, turned into the RISC-V `Image` Lockstep boots (what
/// guests/debian/build.sh copies out of Debian's /boot):
///
/// - an `Image`, "RSC\x05" at offset 56, with or without an EFI stub in front ("MZ" at 0: the
///   stub's PE header shares the first 64 bytes with the Image header): used as it is. Debian's
///   riscv64 `/boot/vmlinux-*` is one.
/// - a gzip file (`1f 8b`, `vmlinuz` on distributions that compress it): decompressed with the
///   host's `gzip`.
/// - an EFI zboot image ("MZ" at 0, "zimg" at 4: a PE program carrying the compressed Image,
///   `CONFIG_EFI_ZBOOT`): its payload decompressed with `gzip` or `zstd`.
///
/// The result must be an Image; anything else is refused with ``BootFromDiskError/unsupportedKernel(image:path:reason:)``.
enum KernelImageFile {
    /// "RSC\x05", the RISC-V Image header's magic at offset 56.
    static let imageMagic: [UInt8] = [0x52, 0x53, 0x43, 0x05]

    /// Whether `bytes` is a RISC-V Image (EFI stub or not).
    static func isImage(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 64 && Array(bytes[56..<60]) == imageMagic
    }

    /// The Image in `bytes`, the file at `path` in `image` (both named in errors).
    static func image(from bytes: [UInt8], path: String, in image: String) throws(BootFromDiskError) -> [UInt8] {
        func refuse(_ reason: String) -> BootFromDiskError { .unsupportedKernel(image: image, path: path, reason: reason) }
        if isImage(bytes) { return bytes }
        var compressed: ArraySlice<UInt8>
        var method: String
        if bytes.starts(with: [0x1F, 0x8B]) {
            compressed = bytes[...]
            method = "gzip"
        } else if bytes.count >= 32, bytes.starts(with: [0x4D, 0x5A]), Array(bytes[4..<8]) == Array("zimg".utf8) {
            // zboot header: payload offset and size (little-endian 32-bit) at 8 and 12, the
            // compression's name (NUL-padded) at 24.
            func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
            let offset = u32(8), size = u32(12)
            method = String(decoding: bytes[24..<32].prefix { $0 != 0 }, as: UTF8.self)
            guard offset >= 32, size > 0, offset + size <= bytes.count else {
                throw refuse("is an EFI zboot image whose payload (offset \(offset), \(size) bytes) lies outside the file")
            }
            compressed = bytes[offset..<(offset + size)]
        } else if bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
            throw refuse("is an ELF file (an uncompressed vmlinux), not a RISC-V Image")
        } else {
            throw refuse("is neither a RISC-V Image (no \"RSC\\x05\" at offset 56) nor gzip-compressed nor an EFI zboot image")
        }
        let tool: String, package: String
        switch method {
        case "gzip": (tool, package) = ("gzip", "gzip")
        case "zstd", "zstd22": (tool, package) = ("zstd", "zstd")
        default: throw refuse("is an EFI zboot image compressed with \(method.isEmpty ? "an unnamed method" : method), which Lockstep does not decompress (gzip and zstd only)")
        }
        let decompressed = try decompress(compressed, with: tool, package: package, refuse: refuse)
        guard isImage(decompressed) else {
            throw refuse("decompresses (\(tool)) to something that is not a RISC-V Image (no \"RSC\\x05\" at offset 56)")
        }
        return decompressed
    }

    /// `bytes` decompressed by the host tool `tool` (`gzip` or `zstd`, both take `-dc FILE`),
    /// through a temporary file.
    private static func decompress(_ bytes: ArraySlice<UInt8>, with tool: String, package: String,
                                   refuse: (String) -> BootFromDiskError) throws(BootFromDiskError) -> [UInt8] {
        guard let program = HostCommand.find(tool) else { throw .toolMissing(tool: tool, package: package) }
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/lockstep-kernel-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw refuse("cannot be decompressed: no temporary file in \(directory): \(String(cString: strerror(errno)))") }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        let written = bytes.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        close(descriptor)
        guard written else { throw refuse("cannot be decompressed: writing \(path) failed") }
        let output: HostCommand.Output
        do {
            output = try program.run(["-dc", path], timeout: 120)
        } catch {
            throw refuse("cannot be decompressed: \(error)")
        }
        guard output.succeeded else {
            throw refuse("does not decompress with \(tool): \(output.standardError.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output.standardOutput
    }
}
