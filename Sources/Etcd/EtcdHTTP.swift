import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One POST to one etcd member over HTTP/1.1 (swift-nio's codec): connect, send, read the whole
/// answer, close. Connecting and then the whole exchange each have `timeout`.
enum EtcdHTTP {
    /// The POST, made once more on a new connection if the first was closed before the request
    /// could be written (`ChannelError.ioOnClosedChannel`: etcd had not received it, so sending
    /// it again cannot apply it twice). A loaded test run once kept a task from running between
    /// its connect and its write long enough for the connection to be closed under it.
    static func post(_ endpoint: EtcdEndpoint, path: String, body: [UInt8], timeout: Duration) async throws(EtcdError) -> (status: Int, body: [UInt8]) {
        switch try await attempt(endpoint, path: path, body: body, timeout: timeout) {
        case .answered(let status, let answer): return (status, answer)
        case .closedBeforeSending:
            switch try await attempt(endpoint, path: path, body: body, timeout: timeout) {
            case .answered(let status, let answer): return (status, answer)
            case .closedBeforeSending:
                throw .unreachable(endpoints: [endpoint.description], reason: "the connection was closed before the request could be sent, twice")
            }
        }
    }

    private enum Attempt {
        case answered(status: Int, body: [UInt8])
        case closedBeforeSending
    }

    private static func attempt(_ endpoint: EtcdEndpoint, path: String, body: [UInt8], timeout: Duration) async throws(EtcdError) -> Attempt {
        let channel = try await connect(endpoint, timeout: timeout)
        let deadline = channel.channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [channel] in
            channel.channel.close(promise: nil)
        }
        let result: Result<(Int, [UInt8]), EtcdError>
        do {
            result = try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
                head.headers.add(name: "Host", value: "\(endpoint.host):\(endpoint.port)")
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: String(body.count))
                head.headers.add(name: "Connection", value: "close")
                try await outbound.write(.head(head))
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                try await outbound.write(.end(nil))
                var status: Int?
                var answer: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let response): status = Int(response.status.code)
                    case .body(let buffer): answer += buffer.readableBytesView
                    case .end:
                        guard let status else { return .failure(.malformedResponse(endpoint: endpoint.description, detail: "no status line")) }
                        return .success((status, answer))
                    }
                }
                return .failure(.unreachable(endpoints: [endpoint.description], reason: "the connection closed before the answer was complete"))
            }
        } catch let error as HTTPParserError {
            result = .failure(.malformedResponse(endpoint: endpoint.description, detail: "not HTTP (\(error))"))
        } catch ChannelError.ioOnClosedChannel {
            deadline.cancel()
            if (try? await deadline.futureResult.get()) != nil {
                throw .timeout(endpoint: endpoint.description, seconds: seconds(timeout))
            }
            return .closedBeforeSending
        } catch {
            result = .failure(.unreachable(endpoints: [endpoint.description], reason: "the connection failed: \(describe(error))"))
        }
        deadline.cancel()
        if case .failure = result, (try? await deadline.futureResult.get()) != nil {
            throw .timeout(endpoint: endpoint.description, seconds: seconds(timeout))
        }
        let (status, answer) = try result.get()
        return .answered(status: status, body: answer)
    }

    private static func connect(_ endpoint: EtcdEndpoint, timeout: Duration) async throws(EtcdError)
        -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeout))
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch ChannelError.connectTimeout {
            throw .timeout(endpoint: endpoint.description, seconds: seconds(timeout))
        } catch let error as NIOConnectionError {
            let reason = error.connectionErrors.first.map { describe($0.error) }
                ?? error.dnsAError.map { "cannot resolve \(endpoint.host): \($0)" } ?? "\(error)"
            throw .unreachable(endpoints: [endpoint.description], reason: reason)
        } catch {
            throw .unreachable(endpoints: [endpoint.description], reason: describe(error))
        }
    }

    /// A system call's error as its errno text ("Connection refused"), anything else as it describes itself.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
