/// The bytes of a ``ClaimTable`` on disk: the arbiter server's state file and the file arbiter's
/// lock file share this format (docs/arbitration.md, "File format").
///
/// All integers are big-endian:
///
/// ```
/// magic "LSARBITR" (8 bytes) | version 1 (1 byte) | entry count (UInt32)
/// entry: VM name length (UInt16) | VM name (UTF-8) | generation (UInt64) | owner length (UInt16) | owner (UTF-8)
/// SHA-256 of everything before it (32 bytes)
/// ```
///
/// Entries are sorted by VM name, so one state has one encoding. Bytes after the checksum are
/// ignored: an in-place rewrite that ends earlier than the old contents leaves them until the file
/// is truncated.
///
/// This file is the format on plain bytes with the checksum function as a parameter (fuzz/StateFile
/// fuzzes it without Crypto); StateFileFormat+SHA256.swift reads files and uses SHA-256.
enum StateFileFormat {
    static let magic: [UInt8] = Array("LSARBITR".utf8)
    static let version: UInt8 = 1
    static let checksumLength = 32
    /// Larger files are refused as corrupt instead of being read into memory.
    static let maximumFileSize = 64 << 20

    /// The bytes of `table`, ending with `checksum` of the bytes before it.
    static func encode(_ table: ClaimTable, checksum: (ArraySlice<UInt8>) -> [UInt8]) -> [UInt8] {
        func write<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        var bytes = magic
        bytes.append(version)
        write(UInt32(table.entries.count), to: &bytes)
        for (vm, entry) in table.entries.sorted(by: { $0.key < $1.key }) {
            write(UInt16(vm.utf8.count), to: &bytes)
            bytes += vm.utf8
            write(entry.generation, to: &bytes)
            write(UInt16(entry.owner.utf8.count), to: &bytes)
            bytes += entry.owner.utf8
        }
        bytes += checksum(bytes[...])
        return bytes
    }

    /// The table stored in `bytes`, read from `path` (named in the error), whose stored checksum
    /// must be `checksum` of the bytes before it.
    static func decode(_ bytes: [UInt8], path: String, checksum: (ArraySlice<UInt8>) -> [UInt8]) throws(ArbitrationError) -> ClaimTable {
        func corrupt(_ detail: String) -> ArbitrationError { .corruptStateFile(path: path, detail: detail) }
        guard !bytes.isEmpty else { throw corrupt("the file is empty") }
        var buffer = Reader(bytes: bytes)
        guard buffer.readBytes(length: magic.count) == magic else { throw corrupt("no LSARBITR magic at the start") }
        guard let version = buffer.readInteger(as: UInt8.self), let count = buffer.readInteger(as: UInt32.self) else {
            throw corrupt("truncated header")
        }
        guard version == Self.version else { throw corrupt("format version \(version), this lockstep reads version \(Self.version)") }

        var raw: [(vm: [UInt8], generation: UInt64, owner: [UInt8])] = []
        for index in 0..<count {
            guard let vmLength = buffer.readInteger(as: UInt16.self), let vm = buffer.readBytes(length: Int(vmLength)),
                  let generation = buffer.readInteger(as: UInt64.self),
                  let ownerLength = buffer.readInteger(as: UInt16.self), let owner = buffer.readBytes(length: Int(ownerLength))
            else { throw corrupt("truncated in entry \(index) of \(count)") }
            raw.append((vm, generation, owner))
        }
        let contentLength = buffer.readerIndex
        guard let stored = buffer.readBytes(length: checksumLength) else { throw corrupt("truncated before the checksum") }
        guard stored == checksum(bytes[..<contentLength]) else { throw corrupt("checksum mismatch") }

        var entries: [String: ClaimTable.Entry] = [:]
        for (vmBytes, generation, ownerBytes) in raw {
            guard let vm = String(validating: vmBytes, as: UTF8.self), let owner = String(validating: ownerBytes, as: UTF8.self),
                  !vm.isEmpty, !owner.isEmpty, generation > 0 else {
                throw corrupt("an entry with an invalid name or generation 0")
            }
            guard entries.updateValue(ClaimTable.Entry(generation: generation, owner: owner), forKey: vm) == nil else {
                throw corrupt("VM \"\(vm)\" appears twice")
            }
        }
        return ClaimTable(entries: entries)
    }

    /// Big-endian reads from the front of a byte array; nil when the bytes run out.
    private struct Reader {
        let bytes: [UInt8]
        var readerIndex = 0

        mutating func readBytes(length: Int) -> [UInt8]? {
            guard length <= bytes.count - readerIndex else { return nil }
            defer { readerIndex += length }
            return Array(bytes[readerIndex..<(readerIndex + length)])
        }

        mutating func readInteger<T: FixedWidthInteger>(as: T.Type) -> T? {
            readBytes(length: MemoryLayout<T>.size).map { $0.reduce(0) { $0 << 8 | T($1) } }
        }
    }
}
