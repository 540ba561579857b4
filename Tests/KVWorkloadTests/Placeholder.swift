import Testing

@Suite struct KVWorkloadTestsPlaceholder {
    @Test func builds() {}
}
