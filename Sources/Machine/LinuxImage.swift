/// A RISC-V Linux kernel `Image` (Documentation/riscv/boot-image-header.rst): a flat binary with
/// a 64-byte header, loaded at `text_offset` from the start of RAM and entered in S-mode.
public struct LinuxImage: Sendable {
    /// The file's bytes, header included (the header is the first instructions).
    public let bytes: [UInt8]
    /// Where the image must be placed, relative to the start of RAM (2 MiB for RV64).
    public let textOffset: UInt64
    /// Memory the kernel occupies from its load address, bss included.
    public let imageSize: UInt64

    /// "RSC\x05" at offset 56.
    static let magic: [UInt8] = [0x52, 0x53, 0x43, 0x05]

    /// Parses the header. Throws when the file is not a RISC-V Linux Image.
    public init(bytes: [UInt8]) throws(MachineError) {
        guard bytes.count >= 64 else {
            throw .invalidKernel("the file is \(bytes.count) bytes long, shorter than the 64-byte RISC-V Image header")
        }
        guard Array(bytes[56..<60]) == LinuxImage.magic else {
            if bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
                throw .invalidKernel("this is an ELF file (vmlinux?), not a kernel Image: pass arch/riscv/boot/Image, or run a bare-metal ELF with --elf")
            }
            throw .invalidKernel("no RISC-V Image magic \"RSC\\x05\" at offset 56: pass arch/riscv/boot/Image from a RISC-V kernel build")
        }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        self.bytes = bytes
        textOffset = u64(8)
        // image_size 0 means "unknown" in old headers: assume the file size.
        imageSize = max(u64(16), UInt64(bytes.count))
        guard textOffset % 4096 == 0, textOffset < 1 << 30 else {
            throw .invalidKernel("text_offset 0x\(String(textOffset, radix: 16)) in the Image header is not a sane page-aligned offset")
        }
    }
}
