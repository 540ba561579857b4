// Debian's libslirp-dev puts the header in /usr/include/slirp/ (pkg-config's -I/usr/include/slirp);
// naming the directory here finds it on the default include path without pkg-config, whose
// slirp.pc requires glib-2.0's development files although libslirp.h includes nothing of glib.
// libslirp.h includes "libslirp-version.h" with quotes, which resolves next to it.
#include <slirp/libslirp.h>
