@testable import Arbitration
import Testing

/// The wire messages: their bytes, and what their MACs bind them to.
@Suite struct WireMessageTests {
    let nonce = [UInt8](repeating: 0xA5, count: WireMessage.serverNonceLength)
    let clientNonce = [UInt8](repeating: 0x5A, count: WireMessage.clientNonceLength)

    @Test func everyMessageComesBackAsItWasSent() throws {
        let messages: [WireMessage] = [
            .hello(nonce: nonce),
            .claim(clientNonce: clientNonce, vm: "vm1", expectedGeneration: 41, owner: "node-a"),
            .current(clientNonce: clientNonce, vm: "vm1"),
            .won(generation: 42),
            .lost(generation: 42, owner: "node-b"),
            .state(generation: 0, owner: ""),
            .failed(reason: "disk full"),
            .refused(.badKey),
        ]
        for message in messages {
            let bytes = message.encoded(key: testKey, context: nonce)
            #expect(try WireMessage.decode(bytes, key: testKey, context: nonce) == message)
            #expect(bytes.count <= Framing.maximumLength)
        }
    }

    @Test func aRequestIsBoundToItsConnectionsNonceAndKey() throws {
        let request = WireMessage.claim(clientNonce: clientNonce, vm: "vm1", expectedGeneration: 0, owner: "node-a")
        let bytes = request.encoded(key: testKey, context: nonce)
        #expect(throws: WireMessage.DecodingError.badAuthentication) { try WireMessage.decode(bytes, key: otherKey, context: nonce) }
        var otherNonce = nonce
        otherNonce[0] ^= 1
        #expect(throws: WireMessage.DecodingError.badAuthentication) { try WireMessage.decode(bytes, key: testKey, context: otherNonce) }
        for index in 6..<bytes.count {   // past the header: any change to the body or the MAC
            var tampered = bytes
            tampered[index] ^= 0x10
            #expect(throws: WireMessage.DecodingError.badAuthentication) { try WireMessage.decode(tampered, key: testKey, context: nonce) }
        }
    }

    @Test func anAnswerIsBoundToItsRequest() throws {
        let first = WireMessage.claim(clientNonce: clientNonce, vm: "vm1", expectedGeneration: 0, owner: "node-a").encoded(key: testKey, context: nonce)
        let second = WireMessage.claim(clientNonce: clientNonce, vm: "vm1", expectedGeneration: 5, owner: "node-a").encoded(key: testKey, context: nonce)
        let answer = WireMessage.won(generation: 1).encoded(key: testKey, context: nonce + first)
        #expect(try WireMessage.decode(answer, key: testKey, context: nonce + first) == .won(generation: 1))
        #expect(throws: WireMessage.DecodingError.badAuthentication) { try WireMessage.decode(answer, key: testKey, context: nonce + second) }
    }

    @Test func theHeaderIsCheckedFirst() {
        var bytes = WireMessage.won(generation: 1).encoded(key: testKey, context: nonce)
        bytes[4] = 9
        #expect(throws: WireMessage.DecodingError.version(9)) { try WireMessage.decode(bytes, key: testKey, context: nonce) }
        #expect(throws: WireMessage.DecodingError.notArbiterProtocol) { try WireMessage.decode(Array("HTTP/1.1 200".utf8), key: testKey, context: nonce) }
        #expect(throws: WireMessage.DecodingError.malformed("unknown message kind")) {
            try WireMessage.decode(Array("LSAR".utf8) + [1, 0x55], key: testKey, context: nonce)
        }
    }
}
