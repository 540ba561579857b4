/// Where a ``VirtioEntropy`` device gets its bytes. The owner provides it; in the `Machine`
/// module it must be deterministic (``SeededEntropySource``). Host randomness is meant to enter as
/// recorded input events, through a source the owner feeds.
public protocol EntropySource {
    /// Returns up to `count` bytes. Returning fewer (even none) means the source has nothing more
    /// for now; the device then waits until its owner calls ``VirtioEntropy/serviceRequests()``.
    mutating func take(_ count: Int) -> [UInt8]
}
