import JIT
import Testing

struct X86ConditionTests {
    /// The translator inverts branches with `negated`: each condition's opposite, both ways.
    @Test func negatedIsTheOppositeCondition() {
        let pairs: [(X86Condition, X86Condition)] = [(.o, .no), (.b, .ae), (.e, .ne), (.be, .a), (.s, .ns), (.p, .np), (.l, .ge), (.le, .g)]
        for (condition, opposite) in pairs {
            #expect(condition.negated == opposite)
            #expect(opposite.negated == condition)
        }
        #expect(X86Condition.c == .b && X86Condition.nc == .ae && X86Condition.z == .e && X86Condition.nz == .ne)
    }
}
