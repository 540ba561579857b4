import Foundation
import HostIO
import Machine
import RISCV
import Testing

/// FileDisk: a BlockStorage on a host file through pread/pwrite.
@Suite struct FileDiskTests {
    /// A fresh temporary file of `size` bytes filled with `byte`, removed after `body`.
    func withImage(size: Int, byte: UInt8 = 0, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("lockstep-filedisk-\(UUID().uuidString).img").path
        try Data(repeating: byte, count: size).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test func capacityIsWholeSectors() throws {
        try withImage(size: 512 * 10 + 100) { path in
            let disk = try FileDisk(path: path)
            #expect(disk.sectorCount == 10)
            #expect(disk.byteCount == 5120)
            #expect(!disk.isReadOnly)
        }
    }

    @Test func writesReachTheFileAndReadBack() throws {
        try withImage(size: 4096, byte: 0xEE) { path in
            let disk = try FileDisk(path: path)
            let data = (0..<1024).map { UInt8(truncatingIfNeeded: $0 * 3) }
            try disk.writeSectors(at: 2, data)
            try disk.flush()
            #expect(try disk.readSectors(at: 2, count: 2) == data)
            #expect(try disk.readSectors(at: 1, count: 1) == [UInt8](repeating: 0xEE, count: 512))
            let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(Array(file[1024..<2048]) == data)
        }
    }

    @Test func rangeChecks() throws {
        try withImage(size: 2048) { path in
            let disk = try FileDisk(path: path)
            #expect(throws: BlockStorageError.self) { try disk.readSectors(at: 3, count: 2) }
            #expect(throws: BlockStorageError.self) { try disk.readSectors(at: .max, count: 1) }
            #expect(throws: BlockStorageError.self) { try disk.writeSectors(at: 0, [1, 2, 3]) }
            #expect(try disk.readSectors(at: 3, count: 1).count == 512)
        }
    }

    @Test func readOnlyRefusesWrites() throws {
        try withImage(size: 1024, byte: 5) { path in
            let disk = try FileDisk(path: path, readOnly: true)
            #expect(disk.isReadOnly)
            #expect(throws: BlockStorageError.self) { try disk.writeSectors(at: 0, [UInt8](repeating: 1, count: 512)) }
            #expect(try disk.readSectors(at: 0, count: 2) == [UInt8](repeating: 5, count: 1024))
        }
    }

    @Test func missingFileIsATypedError() {
        #expect(throws: BlockStorageError.self) { try FileDisk(path: "/nonexistent/lockstep/disk.img") }
    }

    @Test func servesAVirtioBlockDevice() throws {
        try withImage(size: 8192, byte: 0x5A) { path in
            let disk = try FileDisk(path: path)
            let memory = GuestMemory(base: 0x8000_0000, size: 1 << 16)!
            let transport = VirtioMMIO(memory: memory, device: VirtioBlock(storage: disk))
            #expect(transport.read(offset: 0x100, size: 8) == 16)   // capacity in sectors
        }
    }
}
