import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials   // DataProtocol, which Crypto's hashing takes
#else
import Foundation
#endif

/// State files on disk, with their SHA-256 checksum (StateFileFormat.swift has the format).
extension StateFileFormat {
    /// The table stored in `file`.
    static func read(_ file: borrowing SystemFile) throws(ArbitrationError) -> ClaimTable {
        guard let bytes = try file.readAll(limit: maximumFileSize) else {
            throw .corruptStateFile(path: file.path, detail: "larger than \(maximumFileSize) bytes")
        }
        return try decode(bytes, path: file.path)
    }

    static func encode(_ table: ClaimTable) -> [UInt8] {
        encode(table, checksum: checksum(of:))
    }

    /// The table stored in `bytes`, read from `path` (named in the error).
    static func decode(_ bytes: [UInt8], path: String) throws(ArbitrationError) -> ClaimTable {
        try decode(bytes, path: path, checksum: checksum(of:))
    }

    private static func checksum(of bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }
}
