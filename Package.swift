// swift-tools-version: 6.0
import PackageDescription

/// `-O` for the emulator's core in debug builds too (release builds are optimised anyway).
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

/// Lets LLVM copy the interpreter's dispatch (load the next operation, jump through the table)
/// into the end of each instruction's handler, as threaded code does, instead of every handler
/// jumping back to one shared dispatch. LLVM does this for blocks that end in an indirect jump,
/// but by default not for a block with more than 16 predecessors, and the fast loop's dispatch
/// has one per handler. With one indirect jump per handler the host predicts the next handler
/// from the current one: 3-31% faster guest code, with the budget check of BudgetCheck.swift
/// (docs/benchmarks.md). If a future toolchain
/// drops these options, the build fails with "Unknown command line argument": remove them.
let replicatedDispatch: [SwiftSetting] = [
    .unsafeFlags(["-Xllvm", "-tail-dup-pred-size=10000", "-Xllvm", "-tail-dup-succ-size=10000"]),
]

let package = Package(
    name: "Lockstep",
    products: [
        .executable(name: "lockstep", targets: ["lockstep"]),
        .executable(name: "lockstep-conformance", targets: ["lockstep-conformance"]),
        .executable(name: "lockstep-sim", targets: ["lockstep-sim"]),
        .library(name: "RISCV", targets: ["RISCV"]),
        .library(name: "Machine", targets: ["Machine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        // IEEE-754 arithmetic with RISC-V semantics (all five rounding modes, fflags, NaN rules),
        // in portable integer C so that results never depend on the host's FPU.
        .target(name: "CRISCVFloat"),
        // One RV64GC hart: registers, decoder, executor, CSRs, traps, the instruction counter.
        // Optimised even in debug builds: the tests boot Linux and replay sessions, which take
        // minutes in an unoptimised interpreter and seconds in an optimised one.
        .target(name: "RISCV", dependencies: ["CRISCVFloat"], swiftSettings: optimisedInDebug + replicatedDispatch),
        // RISC-V instruction disassembly (for --trace and diagnostics).
        .target(name: "RISCVDisassembler"),
        // ELF64 parsing with typed errors.
        .target(name: "ELF"),
        // The whole computer: RAM, bus, devices, program loading.
        .target(name: "Machine", dependencies: ["RISCV", "ELF", "JIT"], swiftSettings: optimisedInDebug),
        // What every host-facing target shares: HOST:PORT endpoints, the monotonic clock, key files
        // (one rule for `lockstep node` and `lockstep arbiter`), the logfmt log handler.
        .target(name: "LockstepSupport", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // libslirp 4.7 (Debian bookworm's libslirp-dev), the user-mode network stack of
        // `--netdev user`. No pkgConfig: Debian's slirp.pc requires glib-2.0's development files,
        // which the header does not need; the module map names the header as <slirp/libslirp.h>
        // and links -lslirp, both on the default search paths.
        .systemLibrary(name: "CSlirp"),
        // libzstd (Debian's libzstd-dev): the disk copy to a joining backup is compressed.
        .systemLibrary(name: "CZstd"),
        // Host resources for devices (disk image files, the console's TCP server, the network
        // backends); kept out of Machine, which never touches the host.
        .target(name: "HostIO", dependencies: [
            "Machine", "ELF", "LockstepSupport", "CSlirp", "CZstd",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // The determinism boundary: events, the event-log format, recording and replaying.
        .target(name: "Replay", dependencies: ["Machine"], swiftSettings: optimisedInDebug),
        // A client of etcd v3 through its JSON gateway (HTTP/1.1 with swift-nio's codec).
        .target(name: "Etcd", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // A pool of hosts on etcd: VMs declared, placed and re-protected by agents (docs/pool.md).
        .target(name: "Pool", dependencies: ["Etcd", "HostIO", "KVWorkload", "LockstepSupport", "Machine", "Replication",
                                            .product(name: "Logging", package: "swift-log")]),
        // The agent's HTTP side: Prometheus metrics and the status page (hummingbird, swift-prometheus).
        .target(name: "PoolHTTP", dependencies: [
            "Pool",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // Who may run a VM: an atomic test-and-set on its generation, behind one protocol with
        // several backends (the built-in arbiter server, a lock file on shared storage, etcd).
        .target(name: "Arbitration", dependencies: [
            "LockstepSupport", "Etcd",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Primary and backup: the logging channel, the output gate, heartbeats on two lines,
        // go-live, initial sync of a new backup.
        .target(name: "Replication", dependencies: [
            "Machine", "Replay", "HostIO", "Arbitration", "LockstepSupport",
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: optimisedInDebug),
        // The cluster in one process under a virtual clock and a seed: the real roles and channel
        // cores, a simulated network and arbiter, faults, invariant checks (docs/simulation.md).
        .target(name: "Simulation", dependencies: ["Machine", "ELF", "Replay", "HostIO", "Arbitration", "Replication", "LockstepSupport"],
                swiftSettings: optimisedInDebug),
        .executableTarget(name: "lockstep-sim", dependencies: [
            "Simulation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The key-value workload: a client that remembers every acknowledged write and verifies
        // them (talks to the guest's key-value service over a TCP console port).
        .target(name: "KVWorkload", dependencies: ["LockstepSupport"]),
        // Fault injection with real processes: two `lockstep node`s, an arbiter, relays that can
        // silence a line, SIGKILL; used by the tests and the soak command.
        .target(name: "FaultInjection", dependencies: ["KVWorkload", "LockstepSupport"]),
        .executableTarget(name: "lockstep-soak", dependencies: [
            "FaultInjection",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "lockstep-kv", dependencies: [
            "KVWorkload", "LockstepSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The `lockstep` command's implementation, testable as a library.
        .target(name: "LockstepCLI", dependencies: [
            "RISCV", "Machine", "JIT", "ELF", "RISCVDisassembler", "HostIO", "Replay", "Arbitration", "Etcd", "Pool", "PoolHTTP", "Replication", "LockstepSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "lockstep", dependencies: ["LockstepCLI", "LockstepSupport"]),
        // The binary translator: RV64 blocks to x86-64 (BlockTranslator, JITAccelerator, installed
        // in a hart as its accelerator), an x86-64 encoder (X86Assembler) and executable code
        // buffers that are never writable and executable at once (CodeBuffer). Depends on RISCV only.
        .target(name: "JIT", dependencies: ["RISCV"], swiftSettings: optimisedInDebug),
        // Differential testing against QEMU: random program generator and harness.
        .target(name: "Conformance", dependencies: ["Machine", "RISCV", "ELF", "JIT"]),
        .executableTarget(name: "lockstep-conformance", dependencies: [
            "Conformance", "Machine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Restores a snapshot in a new process and measures snapshots (for tests and benchmarks).
        .executableTarget(name: "lockstep-snapshot-check", dependencies: ["Machine", "HostIO"]),

        // Ignores SIGPIPE in the test process (tests kill the peers of sockets and pipes).
        .target(name: "CTestProcessSetup", path: "Tests/CTestProcessSetup"),
        // LOCKSTEP_TEST_ENGINE for the whole test process (called from CTestProcessSetup).
        .target(name: "TestEngineSetup", dependencies: ["Machine"], path: "Tests/TestEngineSetup"),
        // Host-FPU reference used only by the float tests (compiled with FENV_ACCESS).
        .target(name: "CRISCVFloatHostReference", path: "Tests/CRISCVFloatHostReference"),
        // Small RISC-V test programs assembled with the cross toolchain (RISCVTests, JITTests).
        .target(name: "GuestAssembly", dependencies: ["Machine"], path: "Tests/GuestAssembly"),
        .testTarget(name: "CRISCVFloatTests", dependencies: ["CRISCVFloat", "CRISCVFloatHostReference"]),
        .testTarget(name: "RISCVTests", dependencies: ["RISCV", "Machine", "ELF", "HostIO", "GuestAssembly"]),
        .testTarget(name: "RISCVDisassemblerTests", dependencies: ["RISCVDisassembler"]),
        .testTarget(name: "ELFTests", dependencies: ["ELF"]),
        // The encoder checked byte for byte against GNU `as`; generated code run in a CodeBuffer.
        .testTarget(name: "JITTests", dependencies: ["JIT", "RISCV", "Machine", "ELF", "Replay", "GuestAssembly", "Conformance"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "RISCV", "ELF", "HostIO", "CTestProcessSetup", "TestEngineSetup"]),
        .testTarget(name: "HostIOTests", dependencies: ["CTestProcessSetup", "HostIO", "Machine", "RISCV", "LockstepSupport"]),
        .testTarget(name: "LockstepSupportTests", dependencies: ["LockstepSupport", .product(name: "Logging", package: "swift-log")]),
        // The commands run as processes, and the key-file rule that `node` and `arbiter` share.
        .testTarget(name: "LockstepCLITests", dependencies: ["CTestProcessSetup", "LockstepCLI", "Arbitration", "LockstepSupport"]),
        .testTarget(name: "ConformanceTests", dependencies: ["Conformance", "Machine"]),
        // Boots the default Linux guest with the `lockstep` executable (and on QEMU).
        .testTarget(name: "LinuxBootTests", dependencies: ["CTestProcessSetup", "KVWorkload", "LockstepSupport"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Replication", "Replay", "Machine", "HostIO", "LockstepSupport"]),
        .testTarget(name: "ReplayTests", dependencies: ["Replay", "Machine", "RISCV", "HostIO"]),
        .testTarget(name: "PoolTests", dependencies: ["Pool", "PoolHTTP", "HostIO", "CTestProcessSetup", "Replication", "FaultInjection"]),
        .testTarget(name: "ArbitrationTests", dependencies: ["CTestProcessSetup", "Arbitration", "LockstepSupport", "Etcd", "FaultInjection"]),
        .testTarget(name: "ReplicationTests", dependencies: ["CTestProcessSetup", "Replication", "Replay", "Machine", "LockstepSupport",
                                                             .product(name: "NIOEmbedded", package: "swift-nio")]),
        // The client against fake key-value servers, which use HostIO's TCPConsole as the real guest does;
        // the Redis client against a real redis-server on a port from FaultInjection's TestPorts.
        .testTarget(name: "KVWorkloadTests", dependencies: ["CTestProcessSetup", "KVWorkload", "HostIO", "LockstepSupport", "FaultInjection"]),
        // Real processes: primary, backup and arbiter, killed with SIGKILL under load.
        .testTarget(name: "FaultToleranceTests", dependencies: ["CTestProcessSetup", "FaultInjection", "KVWorkload", "HostIO", "LockstepSupport"]),
    ]
)
