import Machine

/// The live side of the determinism boundary, one engine for `lockstep run`, `lockstep run
/// --record` and a replicated primary: runs the machine in slices, logs every input into the
/// ``Journal`` before the machine sees it, lets guest time follow the host's clock while the
/// guest idles (and logs how far it moved as an input), puts a ``Checkpoint`` into the journal at
/// regular counts, and hands every output to the ``OutputSink`` tagged with the journal position
/// it depends on: that of the last input logged before the guest produced it (progress records
/// and checkpoints change nothing the guest computes, so an output never waits for them).
///
/// The owner drives it: ``deliver(_:)`` for each input from the host, ``step(limit:)`` to run a
/// slice, and when a step says the guest idles, waits (for an input, or until the step's
/// deadline) before the next call. The runner never blocks and reads time only through the
/// clock it is given, so a simulation can drive it with a virtual clock.
public final class LiveRunner {
    /// Tunables.
    public struct Settings: Sendable {
        /// Instructions per slice between looks at the host.
        public var slice: UInt64 = 2_000_000
        /// The slice for a machine with a network backend: a frame from the host waits for the
        /// slice under way to end (the interpreter is not interrupted mid-slice), so the slice
        /// bounds what a busy guest adds to a request's latency: 200,000 instructions are about
        /// 0.3-0.4 ms at this interpreter's speed.
        public static let networkSlice: UInt64 = 200_000
        /// A checkpoint at least this often (in instructions).
        public var checkpointInterval: UInt64 = 100_000_000
        /// The longest wait of an idle guest before the owner looks again (seconds).
        public var maximumIdleWait: Double = 0.5
        /// The largest console input in one record (bigger inputs become several).
        public var maximumInputChunk: Int = 64 << 10
        /// Guest time ticks per host second while the guest idles (the platform's timebase).
        public var timebaseFrequency: Double = Double(PlatformDescription.defaultTimebaseFrequency)
        /// Whether guest time follows the host's clock while the guest idles (a kernel, a
        /// replicated machine). When false (a bare-metal program run on its own), an idle guest
        /// has its time jumped straight to its timer's deadline, without waiting, and a guest
        /// that idles with no timer armed stops (``Machine/StopReason/idle``). Either way the
        /// move is a logged input, so a follower reproduces it.
        public var idlesInRealTime = true
        /// Whether a guest that asks for a reset is rebooted (``Machine/reboot()``, logged as
        /// ``MachineInput/reboot`` at the count where it asked) and goes on, as a kernel's
        /// `reboot` expects, or stops (``Step/stopped(_:)`` with
        /// ``Machine/StopReason/resetRequested``), as a bare-metal test program run on its own does.
        public var rebootsOnReset = true

        public init() {}
    }

    /// What a step did.
    public enum Step: Equatable, Sendable {
        /// A slice ran; call again.
        case ran
        /// The guest waits for an interrupt: wait until `deadline` (host clock) or until an input
        /// arrives, then call again. `timerArmed` is false when only an input can wake the guest.
        case idle(deadline: Double, timerArmed: Bool)
        /// The guest asked for a reset and the machine rebooted (the reboot is in the journal,
        /// at the count where the guest asked); call again.
        case rebooted
        /// The guest's disk completed a flush at this count (the machine was asked to stop
        /// there: ``Machine/stopsAtDiskFlush``); the progress mark up to it is in the journal.
        case flushed(at: UInt64)
        /// The machine stopped (power-off, a reset without ``Settings/rebootsOnReset``, the
        /// instruction limit).
        case stopped(Machine.StopReason)
    }

    public let machine: Machine
    public let journal: any Journal
    public let outputs: any OutputSink
    public let settings: Settings
    private let clock: () -> Double
    private var nextCheckpoint: UInt64
    /// When the guest started idling, how far its timer was then (nil: no timer armed) and when
    /// the clock reaches it (the deadline the step returned, if the timer's).
    private var idling: (start: Double, ticks: UInt64?, deadline: Double)?
    /// Every output emitted so far.
    public private(set) var outputDigest = OutputDigest()
    /// Journal position of the last input logged (what every output produced from now on depends on).
    private var lastInputPosition: UInt64
    /// Frames from the host the guest has no receive buffer for yet, oldest first (``pendingFrames``).
    private var framesWaiting: [[UInt8]] = []
    private var framesWaitingStart = 0
    /// How many frames wait for receive buffers at most; beyond, the oldest are dropped, as a NIC
    /// drops what its ring cannot hold.
    public static let maximumWaitingFrames = 1024
    /// Frames dropped because too many waited.
    public private(set) var droppedFrames = 0

    /// Takes over `machine`'s output sink and idle handling.
    /// `outputDigest` is what the machine had sent before (a backup going live continues its follower's).
    public init(machine: Machine, journal: any Journal, outputs: any OutputSink, settings: Settings = Settings(),
                outputDigest: OutputDigest = OutputDigest(), clock: @escaping () -> Double) {
        self.outputDigest = outputDigest
        self.machine = machine
        self.journal = journal
        self.outputs = outputs
        self.settings = settings
        self.clock = clock
        lastInputPosition = journal.position
        let interval = max(1, settings.checkpointInterval)
        nextCheckpoint = (machine.instructionCount / interval + 1) &* interval
        machine.skipsIdleTime = false
        machine.onOutput = { [unowned self] output in
            self.outputDigest.add(output)
            self.outputs.emit(output, after: self.lastInputPosition)
        }
    }

    /// Whether the guest is idling (the last step returned ``Step/idle(deadline:timerArmed:)``).
    public var isIdle: Bool { idling != nil }

    /// Logs `input` at the current count, then applies it. Ends an idle period first, so that the
    /// time the guest waited is logged before what woke it.
    ///
    /// A network frame waits (unlogged) until the guest has a receive buffer for it, as frames
    /// wait in QEMU's net queue: delivered at once if it can, else at the next step at which the
    /// guest has posted buffers (see ``pendingFrames``).
    public func deliver(_ input: MachineInput) throws {
        if case .networkFrame(let frame) = input {
            framesWaiting.append(frame)
            if framesWaiting.count - framesWaitingStart > Self.maximumWaitingFrames {
                framesWaitingStart += 1
                droppedFrames += 1
            }
            try deliverWaitingFrames()
            return
        }
        try endIdle()
        if case .consoleBytes(let bytes) = input, bytes.count > settings.maximumInputChunk {
            var start = 0
            while start < bytes.count {
                let end = min(start + settings.maximumInputChunk, bytes.count)
                try logAndApply(.consoleBytes(Array(bytes[start..<end])))
                start = end
            }
        } else {
            try logAndApply(input)
        }
    }

    /// Frames waiting for the guest's receive buffers.
    public var pendingFrames: Int { framesWaiting.count - framesWaitingStart }

    /// Delivers waiting frames while the guest has receive buffers for them.
    private func deliverWaitingFrames() throws {
        guard framesWaitingStart < framesWaiting.count, machine.network.canReceive else { return }
        try endIdle()
        while framesWaitingStart < framesWaiting.count, machine.network.canReceive {
            let frame = framesWaiting[framesWaitingStart]
            framesWaitingStart += 1
            try logAndApply(.networkFrame(frame))
        }
        if framesWaitingStart == framesWaiting.count || framesWaitingStart > 256 {
            framesWaiting.removeFirst(framesWaitingStart)
            framesWaitingStart = 0
        }
    }

    private func logAndApply(_ input: MachineInput) throws {
        if machine.isResetRequested, settings.rebootsOnReset, input != .reboot {
            // A machine handed over stopped at a reset request (a backup that went live before its
            // primary logged the reboot): reboot it first, so no input lands between the two.
            try logAndApply(.reboot)
        }
        try journal.append(.input(Event(instructionCount: machine.instructionCount, input: input)))
        lastInputPosition = journal.position
        machine.apply(input)
    }

    /// Ends an idle period: guest time moves by the host time that passed, never past the
    /// guest's timer (the guest wakes at its deadline, as on real hardware), and that move is an input.
    public func endIdle() throws {
        guard let idle = idling else { return }
        idling = nil
        let now = clock()
        var passed = UInt64(max(0, now - idle.start) * settings.timebaseFrequency)
        // A clock at the deadline has reached the timer, whatever the rounding of the difference
        // (at 84 s, one tick's deadline less its start is 0.99999 ticks: a guest waiting for
        // its timer one tick away would never get there under a clock that stops at deadlines).
        if now >= idle.deadline, let ticks = idle.ticks { passed = max(passed, ticks) }
        let advance = min(idle.ticks ?? passed, passed)
        if advance > 0 { try logAndApply(.timeAdvance(ticks: advance)) }
    }

    /// Puts a checkpoint of the current state into the journal now (go-live points, a new backup);
    /// nothing when the journal does not keep checkpoints (``Journal/keepsCheckpoints``).
    public func checkpoint() throws {
        if journal.keepsCheckpoints {
            try journal.append(.checkpoint(Checkpoint(state: machine.stateDigest(), outputs: outputDigest)))
        }
        let interval = max(1, settings.checkpointInterval)
        nextCheckpoint = (machine.instructionCount / interval + 1) &* interval
    }

    /// Runs one slice (ending any idle period first), or reports why not.
    public func step(limit: UInt64 = .max) throws -> Step {
        try endIdle()
        try deliverWaitingFrames()
        if machine.instructionCount >= limit { return .stopped(.instructionLimit) }
        let reason = machine.run(instructionLimit: min(limit, machine.instructionCount &+ settings.slice))
        if machine.instructionCount >= nextCheckpoint { try checkpoint() }
        try journal.append(.progress(instructionCount: machine.instructionCount))
        switch reason {
        case .instructionLimit:
            return machine.instructionCount >= limit ? .stopped(.instructionLimit) : .ran
        case .waitingForInterrupt where !settings.idlesInRealTime:
            // Straight to the timer; with none armed, or one due but masked, nothing can wake the guest.
            guard let ticks = machine.hart.ticksUntilTimerInterrupt, ticks > 0 else { return .stopped(.idle) }
            try logAndApply(.timeAdvance(ticks: ticks))
            return .ran
        case .waitingForInterrupt, .idle:
            let ticks = machine.hart.ticksUntilTimerInterrupt
            let now = clock()
            let timerWait = ticks.map { Double($0) / settings.timebaseFrequency }
            let wait = min(timerWait ?? settings.maximumIdleWait, settings.maximumIdleWait)
            let deadline = now + wait
            // The timer's own deadline: infinity when none is armed or the wait stops short of it.
            idling = (now, ticks, timerWait.map { $0 <= settings.maximumIdleWait ? deadline : .infinity } ?? .infinity)
            return .idle(deadline: deadline, timerArmed: ticks != nil)
        case .resetRequested where settings.rebootsOnReset:
            try logAndApply(.reboot)
            return .rebooted
        case .diskFlushed:
            return .flushed(at: machine.instructionCount)
        case .exited, .resetRequested:
            return .stopped(reason)
        }
    }
}
