import CSlirp
import Foundation
import Synchronization

/// One libslirp stack and the poll loop that drives it, run by ``SlirpNetwork`` on a thread of its
/// own (``run()``).
///
/// libslirp is not thread-safe, and it keeps process-wide state besides each stack's own (the
/// clock reading `curtime`, the cache of the host's DNS address, its one-time initialisation) that
/// it reads and writes without locks; QEMU calls every stack from its one main loop. Here every
/// call into libslirp, for any stack, holds ``library``, so that several stacks in one process
/// (the tests run several at once) never race. libslirp calls the callbacks below only from within
/// those calls, so they run with ``library`` held too: the state they touch (``slirp``,
/// ``timers``) is guarded by it. ``pollDescriptors`` belongs to the loop thread alone (the poll
/// callbacks run on it, inside `slirp_pollfds_fill` and `slirp_pollfds_poll`).
///
/// The configuration is QEMU's default for `-netdev user`: the network 10.0.2.0/24, the host
/// (gateway) at 10.0.2.2, DNS at 10.0.2.3, the guest's DHCP address 10.0.2.15, `restrict=off`
/// (the guest may reach the outside and the host's loopback through 10.0.2.2); IPv4 only.
/// `SlirpConfig` version 4, the newest libslirp 4.7 knows (4.8 and 4.9 still take it): it brings
/// `init_completed` and `timer_new_opaque`, with which libslirp asks for a timer by id
/// (`SlirpTimerId`) and expects `slirp_handle_timer` (new in 4.7) when it fires, instead of
/// handing over a C callback; the only such timer in 4.7 is the IPv6 router advertisement's.
final class SlirpStack: @unchecked Sendable {
    /// Held for every call into libslirp (see the type's documentation).
    private static let library = NSLock()

    /// The stack (`Slirp *`); nil before ``open(forwards:)`` and after ``cleanup()``. Guarded by ``library``.
    private var slirp: OpaquePointer?
    /// The callbacks, at an address that stays valid while the stack lives: libslirp keeps the
    /// pointer given to `slirp_new` and reads it on every callback. Freed in deinit, after
    /// ``cleanup()``.
    private let callbacks: UnsafeMutablePointer<SlirpCb>
    /// The timers libslirp made, by the handle it was given. Guarded by ``library``.
    private var timers: [UnsafeMutableRawPointer: Timer] = [:]
    /// What the loop polls: the wake-up socket first, then libslirp's sockets. Loop thread only.
    private var pollDescriptors: [pollfd] = []
    /// Whether a frame went to the guest since the owner was last told. Guarded by ``library``.
    private var delivered = false

    private let framesForGuest: FrameQueue
    private let framesFromGuest: FrameQueue
    private let wake: WakePipe
    private let onFrame: @Sendable () -> Void
    private let stopRequested = Atomic<Bool>(false)

    /// A timer libslirp asked for: which one, its argument, and when it fires (milliseconds on
    /// ``nanoseconds()``'s clock; nil: not armed).
    private final class Timer {
        let id: SlirpTimerId
        let argument: UnsafeMutableRawPointer?
        var deadline: Int64?
        init(id: SlirpTimerId, argument: UnsafeMutableRawPointer?) {
            self.id = id
            self.argument = argument
        }
    }

    /// A stack that will put frames for the guest into `framesForGuest` (calling `onFrame`, outside
    /// every lock, after each batch), take frames from the guest from `framesFromGuest`, and wait
    /// in poll for `wake` besides its sockets. Nothing is created until ``open(forwards:)``.
    init(framesForGuest: FrameQueue, framesFromGuest: FrameQueue, wake: WakePipe, onFrame: @escaping @Sendable () -> Void) {
        self.framesForGuest = framesForGuest
        self.framesFromGuest = framesFromGuest
        self.wake = wake
        self.onFrame = onFrame
        callbacks = .allocate(capacity: 1)
        callbacks.initialize(to: Self.makeCallbacks())
    }

    deinit {
        cleanup()
        callbacks.deinitialize(count: 1)
        callbacks.deallocate()
    }

    /// Creates the stack and listens on every forward's host port.
    ///
    /// - Throws: ``NetworkBackendError/hostPortInUse(forward:)`` or
    ///   ``NetworkBackendError/hostForwardFailed(forward:reason:)`` for the first forward that
    ///   could not listen (the stack is cleaned up then), ``NetworkBackendError/systemCall(_:reason:)``
    ///   if libslirp refused the configuration.
    func open(forwards: [HostForward]) throws(NetworkBackendError) {
        do {
            try Self.withLibrary { () throws(NetworkBackendError) in
                var config = SlirpConfig()
                config.version = 4
                config.restricted = 0
                config.in_enabled = true
                config.vnetwork = Self.address(0x0a00_0200)      // 10.0.2.0
                config.vnetmask = Self.address(0xffff_ff00)      // 255.255.255.0
                config.vhost = Self.address(0x0a00_0202)         // 10.0.2.2
                config.vdhcp_start = Self.address(0x0a00_020f)   // 10.0.2.15
                config.vnameserver = Self.address(0x0a00_0203)   // 10.0.2.3
                config.in6_enabled = false
                // Sound: libslirp calls back with this pointer only from within calls made while
                // this stack exists (it is an instance method's `self`), and `cleanup()` ends the
                // Slirp before deinit can run.
                let context = Unmanaged.passUnretained(self).toOpaque()
                // init_completed sets `slirp` during the call already (timers may be made then).
                guard let created = slirp_new(&config, callbacks, context) else {
                    throw .systemCall("slirp_new", reason: "libslirp refused the configuration")
                }
                slirp = created
                for forward in forwards {
                    try add(forward, to: created)
                }
            }
        } catch {
            cleanup()
            throw error
        }
    }

    /// Wakes ``run()`` to take the frames from the guest waiting.
    func requestWake() { wake.wake() }

    /// Asks ``run()`` to return (soon: it is woken).
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        wake.wake()
    }

    /// Ends the stack: closes its sockets (the forwards' listening ones too) and the wake-up
    /// socket, and frees it. Call once ``run()`` returned (or never ran). Idempotent.
    func cleanup() {
        Self.withLibrary {
            if let slirp {
                slirp_cleanup(slirp)
                self.slirp = nil
            }
            timers = [:]
        }
        wake.close()
    }

    /// The loop: feeds frames from the guest to libslirp, fires its timers, and polls its sockets
    /// and the wake-up socket, until ``requestStop()``.
    func run() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        while !stopRequested.load(ordering: .acquiring) {
            wake.drain()
            var timeout = UInt32.max
            let armed = Self.withLibrary { () -> Bool in
                guard let slirp else { return false }
                for frame in framesFromGuest.takeAll() {
                    frame.withUnsafeBufferPointer { slirp_input(slirp, $0.baseAddress, Int32($0.count)) }
                }
                fireTimers(slirp)
                pollDescriptors.removeAll(keepingCapacity: true)
                pollDescriptors.append(pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0))
                // Sound: `context` is this stack, alive for the whole call (the loop is its method).
                slirp_pollfds_fill(slirp, &timeout, { descriptor, events, context in
                    SlirpStack.from(context).addPoll(descriptor, events)
                }, context)
                return true
            }
            guard armed else { return }
            tellOwner()
            let wait = min(Int64(timeout), millisecondsToNextTimer())
            let ready = poll(&pollDescriptors, nfds_t(pollDescriptors.count), Int32(clamping: wait))
            let failed: Int32 = ready < 0 ? 1 : 0
            Self.withLibrary {
                guard let slirp else { return }
                slirp_pollfds_poll(slirp, failed, { index, context in
                    SlirpStack.from(context).returnedEvents(index)
                }, context)
            }
            tellOwner()
        }
    }

    // MARK: - Forwards

    /// Listens for `forward` (called with ``library`` held).
    private func add(_ forward: HostForward, to slirp: OpaquePointer) throws(NetworkBackendError) {
        var host = sockaddr_in()
        host.sin_family = sa_family_t(AF_INET)
        host.sin_port = forward.hostPort.bigEndian
        inet_pton(AF_INET, forward.hostAddress, &host.sin_addr)
        var guest = sockaddr_in()
        guest.sin_family = sa_family_t(AF_INET)
        guest.sin_port = forward.guestPort.bigEndian
        // 0.0.0.0 (the default): libslirp substitutes the guest's DHCP address, 10.0.2.15.
        if let address = forward.guestAddress { inet_pton(AF_INET, address, &guest.sin_addr) }
        let flags: Int32 = forward.transport == .udp ? Int32(SLIRP_HOSTFWD_UDP) : 0
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let status = withUnsafePointer(to: &host) { hostPointer in
            withUnsafePointer(to: &guest) { guestPointer in
                hostPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { hostAddress in
                    guestPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { guestAddress in
                        slirp_add_hostxfwd(slirp, hostAddress, size, guestAddress, size, flags)
                    }
                }
            }
        }
        guard status == 0 else {
            // libslirp's tcpx_listen/udpx_listen keep bind's errno ("On failure errno contains the reason").
            let code = errno
            if code == EADDRINUSE { throw .hostPortInUse(forward: forward.description) }
            throw .hostForwardFailed(forward: forward.description, reason: String(cString: strerror(code)))
        }
    }

    // MARK: - The loop's pieces

    /// Tells the owner that frames arrived, if any did since the last time (outside every lock:
    /// `onFrame` is the owner's code).
    private func tellOwner() {
        let any = Self.withLibrary { () -> Bool in
            defer { delivered = false }
            return delivered
        }
        if any { onFrame() }
    }

    /// Fires every armed timer whose deadline passed (with ``library`` held). A timer disarms
    /// before it fires; its handler may re-arm or free it, or others.
    private func fireTimers(_ slirp: OpaquePointer) {
        let now = Self.nanoseconds() / 1_000_000
        let due = timers.filter { $0.value.deadline.map { $0 <= now } ?? false }
        for (handle, timer) in due {
            guard timers[handle] === timer else { continue }   // freed by an earlier handler
            timer.deadline = nil
            slirp_handle_timer(slirp, timer.id, timer.argument)
        }
    }

    /// How long until the next armed timer fires, in milliseconds (Int64.max when none is armed).
    private func millisecondsToNextTimer() -> Int64 {
        Self.withLibrary {
            guard let next = timers.values.compactMap(\.deadline).min() else { return Int64.max }
            return max(0, next - Self.nanoseconds() / 1_000_000)
        }
    }

    private func addPoll(_ descriptor: Int32, _ events: Int32) -> Int32 {
        var pollEvents: Int32 = 0
        if events & Int32(SLIRP_POLL_IN) != 0 { pollEvents |= Int32(POLLIN) }
        if events & Int32(SLIRP_POLL_OUT) != 0 { pollEvents |= Int32(POLLOUT) }
        if events & Int32(SLIRP_POLL_PRI) != 0 { pollEvents |= Int32(POLLPRI) }
        // ERR and HUP are reported whether asked for or not.
        pollDescriptors.append(pollfd(fd: descriptor, events: Int16(pollEvents), revents: 0))
        return Int32(pollDescriptors.count - 1)
    }

    private func returnedEvents(_ index: Int32) -> Int32 {
        guard index >= 0, Int(index) < pollDescriptors.count else { return 0 }
        let returned = Int32(pollDescriptors[Int(index)].revents)
        var events: Int32 = 0
        if returned & Int32(POLLIN) != 0 { events |= Int32(SLIRP_POLL_IN) }
        if returned & Int32(POLLOUT) != 0 { events |= Int32(SLIRP_POLL_OUT) }
        if returned & Int32(POLLPRI) != 0 { events |= Int32(SLIRP_POLL_PRI) }
        if returned & Int32(POLLERR) != 0 { events |= Int32(SLIRP_POLL_ERR) }
        if returned & Int32(POLLHUP) != 0 { events |= Int32(SLIRP_POLL_HUP) }
        return events
    }

    // MARK: - Callbacks (called by libslirp with `library` held)

    /// The stack behind a callback's context pointer. Sound: every context pointer libslirp hands
    /// back is the one this type gave it (`slirp_new`, `slirp_pollfds_fill`, `slirp_pollfds_poll`),
    /// an unretained reference to a stack that is alive: callbacks come only from within calls
    /// this stack makes, and the stack frees its Slirp (``cleanup()``) before it can be freed.
    private static func from(_ context: UnsafeMutableRawPointer?) -> SlirpStack {
        Unmanaged<SlirpStack>.fromOpaque(context!).takeUnretainedValue()
    }

    /// C function pointers cannot capture: each callback finds its stack through the context.
    private static func makeCallbacks() -> SlirpCb {
        var callbacks = SlirpCb()
        callbacks.send_packet = { bytes, count, context in
            // Sound: libslirp passes `count` readable bytes at `bytes`, valid during the call; they
            // are copied before it returns.
            guard let bytes else { return 0 }
            let frame = [UInt8](UnsafeRawBufferPointer(start: bytes, count: count))
            let stack = SlirpStack.from(context)
            if stack.framesForGuest.append(frame) { stack.delivered = true }
            return count   // accepted, or dropped like a busy card would (TCP retransmits)
        }
        callbacks.guest_error = { _, _ in
            // A guest's malformed packet: libslirp drops it. Nothing for the host to do.
        }
        callbacks.clock_get_ns = { _ in SlirpStack.nanoseconds() }
        callbacks.init_completed = { slirp, context in
            SlirpStack.from(context).slirp = slirp
        }
        callbacks.timer_new_opaque = { id, argument, context in
            let stack = SlirpStack.from(context)
            let timer = Timer(id: id, argument: argument)
            // The handle is the timer's address; `timers` keeps it alive until timer_free, and the
            // handle is only ever used as a key, never dereferenced.
            let handle = Unmanaged.passUnretained(timer).toOpaque()
            stack.timers[handle] = timer
            return handle
        }
        callbacks.timer_free = { handle, context in
            guard let handle else { return }
            SlirpStack.from(context).timers[handle] = nil
        }
        callbacks.timer_mod = { handle, deadline, context in
            guard let handle else { return }
            SlirpStack.from(context).timers[handle]?.deadline = deadline
        }
        // On Unix every socket is polled through slirp_pollfds_fill; there is nothing to register
        // (QEMU's callbacks do something only on Windows).
        callbacks.register_poll_fd = { _, _ in }
        callbacks.unregister_poll_fd = { _, _ in }
        callbacks.notify = { context in
            // A socket can take more data: poll again at once. Called on the loop thread, from
            // within a libslirp call, so the next fill sees it anyway; the wake-up costs nothing.
            SlirpStack.from(context).wake.wake()
        }
        return callbacks
    }

    // MARK: - Helpers

    private static func withLibrary<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        library.lock()
        defer { library.unlock() }
        return try body()
    }

    /// CLOCK_MONOTONIC in nanoseconds: libslirp's clock for its TCP timers and ours.
    private static func nanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// An IPv4 address in network byte order, from its value in host order.
    private static func address(_ value: UInt32) -> in_addr {
        in_addr(s_addr: value.bigEndian)
    }
}
