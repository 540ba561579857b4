import ArgumentParser
import KVWorkload
import LockstepSupport

/// Where the service is and how long to wait for it (shared by `load` and `verify`).
struct ServiceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Console ports to try, in order, comma-separated.", valueName: "host:port,..."))
    var endpoints: String

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for one answer before reconnecting and resending.", valueName: "seconds"))
    var requestTimeout: Double = 5

    @Option(name: .long, help: ArgumentHelp("Seconds one request may take in all, reconnections included, before giving up.", valueName: "seconds"))
    var deadline: Double = 60

    func validate() throws {
        _ = try parsedEndpoints()
        guard requestTimeout > 0, deadline > 0 else { throw ValidationError("--request-timeout and --deadline must be positive") }
    }

    func parsedEndpoints() throws -> [Endpoint] {
        do {
            return try Endpoint.list(parsing: endpoints, allowsPortZero: false)
        } catch {
            throw ValidationError("--endpoints: \(error)")
        }
    }

    var clientOptions: KVClient.Options {
        KVClient.Options(requestTimeout: requestTimeout, deadline: deadline)
    }
}
