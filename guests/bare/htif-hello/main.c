/*
 * htif-hello: prints "Hello via HTIF\n" through the Spike-style HTIF
 * console (tohost = (1 << 56) | (1 << 48) | ch) and exits with code 0 via
 * tohost = (0 << 1) | 1.  `tohost`/`fromhost` are defined in common/start.S
 * (section .tohost); hosts find them by ELF symbol.
 *
 * NOT runnable on QEMU virt: QEMU does not implement HTIF, so the writes to
 * tohost are ordinary RAM stores and nothing is printed.  So that QEMU does
 * not hang, if the program is still running well after the exit command it
 * powers off through the SiFive test device with exit code 77 ("HTIF not
 * serviced").  A host that implements HTIF never gets that far.
 */
#include "platform.h"

int main(void)
{
    const char *s = "Hello via HTIF\n";
    while (*s)
        htif_putchar(*s++);

    /* Like htif_exit(0), but with the QEMU fallback instead of spinning
     * forever. */
    for (int spin = 0; tohost != 0 && spin < 100000; spin++)
        if (fromhost != 0)
            fromhost = 0;
    tohost = (0ULL << 1) | 1;
    for (volatile int spin = 0; spin < 1000000; spin++)
        ;
    exit(77);
}
