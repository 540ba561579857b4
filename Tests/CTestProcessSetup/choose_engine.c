// Linked into the test process: choose the engine of the machines the tests make.
//
// `LOCKSTEP_TEST_ENGINE=jit` puts every machine on the binary translator unless a test chooses
// otherwise (scripts/test.sh runs the machine-level suites a second time so). Swift Testing has
// no global set-up hook, so a constructor calls TestEngineSetup's Swift function when the test
// bundle is loaded. The symbol is weak: a bundle without that target still loads.
#include <stdlib.h>

extern void lockstep_tests_choose_engine(const char *name) __attribute__((weak));

__attribute__((constructor)) static void lockstep_tests_choose_engine_from_environment(void) {
    if (lockstep_tests_choose_engine) lockstep_tests_choose_engine(getenv("LOCKSTEP_TEST_ENGINE"));
}
