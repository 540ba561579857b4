import Foundation

/// Frames waiting to be taken, between two threads: a backend's own thread and the machine thread
/// (frames for the guest), or any thread and the backend's thread (frames from the guest). A
/// queue starts shut, opens once, and shuts for good; a shut queue drops what it holds and
/// everything appended later. Like a network card's ring, it holds at most ``capacity`` frames and
/// drops new ones beyond that (TCP retransmits; the guest's own card drops the same way).
final class FrameQueue: @unchecked Sendable {
    /// How many frames may wait.
    let capacity: Int

    private let lock = NSLock()
    private var frames: [[UInt8]] = []     // guarded by lock
    private var isOpen = false              // guarded by lock
    private var wasShut = false             // guarded by lock
    private var dropped = 0                 // guarded by lock

    init(capacity: Int = 4096) { self.capacity = max(1, capacity) }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// Starts accepting frames (unless the queue was shut already). Whether it is open now.
    @discardableResult
    func open() -> Bool {
        locked {
            if !wasShut { isOpen = true }
            return isOpen
        }
    }

    /// Drops every waiting frame and every frame appended from now on.
    func shut() {
        locked {
            isOpen = false
            wasShut = true
            frames = []
        }
    }

    /// Whether frames are accepted.
    var isAccepting: Bool { locked { isOpen } }

    /// Appends a frame; false if it was dropped (the queue is shut, or full).
    @discardableResult
    func append(_ frame: [UInt8]) -> Bool {
        locked {
            guard isOpen else { return false }
            guard frames.count < capacity else {
                dropped += 1
                return false
            }
            frames.append(frame)
            return true
        }
    }

    /// Every waiting frame, oldest first; the queue is empty afterwards.
    func takeAll() -> [[UInt8]] {
        locked {
            defer { frames = [] }
            return frames
        }
    }

    /// Whether frames are waiting.
    var isEmpty: Bool { locked { frames.isEmpty } }

    /// How many frames were dropped because the queue was full.
    var droppedCount: Int { locked { dropped } }
}
