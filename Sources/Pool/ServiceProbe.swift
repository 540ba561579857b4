import Foundation
import KVWorkload
import LockstepSupport

/// One probe of a VM's service (``ProbeSpec``), blocking, bounded by `timeout`: the latency of a
/// right answer in seconds, or nil. A new connection each time, as a new client would see it.
enum ServiceProbe {
    static func run(_ spec: ProbeSpec, timeout: Double) -> Double? {
        let endpoint = Endpoint(host: spec.address, port: UInt16(clamping: spec.port))
        let started = monotonicSeconds()
        switch spec.kind {
        case .tcp:
            guard (try? HTTPExchange.connects(to: endpoint, timeout: timeout)) == true else { return nil }
        case .http:
            guard let answer = try? HTTPExchange.request("GET", to: endpoint, path: spec.path, timeout: timeout),
                  (200..<300).contains(answer.status) else { return nil }
        case .redis:
            guard let client = try? RedisClient(endpoint: endpoint, connectTimeout: timeout, requestTimeout: timeout) else { return nil }
            defer { client.close() }
            guard (try? client.ping()) == "PONG" else { return nil }
        case .console:
            // A client name of its own each time: the console is shared, and a late answer to
            // an earlier probe must not count for this one.
            let options = KVClient.Options(requestTimeout: timeout, connectTimeout: timeout, deadline: timeout, retryPause: timeout)
            guard let client = try? KVClient(endpoints: [endpoint], name: "probe\(UInt32.random(in: 0...UInt32.max))", options: options) else { return nil }
            defer { client.close() }
            guard (try? client.connect()) != nil else { return nil }
        }
        return monotonicSeconds() - started
    }
}
