import Machine

/// Called by CTestProcessSetup's constructor when the test bundle is loaded, with the value of
/// `LOCKSTEP_TEST_ENGINE` (nil if unset): `jit` puts every machine the tests make on the JIT
/// unless a test chooses otherwise (`scripts/test.sh` runs the machine-level suites a second
/// time so). An unknown name stops the run at once: a pass meant for one engine must not run on
/// the other unnoticed.
@_cdecl("lockstep_tests_choose_engine")
public func chooseTestEngine(_ name: UnsafePointer<CChar>?) {
    guard let name else { return }
    let text = String(cString: name)
    guard let engine = ExecutionEngine(rawValue: text) else {
        fatalError("LOCKSTEP_TEST_ENGINE=\(text): expected one of \(ExecutionEngine.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    Machine.initialEngine = engine
}
