import Testing

@Suite struct FaultToleranceTestsPlaceholder {
    @Test func builds() {}
}
