import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials   // DataProtocol, which Crypto's HMAC takes
#else
import Foundation
#endif

/// The arbiter protocol's MACs: HMAC-SHA256 under the shared key (WireMessage.swift has the format).
extension WireMessage {
    /// The message's bytes; authenticated kinds end with the HMAC under `key` over `context`
    /// followed by the message.
    func encoded(key: SharedKey, context: [UInt8]) -> [UInt8] {
        encoded { bytes in Self.authenticationCode(for: bytes, key: key, context: context) }
    }

    /// The message in `bytes`, whose MAC (if its kind has one) must be valid under `key` over
    /// `context`. The header is checked first, then the MAC, and only then the body.
    static func decode(_ bytes: [UInt8], key: SharedKey, context: [UInt8]) throws(DecodingError) -> WireMessage {
        try decode(bytes) { signed, mac in
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: context + signed, using: key.symmetricKey)
        }
    }

    private static func authenticationCode(for bytes: [UInt8], key: SharedKey, context: [UInt8]) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key.symmetricKey)
        hmac.update(data: context)
        hmac.update(data: bytes)
        return Array(hmac.finalize())
    }
}
