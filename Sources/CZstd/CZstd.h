// Debian's libzstd-dev puts zstd.h in /usr/include.
#include <zstd.h>
