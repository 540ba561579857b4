/// The host side of the machine's network card, whatever it is: libslirp's user-mode stack
/// (``SlirpNetwork``), a TAP device (``TapNetwork``, also attached to a bridge). Frames from the
/// host are inputs for the guest: the owner takes them with ``takeFrames()`` on its machine
/// thread and delivers each through the live runner (logged first). Frames from the guest are
/// outputs: the owner sends each with ``send(_:)`` once the output gate released it.
///
/// A backend is made (and its configuration checked) when the node starts, but neither sends
/// nor receives until ``start(onFrame:)``: a backup starts its backend only when it goes live.
public protocol NetworkBackend: AnyObject {
    /// Begins receiving and sending. `onFrame` is called, on any thread (usually the backend's
    /// own), whenever frames arrive, to wake the machine thread: it must not block, nor call
    /// ``takeDown()`` or ``close()``, which wait for that thread. Calling it twice is an error to
    /// avoid (the backends ignore the second call).
    ///
    /// - Throws: what the backend found wrong when it tried to go live (a host port in use, no
    ///   privileges to bring a TAP device up), or ``NetworkBackendError/stopped(_:)`` after
    ///   ``takeDown()`` or ``close()``.
    func start(onFrame: @escaping @Sendable () -> Void) throws(NetworkBackendError)

    /// Frames received since the last call, oldest first (Ethernet header onwards, no FCS).
    func takeFrames() -> [[UInt8]]

    /// Whether frames are waiting (without taking them).
    var hasFrames: Bool { get }

    /// Sends one frame from the guest to the host network. May be called from any thread;
    /// frames sent before ``start(onFrame:)`` or after ``takeDown()`` are dropped.
    func send(_ frame: [UInt8])

    /// Stops all traffic at once and for good (a node that lost the arbiter takes its TAP down
    /// before anything else): when this returns nothing more is sent or received.
    func takeDown()

    /// Takes the backend down (if it is not already) and releases every host resource: closes
    /// sockets, removes a TAP device this backend created, detaches one it attached to a bridge.
    /// Idempotent.
    func close()

    /// What it is, for logs ("tap ls0 on bridge br0", "user mode (10.0.2.0/24, ...), hostfwd
    /// tcp:127.0.0.1:8080-:80").
    var summary: String { get }
}
