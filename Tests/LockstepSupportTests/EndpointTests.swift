import LockstepSupport
import Testing

/// One HOST:PORT rule for every flag that takes one.
@Suite struct EndpointTests {
    @Test func hostAndPortParse() throws {
        #expect(try Endpoint(parsing: "127.0.0.1:7000") == Endpoint(host: "127.0.0.1", port: 7000))
        #expect(try Endpoint(parsing: "arbiter.example:0") == Endpoint(host: "arbiter.example", port: 0))
        #expect(try Endpoint(parsing: "[::1]:7000") == Endpoint(host: "::1", port: 7000))
        #expect(try Endpoint(parsing: " 10.0.0.2:65535 ") == Endpoint(host: "10.0.0.2", port: 65535))
    }

    @Test func aBarePortMeansLoopback() throws {
        #expect(try Endpoint(parsing: "7000") == Endpoint(host: "127.0.0.1", port: 7000))
        #expect(try Endpoint(parsing: ":7001") == Endpoint(host: "127.0.0.1", port: 7001))
    }

    @Test func theDescriptionBracketsIPv6AndParsesBack() throws {
        #expect(Endpoint(host: "::1", port: 7000).description == "[::1]:7000")
        #expect(Endpoint(host: "127.0.0.1", port: 7000).description == "127.0.0.1:7000")
        for endpoint in [Endpoint(host: "::1", port: 1), Endpoint(host: "h", port: 2), Endpoint(host: "0.0.0.0", port: 0)] {
            #expect(try Endpoint(parsing: endpoint.description) == endpoint)
        }
    }

    @Test func badTextSaysWhatIsWrong() {
        let cases: [(String, EndpointError.Problem)] = [
            ("", .empty), ("  ", .empty), ("host", .missingPort), ("127.0.0.1", .missingPort), ("host:", .missingPort),
            ("host:70000", .invalidPort("70000")), ("host:-1", .invalidPort("-1")), ("host:port", .invalidPort("port")),
            ("host:+1", .invalidPort("+1")), ("::1:7000", .unbracketedIPv6), ("[::1]7001", .unclosedBracket),
            ("[::1", .unclosedBracket), ("[]:7000", .missingHost),
        ]
        for (text, problem) in cases {
            #expect(throws: EndpointError(text: text, problem: problem), "\(text)") { try Endpoint(parsing: text) }
        }
        let message = EndpointError(text: "nohost", problem: .missingPort).description
        #expect(message.contains("'nohost' is not HOST:PORT") && message.contains("127.0.0.1:7000"))
    }

    @Test func portZeroIsRefusedWhereAnEndpointIsConnectedTo() throws {
        #expect(try Endpoint(parsing: "host:0").port == 0)
        #expect(throws: EndpointError(text: "host:0", problem: .portZero)) { try Endpoint(parsing: "host:0", allowsPortZero: false) }
        #expect(try Endpoint(parsing: "host:1", allowsPortZero: false).port == 1)
    }

    @Test func listsAreCommaSeparated() throws {
        #expect(try Endpoint.list(parsing: "127.0.0.1:7001, 127.0.0.1:7002").map(\.port) == [7001, 7002])
        #expect(try Endpoint.list(parsing: "[::1]:1,2,") == [Endpoint(host: "::1", port: 1), Endpoint(host: "127.0.0.1", port: 2)])
        #expect(throws: EndpointError(text: "", problem: .empty)) { try Endpoint.list(parsing: "") }
        #expect(throws: EndpointError.self) { try Endpoint.list(parsing: "h:1,h:0", allowsPortZero: false) }
    }
}
