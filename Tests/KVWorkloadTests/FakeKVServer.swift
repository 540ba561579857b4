import Foundation
import HostIO
import KVWorkload
import LockstepSupport

/// A key-value store that two fake servers can share: what replication gives a backup.
final class SharedStore: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: String] = [:]

    func set(_ key: String, _ value: String) { lock.withLock { values[key] = value } }
    func get(_ key: String) -> String? { lock.withLock { values[key] } }
    var count: Int { lock.withLock { values.count } }
}

/// An in-process stand-in for the guest's kvd behind `lockstep run --console-port`: it speaks the
/// protocol over a ``TCPConsole`` (so clients share one console, as on the real machine) and
/// misbehaves as its ``Script`` says. Requests are numbered from 1, SETs and GETs only (the
/// clients' COUNT probes do not count).
final class FakeKVServer: @unchecked Sendable {
    struct Script: Sendable {
        /// Apply request n, then disconnect every client before answering (the answer is lost).
        var dropBeforeAnswer: Set<Int> = []
        /// Apply request n, then stop listening for good without answering (the host died).
        var dieAt: Int?
        /// Called when the server dies (to make a backup live).
        var onDeath: (@Sendable () -> Void)?
        /// Acknowledge SET number n without applying it: a lost write.
        var loseWrite: Set<Int> = []
        /// Surround every answer with kernel-like lines, malformed `@kv` lines, other clients'
        /// answers and a late answer to the previous request, and split the answer in two writes.
        var noise = false
        /// Accept connections but answer nothing until ``FakeKVServer/goLive()`` (a backup).
        var silent = false
    }

    let store: SharedStore
    let port: UInt16
    private let lock = NSLock()
    private var script: Script
    private var running = true
    private var live: Bool
    private var requests = 0
    private var writes = 0
    private let done = DispatchSemaphore(value: 0)

    /// Starts serving on a free port of 127.0.0.1.
    init(store: SharedStore = SharedStore(), script: Script = Script()) throws {
        self.store = store
        self.script = script
        live = !script.silent
        let console = try TCPConsole()
        port = console.port
        let box = ConsoleBox(console)
        Thread.detachNewThread { [self] in serve(box.console) }
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    /// How many SETs and GETs were received.
    var requestCount: Int { lock.withLock { requests } }

    /// Starts answering (a silent backup goes live).
    func goLive() { lock.withLock { live = true } }

    /// Stops listening and drops every client; returns once the port is closed.
    func stop() {
        let wasRunning = lock.withLock { () -> Bool in
            defer { running = false }
            return running
        }
        if wasRunning { done.wait() }
    }

    deinit { stop() }

    /// Lets the console cross into the server's thread, which alone uses it from then on.
    private final class ConsoleBox: @unchecked Sendable {
        let console: TCPConsole
        init(_ console: TCPConsole) { self.console = console }
    }

    private func serve(_ console: TCPConsole) {
        var pending: [UInt8] = []
        var previousID = "none-0"
        defer {
            console.close()
            done.signal()
        }
        while lock.withLock({ running }) {
            pending += console.poll(timeout: 0.01).bytes
            guard lock.withLock({ live }) else {
                pending.removeAll()
                continue
            }
            while let newline = pending.firstIndex(where: { $0 == 10 || $0 == 13 }) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                let fields = line.split(separator: " ").map(String.init)
                guard !fields.isEmpty else { continue }
                let (answer, fault) = handle(fields)
                switch fault {
                case .none:
                    reply(answer, on: console, previousID: previousID)
                case .drop:
                    console.disconnectClients()
                    pending.removeAll()
                case .die:
                    let onDeath = lock.withLock { running = false; return script.onDeath }
                    console.close()
                    onDeath?()
                    return
                }
                if fields.count > 1 { previousID = fields[1] }
            }
        }
    }

    private enum Fault { case none, drop, die }

    /// Applies one request; the answer line and what to do instead of answering.
    private func handle(_ fields: [String]) -> (String, Fault) {
        lock.lock()
        defer { lock.unlock() }
        let id = fields.count > 1 ? fields[1] : "0"
        let answer: String
        switch (fields[0], fields.count) {
        case ("COUNT", 2):
            return ("@kv COUNT \(id) \(store.count)", .none)
        case ("SET", 4):
            writes += 1
            if !script.loseWrite.contains(writes) { store.set(fields[2], fields[3]) }
            answer = "@kv OK \(id)"
        case ("GET", 3):
            if fields[2] == "forbidden" { return ("@kv ERR \(id) no such luck", .none) }
            answer = store.get(fields[2]).map { "@kv VALUE \(id) \($0)" } ?? "@kv NONE \(id)"
        default:
            return ("@kv ERR \(id) unknown command", .none)
        }
        requests += 1
        if script.dieAt == requests { return (answer, .die) }
        if script.dropBeforeAnswer.contains(requests) { return (answer, .drop) }
        return (answer, .none)
    }

    private func reply(_ answer: String, on console: TCPConsole, previousID: String) {
        guard lock.withLock({ script.noise }) else {
            console.write(Array((answer + "\r\n").utf8))
            return
        }
        let noise = [
            "[   12.345678] random: crng init done",
            "@kv OK other-client-7",
            "@kv VALUE \(previousID) a-late-answer",
            "@kv OK \(previousID)",
            "@kv",
            "@kv VALUE",
            "~ # ",
        ]
        console.write(Array((noise.joined(separator: "\r\n") + "\r\n").utf8))
        let bytes = Array((answer + "\r\n").utf8)
        console.write(Array(bytes[..<(bytes.count / 2)]))
        usleep(2000)   // the halves arrive apart (the console sends without delay)
        console.write(Array(bytes[(bytes.count / 2)...]))
    }
}
