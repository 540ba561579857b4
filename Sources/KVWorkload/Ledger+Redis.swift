extension Ledger {
    /// Reads every key with an acknowledged value back with `GET` through `client` and reports
    /// the writes that were lost or reverted.
    public func verify(using client: RedisClient) throws(RedisError) -> VerificationReport {
        try verify { key throws(RedisError) in try client.get(key) }
    }
}
