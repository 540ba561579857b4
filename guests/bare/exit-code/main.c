/* exit-code: prints one line and exits with code 3 through the SiFive test
 * device ((3 << 16) | 0x3333), so the emulator must propagate the code. */
#include "platform.h"

int main(void)
{
    puts("exit-code: exiting with code 3");
    return 3;
}
