import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--exit-with-parent`: a process started by a test harness or a supervisor ends when that
/// parent disappears (even by SIGKILL or a crash), instead of living on as an orphan holding its
/// ports. Polls the parent's pid twice a second on a thread of its own.
enum ParentWatch {
    static func start() {
        let parent = getppid()
        Thread.detachNewThread {
            while true {
                usleep(500_000)
                if getppid() != parent {
                    printError("lockstep: the parent process is gone (--exit-with-parent): exiting")
                    exit(1)
                }
            }
        }
    }
}
