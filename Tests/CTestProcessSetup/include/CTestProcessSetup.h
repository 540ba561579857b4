#pragma once
/// 1 if SIGPIPE is ignored in this process (the constructor in ignore_sigpipe.c ran).
int lockstep_tests_sigpipe_ignored(void);
