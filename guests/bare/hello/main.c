/* hello: prints one line through the UART and exits with code 0. */
#include "platform.h"

int main(void)
{
    print_str("Hello from Lockstep\n");
    return 0;
}
