import HostIO
import Machine
import Replay

/// Where the outputs of a run nobody follows go, at once: console bytes to the console writer,
/// frames to the network backend (dropped without one).
final class RunOutputs: OutputSink {
    let console: ConsoleWriter
    let network: (any NetworkBackend)?

    init(console: ConsoleWriter, network: (any NetworkBackend)?) {
        self.console = console
        self.network = network
    }

    func emit(_ output: MachineOutput, after position: UInt64) {
        switch output {
        case .console: console.emit(output, after: position)
        case .networkFrame(let frame): network?.send(frame)
        }
    }
}
