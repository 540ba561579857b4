// libFuzzer harness for the arbiter protocol's framing and messages (Sources/Arbitration:
// Framing.swift, WireMessage.swift; the bytes an arbiter client or server receives).
//
// Built by run.sh from those two files alone: they need neither SwiftNIO nor Crypto. The HMAC is
// replaced by a stand-in that the fuzzer can produce: a MAC of 32 zero bytes is valid, any other
// is not (the HMAC itself is Crypto's, not fuzzed here). Each input is read two ways:
//   - as a byte stream: messages are taken off its front with Framing.firstMessage and decoded
//     until the framing throws BadLength, needs more bytes, or the stream ends;
//   - as one message, unframed.
// Every outcome must be a message or a WireMessage.DecodingError / Framing.BadLength. A decoded
// message must encode (with the stand-in MAC) to exactly the bytes it was read from, except a
// `failed` reason longer than the 512 bytes the encoder keeps; a frame cut short never decodes.

/// The stand-in MAC.
private let zeroMAC = [UInt8](repeating: 0, count: WireMessage.macLength)

@_cdecl("LLVMFuzzerTestOneInput")
public func lockstepFuzzArbiter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzInput(data, size)
    checkStream(bytes)
    checkMessage(bytes)
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func lockstepFuzzArbiterInitialize(_ argc: UnsafeMutablePointer<Int32>?,
                                          _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    writeSeedsIfAsked(seeds)
    return 0
}

private func firstMessage(_ bytes: [UInt8]) throws(Framing.BadLength) -> Range<Int>? {
    let result: Result<Range<Int>?, Framing.BadLength> = bytes.withUnsafeBytes { raw in
        do throws(Framing.BadLength) { return .success(try Framing.firstMessage(in: raw)) } catch { return .failure(error) }
    }
    return try result.get()
}

private func checkStream(_ stream: [UInt8]) {
    var offset = 0
    while offset < stream.count {
        let rest = Array(stream[offset...])
        let found: Range<Int>?
        do { found = try firstMessage(rest) } catch {
            precondition(error.length == 0 || error.length > Framing.maximumLength, "refused a good length \(error.length)")
            precondition(!error.description.isEmpty)
            return
        }
        guard let range = found else { return }
        precondition(range.lowerBound == 4 && range.count >= 1 && range.count <= Framing.maximumLength && range.upperBound <= rest.count)
        let message = Array(rest[range])
        precondition(Framing.frameBytes(message) == Array(rest[..<range.upperBound]), "a frame does not re-frame to its bytes")
        if let short = try? firstMessage(Array(rest[..<(range.upperBound - 1)])) {
            preconditionFailure("a frame cut short gave a message of \(short.count) bytes")
        }
        checkMessage(message)
        offset += range.upperBound
    }
}

private func checkMessage(_ bytes: [UInt8]) {
    do {
        let message = try WireMessage.decode(bytes) { _, mac in mac == zeroMAC }
        if case .failed(let reason) = message, reason.utf8.count > 512 { return }
        precondition(message.encoded(signedBy: { _ in zeroMAC }) == bytes, "\(message) does not encode to the bytes it was read from")
    } catch {
        switch error {
        case .notArbiterProtocol, .version, .badAuthentication: break
        case .malformed(let what): precondition(!what.isEmpty)
        }
    }
}

/// Every message kind, framed, and a client's stream (the server's hello and a claim).
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let nonce = [UInt8](repeating: 0xA5, count: WireMessage.serverNonceLength)
    let clientNonce = [UInt8](repeating: 0x5A, count: WireMessage.clientNonceLength)
    let messages: [(String, WireMessage)] = [
        ("hello", .hello(nonce: nonce)),
        ("claim", .claim(clientNonce: clientNonce, vm: "vm1", expectedGeneration: 3, owner: "node-a")),
        ("current", .current(clientNonce: clientNonce, vm: "vm1")),
        ("won", .won(generation: 4)),
        ("lost", .lost(generation: 5, owner: "node-b")),
        ("state", .state(generation: 6, owner: "node-c")),
        ("failed", .failed(reason: "cannot write /var/lib/lockstep/state: No space left on device")),
        ("refused-bad-key", .refused(.badKey)),
        ("refused-version", .refused(.unsupportedVersion)),
        ("refused-malformed", .refused(.malformed)),
    ]
    var result = messages.map { (name: "frame-" + $0.0, bytes: Framing.frameBytes($0.1.encoded(signedBy: { _ in zeroMAC }))) }
    result.append((name: "stream-hello-claim", bytes: result[0].bytes + result[1].bytes))
    return result
}
