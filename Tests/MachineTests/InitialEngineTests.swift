import Foundation
import Machine
import Testing

/// The test run's engine: `LOCKSTEP_TEST_ENGINE` (read by CTestProcessSetup when the bundle
/// loads) puts every new machine on that engine, so that scripts/test.sh's second pass really
/// runs the machine-level suites on the JIT; unset, machines start on the interpreter.
@Suite struct InitialEngineTests {
    @Test func newMachinesStartOnTheTestRunsEngine() throws {
        let asked = ProcessInfo.processInfo.environment["LOCKSTEP_TEST_ENGINE"]
        let expected = asked.flatMap(ExecutionEngine.init(rawValue:)) ?? .interpreter
        #expect(Machine.initialEngine == expected)
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 1 << 20))
        #expect(machine.engine == expected, "LOCKSTEP_TEST_ENGINE=\(asked ?? "(unset)")")
        machine.use(.interpreter)
        #expect(machine.engine == .interpreter)
    }
}
