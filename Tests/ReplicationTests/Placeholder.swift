import Testing

@Suite struct ReplicationTestsPlaceholder {
    @Test func builds() {}
}
