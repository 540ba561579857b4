import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The network namespaces of one lab (a ``NetworkLab``, a ``PoolLab``) and the processes run in
/// them: each namespace is named `<prefix>-<suffix>`, made with its loopback up, and deleted by
/// ``teardown()`` after the processes are killed, which also happens on SIGINT or SIGTERM
/// (``SignalTeardown``) and when the value goes away. Making one first removes the leftovers of
/// labs whose process died (``NetworkLab/removeStaleLabs()``).
///
/// Everything that a lab builds lives inside these namespaces (veths are made with both ends in
/// lab namespaces), so deleting them deletes every interface and bridge too.
final class LabNamespaces: @unchecked Sendable {
    /// The start of every namespace name.
    let prefix: String
    private let ip: String
    private let lock = NSLock()
    private var created: [String] = []
    private var processes: [NodeProcess] = []
    private var tornDown = false
    /// The teardown on SIGINT or SIGTERM, cancelled by ``teardown()``.
    private var signalRegistration: SignalTeardown.Registration?

    /// Checks that labs can be made here and removes the leftovers of dead labs; makes no
    /// namespace yet (``add(_:)`` does).
    init(prefix: String) throws(NetworkLabError) {
        if let reason = NetworkLab.unavailableReason { throw .unavailable(reason) }
        self.prefix = prefix
        ip = NetworkLab.ipExecutable ?? "ip"
        NetworkLab.removeStaleLabs()
        // Registered before the first namespace exists: a signal during a build deletes what was
        // made so far (and the build stops at its next step).
        let registration = SignalTeardown.shared.register { [weak self] in self?.teardown() }
        lock.withLock { signalRegistration = registration }
    }

    deinit {
        teardown()
    }

    /// The full name of the namespace with `suffix`.
    func name(_ suffix: String) -> String { "\(prefix)-\(suffix)" }

    /// Every namespace made (and not yet deleted), in the order they were made.
    var names: [String] { lock.withLock { created } }

    /// Makes the namespace `<prefix>-<suffix>` with its loopback up.
    func add(_ suffix: String) throws(NetworkLabError) {
        try checkNotTornDown()
        let output = try ShortCommand.run(ip, ["netns", "add", name(suffix)], timeout: 10)
        guard output.succeeded else { throw .commandFailed(output) }
        // A teardown that ran while `ip netns add` did has not seen this namespace.
        let kept = lock.withLock {
            if !tornDown { created.append(name(suffix)) }
            return !tornDown
        }
        guard kept else {
            _ = try? ShortCommand.run(ip, ["netns", "del", name(suffix)], timeout: 10)
            throw .tornDown(prefix: prefix)
        }
        try self.ip(suffix, ["link", "set", "lo", "up"])
    }

    /// Runs `ip -n <namespace> ARGUMENTS...`; throws when it fails.
    @discardableResult
    func ip(_ suffix: String, _ arguments: [String]) throws(NetworkLabError) -> CommandOutput {
        try checkNotTornDown()
        let output = try ShortCommand.run(ip, ["-n", name(suffix)] + arguments, timeout: 10)
        guard output.succeeded else { throw .commandFailed(output) }
        return output
    }

    /// Runs a short command in the namespace to its end (killed after `timeout` seconds).
    func run(in suffix: String, _ executable: String, _ arguments: [String], timeout: Double) throws(NetworkLabError) -> CommandOutput {
        try checkNotTornDown()
        return try ShortCommand.run(ip, ["netns", "exec", name(suffix), executable] + arguments, timeout: timeout)
    }

    /// A process that runs in the namespace when started; ``teardown()`` kills it.
    func process(in suffix: String, name processName: String, executable: String, arguments: [String],
                 directory: URL) throws(NetworkLabError) -> NodeProcess {
        let process = NodeProcess(name: processName, executable: executable, arguments: arguments, directory: directory,
                                  namespace: name(suffix))
        let accepted = lock.withLock {
            if !tornDown { processes.append(process) }
            return !tornDown
        }
        guard accepted else { throw .tornDown(prefix: prefix) }
        return process
    }

    /// Kills the processes for good (``NodeProcess/retire()``) and deletes the namespaces, newest
    /// first. Idempotent, and safe from another thread while the lab is in use. Returns the
    /// namespaces that could not be deleted.
    @discardableResult
    func teardown() -> [String] {
        let (processes, names, registration): ([NodeProcess], [String], SignalTeardown.Registration?) = lock.withLock {
            tornDown = true
            defer { self.processes = []; created = []; signalRegistration = nil }
            return (self.processes, created, signalRegistration)
        }
        for process in processes { process.retire() }
        var left: [String] = []
        for name in names.reversed() {
            let deleted = (try? ShortCommand.run(ip, ["netns", "del", name], timeout: 10))?.succeeded ?? false
            if !deleted && NetworkLab.namespaceNames().contains(name) { left.append(name) }
        }
        registration?.cancel()
        return left
    }

    func checkNotTornDown() throws(NetworkLabError) {
        if lock.withLock({ tornDown }) { throw .tornDown(prefix: prefix) }
    }
}
