import Arbitration
import Foundation

/// Calls the arbiter from the machine thread (which is not async) and waits for the answer.
func blockingArbiterCall<T: Sendable>(_ operation: @escaping @Sendable () async throws(ArbitrationError) -> T) -> Result<T, ArbitrationError> {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task {
        do throws(ArbitrationError) {
            box.result = .success(try await operation())
        } catch {
            box.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    return box.result!
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    var result: Result<T, ArbitrationError>?   // written once before the semaphore is signalled
}
