import Testing

@Suite struct ArbitrationTestsPlaceholder {
    @Test func builds() {}
}
