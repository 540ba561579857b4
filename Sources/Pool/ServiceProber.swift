import Foundation
import LockstepSupport
import Synchronization

/// Probes one VM's service on a thread of its own, every `spec.interval` seconds, into a
/// ``LatencyWindow`` the agent reads (``health``). Runs while the VM's primary is on this host.
final class ServiceProber: @unchecked Sendable {
    let spec: ProbeSpec
    private let window = Mutex(LatencyWindow(span: 30))
    private let stopped = Mutex(false)

    init(spec: ProbeSpec) {
        self.spec = spec
        Thread.detachNewThread { [self] in loop() }
    }

    private func loop() {
        while !stopped.withLock({ $0 }) {
            let started = monotonicSeconds()
            let latency = ServiceProbe.run(spec, timeout: max(1, spec.thresholdMilliseconds / 1000 * 10))
            window.withLock { $0.add(latency: latency, at: started) }
            let left = spec.interval - (monotonicSeconds() - started)
            if left > 0 { usleep(UInt32(left * 1_000_000)) }
        }
    }

    var health: ServiceHealth {
        ServiceHealth.judge(window.withLock { $0 }, thresholdMilliseconds: spec.thresholdMilliseconds)
    }

    func stop() { stopped.withLock { $0 = true } }
}
