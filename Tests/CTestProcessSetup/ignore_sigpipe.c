// Linked into the test process: ignore SIGPIPE before any test runs.
//
// Many tests write to sockets and pipes whose other end a test has just killed with SIGKILL
// (that is the point of the fault-injection tests). Such a write must fail with EPIPE, which the
// code under test handles, rather than kill the whole test process. Swift Testing has no global
// set-up hook, so a constructor does it when the test bundle is loaded.
#include <signal.h>

__attribute__((constructor)) static void lockstep_tests_ignore_sigpipe(void) {
    signal(SIGPIPE, SIG_IGN);
}

int lockstep_tests_sigpipe_ignored(void) {
    struct sigaction action;
    sigaction(SIGPIPE, 0, &action);
    return action.sa_handler == SIG_IGN;
}
