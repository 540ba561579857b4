import LockstepSupport

/// Seconds on the host's monotonic clock: LockstepSupport's ``monotonicSeconds()`` under the name
/// the links and roles of this module call it by.
@inline(__always)
func monotonicNow() -> Double { monotonicSeconds() }
