import Arbitration
import Etcd
import ArgumentParser
import Dispatch
import LockstepSupport

/// `lockstep arbiter`: runs the built-in arbiter server in the foreground, or shows or claims a
/// VM's generation at an arbiter server or in a lock file.
struct ArbiterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arbiter",
        abstract: "Run the arbiter that decides which host may run a VM, or ask it.",
        discussion: """
            Serve:  lockstep arbiter --listen HOST:PORT --state FILE --key-file FILE
            Show:   lockstep arbiter --show VM (--connect HOST:PORT --key-file FILE | --lock-file FILE | --etcd URL,...)
            Claim:  lockstep arbiter --claim VM --expected N --owner NODE (--connect HOST:PORT --key-file FILE | --lock-file FILE | --etcd URL,...)

            The server keeps every VM's generation and owner in --state (created if missing) and \
            prints "lockstep arbiter: listening on HOST:PORT" to standard error when it is ready \
            (port 0 picks a free port). The key file holds the cluster's shared secret (any bytes; \
            trailing line ends are ignored, as by `lockstep node`); nodes with another key are refused. With --lock-file, \
            --show and --claim use a file arbiter's lock file, or the state file of a server that \
            is stopped (--show also of a running one). See docs/arbitration.md.

            Exit status: 0 when served, shown or won; 3 when a claim lost; 1 on errors.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Serve: the address to listen on.", valueName: "host:port"))
    var listen: String?

    @Option(name: .long, help: ArgumentHelp("Serve: the state file.", valueName: "path"))
    var state: String?

    @Option(name: .customLong("key-file"), help: ArgumentHelp("The file holding the shared key.", valueName: "path"))
    var keyFile: String?

    @Option(name: .long, help: ArgumentHelp("Print this VM's generation and owner.", valueName: "vm"))
    var show: String?

    @Option(name: .long, help: ArgumentHelp("Claim this VM (compare-and-set its generation).", valueName: "vm"))
    var claim: String?

    @Option(name: .long, help: ArgumentHelp("Claim: the generation the VM must be at.", valueName: "n"))
    var expected: UInt64?

    @Option(name: .long, help: ArgumentHelp("Claim: the node id that will own the VM.", valueName: "node"))
    var owner: String?

    @Option(name: .long, help: ArgumentHelp("Show or claim at the arbiter server at this address.", valueName: "host:port"))
    var connect: String?

    @Option(name: .customLong("lock-file"), help: ArgumentHelp("Show or claim in this lock file (or state file).", valueName: "path"))
    var lockFile: String?

    @Option(name: .long, help: ArgumentHelp("Show or claim in this etcd v3 cluster (its members' client URLs, comma-separated).", valueName: "http://host:port,..."))
    var etcd: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the arbiter server (connecting, then answering).", valueName: "seconds"))
    var timeout: Double = 2

    func validate() throws {
        let modes = [listen != nil, show != nil, claim != nil].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --listen, --show and --claim") }
        if listen != nil {
            guard state != nil, keyFile != nil else { throw ValidationError("--listen needs --state and --key-file") }
            guard connect == nil, lockFile == nil, etcd == nil else {
                throw ValidationError("--listen serves; --connect, --lock-file and --etcd are for --show and --claim")
            }
        } else {
            guard [connect != nil, lockFile != nil, etcd != nil].filter({ $0 }).count == 1 else {
                throw ValidationError("give one of --connect HOST:PORT, --lock-file FILE and --etcd URL[,URL...]")
            }
            do { _ = try etcd.map(EtcdEndpoint.list) } catch { throw ValidationError("--etcd: \(error)") }
            guard connect == nil || keyFile != nil else { throw ValidationError("--connect needs --key-file") }
        }
        if claim != nil {
            guard expected != nil, owner != nil else { throw ValidationError("--claim needs --expected and --owner") }
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    @Flag(name: .long, help: "Exit when the process that started this one exits (for test harnesses and supervisors).")
    var exitWithParent = false

    func run() throws {
        if exitWithParent { ParentWatch.start() }
        let status = waitFor { [self] in
            do throws(ArbitrationError) {
                if let listen { return try await serve(listen) }
                let arbiter = try makeArbiter()
                if let show { return try await Self.show(show, at: arbiter) }
                return try await Self.claim(claim!, expected: expected!, owner: owner!, at: arbiter)
            } catch {
                printError("lockstep arbiter: \(error)")
                return 1
            }
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// Runs the server until the process is stopped.
    private func serve(_ listen: String) async throws(ArbitrationError) -> Int32 {
        let address = try Self.endpoint(listen, allowsPortZero: true)
        let key = try SharedKey(contentsOfFile: keyFile!)
        let server = try await ArbiterServer.start(listeningOn: address, statePath: state!, key: key)
        printError("lockstep arbiter: listening on \(server.address)")
        await server.waitUntilStopped()
        return 0
    }

    private func makeArbiter() throws(ArbitrationError) -> any Arbiter {
        if let lockFile { return FileArbiter(path: lockFile) }
        if let etcd {
            let endpoints: [EtcdEndpoint]
            do { endpoints = try EtcdEndpoint.list(etcd) } catch { throw .invalidAddress("\(error)") }
            return EtcdArbiter(client: EtcdClient(endpoints: endpoints, timeout: .milliseconds(Int64(timeout * 1000))))
        }
        let address = try Self.endpoint(connect!, allowsPortZero: false)
        return RemoteArbiter(host: address.host, port: address.port, key: try SharedKey(contentsOfFile: keyFile!),
                             timeout: .milliseconds(Int64(timeout * 1000)))
    }

    /// `text` as an endpoint; an error of the arbiter's kind if it is not one.
    private static func endpoint(_ text: String, allowsPortZero: Bool) throws(ArbitrationError) -> Endpoint {
        do throws(EndpointError) {
            return try Endpoint(parsing: text, allowsPortZero: allowsPortZero)
        } catch {
            throw .invalidAddress(error.description)
        }
    }

    private static func show(_ vm: String, at arbiter: any Arbiter) async throws(ArbitrationError) -> Int32 {
        let (generation, owner) = try await arbiter.current(vm: vm)
        print(generation == 0 ? "\(vm): never claimed (generation 0)" : "\(vm): generation \(generation), owner \(owner)")
        return 0
    }

    private static func claim(_ vm: String, expected: UInt64, owner: String, at arbiter: any Arbiter) async throws(ArbitrationError) -> Int32 {
        switch try await arbiter.claim(vm: vm, expectedGeneration: expected, owner: owner) {
        case .won(let generation):
            print("\(vm): won generation \(generation)")
            return 0
        case .lost(let generation, let winner):
            print("\(vm): lost: generation \(generation), owner \(winner)")
            return 3
        }
    }
}

/// Runs `body` on the Swift concurrency pool and blocks until it returns its exit status: the
/// root command is a synchronous `ParsableCommand`, so its subcommands cannot be
/// `AsyncParsableCommand`s.
func waitFor(_ body: @escaping @Sendable () async -> Int32) -> Int32 {
    let status = ExitStatusBox()
    let done = DispatchSemaphore(value: 0)
    Task {
        status.value = await body()
        done.signal()
    }
    done.wait()
    return status.value
}

/// Carries the status out of the task: written before the semaphore is signalled, read after the
/// wait, which orders the two.
private final class ExitStatusBox: @unchecked Sendable {
    var value: Int32 = 1
}
