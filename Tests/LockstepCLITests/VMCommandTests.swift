import Foundation
import Testing

/// `lockstep vm`'s flags as an operator types them.
@Suite struct VMCommandTests {
    let cli = RunCommandTests()

    /// The disk is `--disk MiB|IMAGE` (issue 16's spelling), not the `--disk-mi-b` that a
    /// property's name would make.
    @Test func createTakesTheDiskAsDisk() throws {
        let help = try cli.lockstep(["vm", "create", "--help"])
        #expect(help.stdout.contains("--disk <MiB|image>"), "\(help.stdout)")
        #expect(!help.stdout.contains("disk-mi-b"), "\(help.stdout)")
    }

    /// A disk that is neither a size nor a readable image is refused before etcd is asked.
    @Test func createRefusesADiskThatIsNeitherASizeNorAnImage() throws {
        let result = try cli.lockstep(["vm", "create", "db", "--disk", "/nonexistent/db.raw", "--etcd", "http://127.0.0.1:1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("neither a size in MiB nor a readable image file"), "\(result.stderr)")
        let zero = try cli.lockstep(["vm", "create", "db", "--disk", "0", "--etcd", "http://127.0.0.1:1"])
        #expect(zero.stderr.contains("at least 1 MiB"), "\(zero.stderr)")
    }
}
