import Foundation
import Testing

/// `lockstep vm`'s flags as an operator types them.
@Suite struct VMCommandTests {
    let cli = RunCommandTests()

    /// The disk size is `--disk MiB` (issue 16's spelling), not the `--disk-mi-b` that the
    /// property's name would make.
    @Test func createTakesTheDiskSizeAsDisk() throws {
        let help = try cli.lockstep(["vm", "create", "--help"])
        #expect(help.stdout.contains("--disk <MiB>"), "\(help.stdout)")
        #expect(!help.stdout.contains("disk-mi-b"), "\(help.stdout)")
    }
}
