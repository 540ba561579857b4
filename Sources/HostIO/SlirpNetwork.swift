import Foundation

/// `--netdev user`: libslirp's user-mode network stack, as QEMU's `-netdev user`. The guest sees
/// the network 10.0.2.0/24 with a gateway at 10.0.2.2 (which answers ARP, DHCP offers 10.0.2.15,
/// and leads to the outside world and to the host's loopback), and DNS at 10.0.2.3; its TCP and
/// UDP leave through ordinary sockets of this process, so no privileges are needed. Each
/// ``HostForward`` listens on a host port and connects whoever connects there to a guest port.
///
/// libslirp runs on a thread of its own with its own poll loop (``SlirpStack``): frames from the
/// guest (``send(_:)``, any thread) wait in a queue and wake that thread; frames for the guest come
/// out of libslirp into another queue, and `onFrame` rings. Nothing is created, bound or sent
/// before ``start(onFrame:)``; the forwards listen from then on. A connection through libslirp
/// ends on a socket of this process, so a failover to the other host keeps the service but not
/// the connections.
public final class SlirpNetwork: NetworkBackend, @unchecked Sendable {
    /// The guest's address (libslirp's first DHCP address).
    public static let guestAddress = "10.0.2.15"
    /// The gateway's address, which is also the host as seen from the guest.
    public static let gatewayAddress = "10.0.2.2"
    /// The DNS server's address (libslirp relays to the host's resolver).
    public static let nameServerAddress = "10.0.2.3"

    /// The port forwards, listening from ``start(onFrame:)`` on.
    public let forwards: [HostForward]

    private enum Phase { case ready, running, down, closed }

    private let lock = NSLock()
    private var phase = Phase.ready      // guarded by lock
    private var stack: SlirpStack?        // guarded by lock
    private var thread: HostThread?       // guarded by lock
    private let framesForGuest = FrameQueue()
    private let framesFromGuest = FrameQueue()

    /// A stack with these forwards; nothing is created until ``start(onFrame:)``.
    public init(forwards: [HostForward] = []) {
        self.forwards = forwards
    }

    deinit { close() }

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Creates the stack, listens on every forward's host port and starts the stack's thread.
    /// A second call does nothing (the first `onFrame` stays).
    ///
    /// - Throws: ``NetworkBackendError/hostPortInUse(forward:)`` or
    ///   ``NetworkBackendError/hostForwardFailed(forward:reason:)`` naming the forward that could
    ///   not listen (nothing is left listening then; the backend may start again), and
    ///   ``NetworkBackendError/stopped(_:)`` after ``takeDown()`` or ``close()``.
    public func start(onFrame: @escaping @Sendable () -> Void) throws(NetworkBackendError) {
        try locked { () throws(NetworkBackendError) in
            switch phase {
            case .running: return
            case .down, .closed: throw .stopped(summary)
            case .ready: break
            }
            let wake = try WakePipe()
            let stack = SlirpStack(framesForGuest: framesForGuest, framesFromGuest: framesFromGuest, wake: wake, onFrame: onFrame)
            try stack.open(forwards: forwards)
            framesForGuest.open()
            framesFromGuest.open()
            do throws(NetworkBackendError) {
                // The thread holds the stack, not this backend, so that dropping the backend
                // still runs deinit, which stops the thread.
                thread = try HostThread(name: "lockstep-slirp") { stack.run() }
            } catch {
                // Still ready (the queues stay open but nothing fills them): start may be retried.
                stack.cleanup()
                throw error
            }
            self.stack = stack
            phase = .running
        }
    }

    /// Frames for the guest received since the last call, oldest first.
    public func takeFrames() -> [[UInt8]] { framesForGuest.takeAll() }

    /// Whether frames for the guest are waiting.
    public var hasFrames: Bool { !framesForGuest.isEmpty }

    /// Hands a frame from the guest to libslirp (on its thread). Any thread; dropped before
    /// ``start(onFrame:)`` and after ``takeDown()``.
    public func send(_ frame: [UInt8]) {
        let stack: SlirpStack? = locked { phase == .running ? self.stack : nil }
        guard let stack, framesFromGuest.append(frame) else { return }
        stack.requestWake()
    }

    /// Stops the stack's thread and drops every waiting frame: when this returns, libslirp does
    /// nothing more (no frame in or out; connections stall, the forwards' ports stay bound until
    /// ``close()``). Not to be called from `onFrame`.
    public func takeDown() {
        let (stack, thread): (SlirpStack?, HostThread?) = locked {
            if phase == .ready || phase == .running { phase = .down }
            return (self.stack, self.thread)
        }
        framesFromGuest.shut()
        framesForGuest.shut()
        stack?.requestStop()
        thread?.join()
    }

    /// Takes the backend down and frees the stack: closes every socket, the forwards' too.
    /// Not to be called from `onFrame`.
    public func close() {
        takeDown()
        let stack: SlirpStack? = locked {
            phase = .closed
            defer { self.stack = nil; thread = nil }
            return self.stack
        }
        stack?.cleanup()
    }

    /// "user mode (10.0.2.0/24, guest 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3), hostfwd
    /// tcp:127.0.0.1:8080-:80".
    public var summary: String {
        let network = "user mode (10.0.2.0/24, guest \(Self.guestAddress), gateway \(Self.gatewayAddress), DNS \(Self.nameServerAddress))"
        if forwards.isEmpty { return network }
        return network + ", " + forwards.map { "hostfwd \($0)" }.joined(separator: ", ")
    }
}
