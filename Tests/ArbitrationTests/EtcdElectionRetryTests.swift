import Etcd
import Foundation
import Synchronization
import Testing

/// The etcd client during an election: a member that answers "leader changed" (gRPC code 14)
/// is asked again after a pause, and an answer after a few refusals is taken; an election that
/// lasts longer than the pauses is the caller's error. Against a fake member that refuses a
/// given number of requests, then answers a range read.
@Suite struct EtcdElectionRetryTests {
    /// A fake etcd member on loopback: the first `refusals` requests get etcd's answer for an
    /// election, the rest an empty range; counts the requests.
    final class FakeMember: Sendable {
        let port: UInt16
        final class Counter: Sendable { let value = Atomic<Int>(0) }
        private let counter = Counter()
        private let listener: RawSocket

        /// Requests received so far.
        var requests: Int { counter.value.load(ordering: .sequentiallyConsistent) }

        init(refusals: Int) throws {
            let (listener, port) = try RawSocket.listening()
            self.listener = listener
            self.port = port
            let counter = self.counter
            Thread {
                while let connection = try? listener.accept() {
                    guard (try? Self.readRequest(connection)) != nil else { continue }
                    let number = counter.value.add(1, ordering: .sequentiallyConsistent).newValue
                    let (status, body) = number <= refusals
                        ? ("503 Service Unavailable", #"{"error":"etcdserver: leader changed","code":14,"message":"etcdserver: leader changed"}"#)
                        : ("200 OK", #"{"header":{"cluster_id":"1","member_id":"1","revision":"7","raft_term":"2"}}"#)
                    let answer = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                    try? connection.send(Array(answer.utf8))
                }
            }.start()
        }

        /// Stops accepting (the serving thread ends).
        func stop() { shutdown(listener.descriptor, Int32(SHUT_RDWR)) }

        /// Reads one request: the head, then as many body bytes as it announces.
        static func readRequest(_ connection: RawSocket) throws {
            var head: [UInt8] = []
            while !head.ends(with: Array("\r\n\r\n".utf8)) { head += try connection.receive(1) }
            let text = String(decoding: head, as: UTF8.self).lowercased()
            let length = text.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            _ = try connection.receive(length)
        }
    }

    @Test func aReadDuringAnElectionIsAnsweredOnceALeaderIsThere() async throws {
        let member = try FakeMember(refusals: 3)
        defer { member.stop() }
        let client = EtcdClient(endpoints: [EtcdEndpoint(host: "127.0.0.1", port: Int(member.port))])
        let value = try await client.get("some-key")
        #expect(value == nil)
        #expect(member.requests == 4)
    }

    @Test func anElectionLongerThanThePausesIsTheCallersError() async throws {
        let member = try FakeMember(refusals: .max)
        defer { member.stop() }
        let client = EtcdClient(endpoints: [EtcdEndpoint(host: "127.0.0.1", port: Int(member.port))])
        do {
            _ = try await client.get("some-key")
            Issue.record("a member that always refuses was taken for an answer")
        } catch {
            guard case .server(_, let code, let message) = error else { Issue.record("unexpected error \(error)"); return }
            #expect(code == 14 && message.contains("leader changed"))
        }
        // The first request and one after each of the five pauses.
        #expect(member.requests == 6)
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
