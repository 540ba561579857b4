import HostIO
import Testing

/// `--netdev` values in QEMU's spelling, parsed without touching the host.
@Suite struct NetdevConfigurationTests {
    static let valid: [(String, NetdevConfiguration)] = [
        ("none", .init(backend: .none)),
        ("user", .init(backend: .user(forwards: []))),
        ("user,id=net0", .init(backend: .user(forwards: []), id: "net0")),
        ("user,hostfwd=tcp:127.0.0.1:8080-:80",
         .init(backend: .user(forwards: [HostForward(hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80)]))),
        // QEMU: an empty host address is INADDR_ANY.
        ("user,hostfwd=tcp::8080-:80",
         .init(backend: .user(forwards: [HostForward(hostAddress: "0.0.0.0", hostPort: 8080, guestPort: 80)]))),
        // QEMU: an empty protocol is tcp.
        ("user,hostfwd=:127.0.0.1:2222-:22",
         .init(backend: .user(forwards: [HostForward(hostAddress: "127.0.0.1", hostPort: 2222, guestPort: 22)]))),
        ("user,hostfwd=udp::5353-10.0.2.15:53",
         .init(backend: .user(forwards: [HostForward(transport: .udp, hostPort: 5353, guestAddress: "10.0.2.15", guestPort: 53)]))),
        ("user,hostfwd=tcp:127.0.0.1:2222-10.0.2.15:22,hostfwd=udp:0.0.0.0:6000-:6001,id=n1",
         .init(backend: .user(forwards: [
            HostForward(hostAddress: "127.0.0.1", hostPort: 2222, guestAddress: "10.0.2.15", guestPort: 22),
            HostForward(transport: .udp, hostAddress: "0.0.0.0", hostPort: 6000, guestPort: 6001),
         ]), id: "n1")),
        ("user,hostfwd=tcp:127.000.0.001:65535-:1",
         .init(backend: .user(forwards: [HostForward(hostAddress: "127.0.0.1", hostPort: 65535, guestPort: 1)]))),
        ("tap,ifname=lstap0", .init(backend: .tap(interfaceName: "lstap0"))),
        ("tap,id=t0,ifname=lstap0", .init(backend: .tap(interfaceName: "lstap0"), id: "t0")),
        ("tap,ifname=abcdefghijklmno", .init(backend: .tap(interfaceName: "abcdefghijklmno"))),
        ("bridge,br=br0", .init(backend: .bridge(bridge: "br0", interfaceName: nil))),
        ("bridge,br=br0,ifname=lstap7,id=b-1.x_y",
         .init(backend: .bridge(bridge: "br0", interfaceName: "lstap7"), id: "b-1.x_y")),
        ("bridge,ifname=lstap7,br=virbr0", .init(backend: .bridge(bridge: "virbr0", interfaceName: "lstap7"))),
    ]

    @Test(arguments: valid.indices)
    func parsesValidSpellings(_ index: Int) throws {
        let (value, expected) = Self.valid[index]
        let parsed = try NetdevConfiguration(parsing: value)
        #expect(parsed == expected, "\(value)")
        // The description is a spelling that parses back to the same configuration.
        #expect(try NetdevConfiguration(parsing: parsed.description) == parsed, "\(parsed.description)")
    }

    @Test func descriptionIsCanonical() throws {
        #expect(try NetdevConfiguration(parsing: "user,hostfwd=tcp::8080-:80,id=u").description == "user,id=u,hostfwd=tcp:0.0.0.0:8080-:80")
        #expect(try NetdevConfiguration(parsing: "bridge,ifname=t,br=b").description == "bridge,br=b,ifname=t")
        #expect(try NetdevConfiguration(parsing: "none").description == "none")
        #expect(HostForward(transport: .udp, hostAddress: "127.0.0.1", hostPort: 1, guestAddress: "10.0.2.9", guestPort: 2).description
                == "udp:127.0.0.1:1-10.0.2.9:2")
    }

    /// Malformed values and the part each error names.
    static let invalid: [(value: String, part: String)] = [
        ("", ""),
        ("vde", "vde"),
        ("User", "User"),
        ("socket,listen=:1234", "socket"),
        ("user,net=10.0.2.0/24", "net=10.0.2.0/24"),
        ("user,restrict", "restrict"),
        ("user,,id=a", "user,,id=a"),
        ("user,", "user,"),
        ("user,id=0abc", "id=0abc"),
        ("user,id=", "id="),
        ("user,id=a b", "id=a b"),
        ("user,id=a,id=b", "id=b"),
        ("none,id=x", "id=x"),
        ("tap", "tap"),
        ("tap,id=t", "tap,id=t"),
        ("tap,ifname=", "ifname="),
        ("tap,ifname=abcdefghijklmnop", "ifname=abcdefghijklmnop"),
        ("tap,ifname=a/b", "ifname=a/b"),
        ("tap,ifname=a b", "ifname=a b"),
        ("tap,ifname=a:b", "ifname=a:b"),
        ("tap,ifname=tap%d", "ifname=tap%d"),
        ("tap,ifname=..", "ifname=.."),
        ("tap,ifname=a,ifname=b", "ifname=b"),
        ("tap,br=br0", "br=br0"),
        ("tap,ifname=t,hostfwd=tcp::1-:2", "hostfwd=tcp::1-:2"),
        ("bridge", "bridge"),
        ("bridge,ifname=t0", "bridge,ifname=t0"),
        ("bridge,br=", "br="),
        ("bridge,br=b,br=c", "br=c"),
        ("user,hostfwd=tcp::8080:80", "hostfwd=tcp::8080:80"),
        ("user,hostfwd=tcp", "hostfwd=tcp"),
        ("user,hostfwd=tcp:8080-:80", "hostfwd=tcp:8080-:80"),
        ("user,hostfwd=sctp::1-:2", "hostfwd=sctp::1-:2"),
        ("user,hostfwd=tcp:1.2.3:80-:80", "hostfwd=tcp:1.2.3:80-:80"),
        ("user,hostfwd=tcp:256.0.0.1:80-:80", "hostfwd=tcp:256.0.0.1:80-:80"),
        ("user,hostfwd=tcp:localhost:80-:80", "hostfwd=tcp:localhost:80-:80"),
        ("user,hostfwd=tcp::0-:80", "hostfwd=tcp::0-:80"),
        ("user,hostfwd=tcp::65536-:80", "hostfwd=tcp::65536-:80"),
        ("user,hostfwd=tcp::0x50-:80", "hostfwd=tcp::0x50-:80"),
        ("user,hostfwd=tcp::+80-:80", "hostfwd=tcp::+80-:80"),
        ("user,hostfwd=tcp::-:80", "hostfwd=tcp::-:80"),
        ("user,hostfwd=tcp::80-:0", "hostfwd=tcp::80-:0"),
        ("user,hostfwd=tcp::80-:", "hostfwd=tcp::80-:"),
        ("user,hostfwd=tcp::80-10.0.2:22", "hostfwd=tcp::80-10.0.2:22"),
        ("user,hostfwd=tcp::80-10.0.2.15", "hostfwd=tcp::80-10.0.2.15"),
        ("user,hostfwd=tcp::80-:22:23", "hostfwd=tcp::80-:22:23"),
        ("user,hostfwd=unix:/tmp/s-:22", "hostfwd=unix:/tmp/s-:22"),
    ]

    @Test(arguments: invalid.indices)
    func rejectsMalformedSpellings(_ index: Int) {
        let (value, part) = Self.invalid[index]
        do {
            let parsed = try NetdevConfiguration(parsing: value)
            Issue.record("'\(value)' parsed as \(parsed)")
        } catch {
            guard case .invalidOption(let named, let reason) = error else {
                Issue.record("'\(value)': \(error)")
                return
            }
            #expect(named == part, "'\(value)'")
            #expect(!reason.isEmpty)
            #expect(error.description.hasPrefix("--netdev"), "\(error)")
        }
    }

    @Test func malformedHostForwardSaysWhatIsWrongAndHowToWriteIt() {
        #expect(throws: NetworkBackendError.invalidOption(
            "hostfwd=tcp::8080:80",
            reason: "no '-' between the host port and the guest part; write hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (for example hostfwd=tcp:127.0.0.1:8080-:80)")) {
            try NetdevConfiguration(parsing: "user,hostfwd=tcp::8080:80")
        }
        do {
            _ = try NetdevConfiguration(parsing: "user,hostfwd=tcp::8080:80")
        } catch {
            #expect(error.description == "--netdev: invalid 'hostfwd=tcp::8080:80': no '-' between the host port and the guest part; write hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (for example hostfwd=tcp:127.0.0.1:8080-:80)")
        }
    }

    @Test func errorsNameTheBadPart() {
        func reason(_ value: String) -> String {
            do {
                _ = try NetdevConfiguration(parsing: value)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(reason("vde") == "--netdev: invalid 'vde': unknown kind of backend; use user, tap, bridge or none")
        #expect(reason("user,net=10.0.2.0/24").contains("unknown option 'net'; user takes id=ID, hostfwd="))
        #expect(reason("tap,ifname=abcdefghijklmnop").contains("is 16 bytes long, Linux takes at most 15"))
        #expect(reason("tap").contains("tap needs ifname=NAME"))
        #expect(reason("bridge").contains("bridge needs br=BRIDGE"))
        #expect(reason("user,hostfwd=tcp::0-:80").contains("bad host port '0' (1-65535)"))
        #expect(reason("user,hostfwd=tcp::80-:99999").contains("bad guest port '99999' (1-65535)"))
        #expect(reason("user,hostfwd=sctp::1-:2").contains("unknown protocol 'sctp' (tcp or udp)"))
        #expect(reason("user,hostfwd=tcp:1.2.3:80-:80").contains("bad host address '1.2.3'"))
        #expect(reason("user,hostfwd=tcp::80-10.0.2:22").contains("bad guest address '10.0.2'"))
        #expect(reason("user,id=a,id=b").contains("id is given twice"))
    }

    @Test func defaultTapNameComesFromTheProcessID() {
        #expect(NetdevConfiguration.defaultTapName(processID: 4242) == "lstap4242")
        #expect(NetdevConfiguration.defaultTapName(processID: 4_194_304) == "lstap4194304")
        #expect(NetdevConfiguration.defaultTapName(processID: Int32.max).utf8.count == 15)
        #expect(NetdevConfiguration.isValidInterfaceName(NetdevConfiguration.defaultTapName(processID: Int32.max)))
    }
}
