import Hummingbird
import Pool

/// The agent's HTTP server (hummingbird): `/metrics` (Prometheus), `/` (the status page).
public enum AgentHTTPServer {
    /// Serves until the task is cancelled.
    public static func run(host: String, port: Int, view: @escaping @Sendable () -> PoolView,
                           log: @escaping @Sendable (String) -> Void) async throws {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: PoolMetrics.render(view()))))
        }
        router.get("/") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: StatusPage.render(view()))))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "lockstep-agent"),
                              onServerRunning: { _ in log("metrics and status page on http://\(host):\(port)/") })
        try await app.runService(gracefulShutdownSignals: [])
    }
}
