/*
 * vm: supervisor and user modes with Sv39 virtual memory.
 *
 * Runs in M-mode, builds Sv39 page tables in static page-aligned buffers,
 * and runs short snippets (vm.S) in S-mode and U-mode through `probe()`:
 * every probe ends with the next trap that reaches M-mode, and one line is
 * printed per check with what was observed (cause, tval, epc, values, PTE
 * flags).  The whole output is a transcript compared with QEMU's
 * (expected.txt), so nothing printed may depend on:
 *   - addresses outside this ELF (all addresses are ours: same ELF, same values),
 *   - whether a TLB kept a stale translation (only what is architecturally
 *     guaranteed after sfence.vma is printed),
 *   - ASIDs (QEMU implements 16 ASID bits, Lockstep none: masked out),
 *   - Sv48 (QEMU implements it, Lockstep does not: written, never printed),
 *   - counter and timer values (only whether reading them trapped).
 * It exits 0 when finished, whatever it observed.
 *
 * Virtual address map (root table `root`):
 *   0x0000_0000_4000_0000  root[1] -> l1_test:
 *       l1_test[0] -> l0_test: 4 KiB test pages T(i) = 0x4000_0000 + i * 4 KiB
 *       l1_test[1]: 2 MiB leaf with misaligned PPN (0x8000_1000)
 *       l1_test[2]: 2 MiB leaf -> 0x8040_0000 (alias of an identity megapage)
 *   0x0000_0000_8000_0000  root[2] -> l1_ram: identity
 *       l1_ram[0] -> l0_ram: 4 KiB pages over the first 2 MiB (this program)
 *       l1_ram[1..63]: 2 MiB identity megapages (rest of the 128 MiB RAM)
 *   0x0000_0000_C000_0000  root[3]: 1 GiB leaf -> 0x8000_0000 (RW, no X)
 *   0x0000_0001_0000_0000  root[4]: 1 GiB leaf with misaligned PPN
 *   0xFFFF_FFC0_4000_0000  root[0x101] -> l1_test (upper canonical half)
 * rootB is root with root[2] replaced by a 1 GiB identity leaf.
 */
#include "platform.h"
#include <stdarg.h>

typedef uint64_t u64;

/* ---- vm.S ------------------------------------------------------------------ */
struct probe_out { u64 a0, a1, mcause, mtval, mepc, mstatus; };
struct s_out { u64 scause, stval, sepc, sstatus, valid; int64_t via; };
extern volatile struct probe_out probe_out;
extern volatile struct s_out s_out;
void probe(u64 mode, u64 pc, u64 a0, u64 a1, u64 a2, u64 a3);
extern char s_handler[], s_handler_ecall[], s_vectors[], probe_page[], probe_page_alt[];
extern char p_ld[], p_lw[], p_sd[], p_sw[], p_sd_ld[], p_jr[], p_ecall[],
    p_sret_to[], p_sret[], p_mret[], p_rd_sstatus[], p_rd_sip[],
    p_rd_mstatus[], p_rd_satp[], p_cycle[], p_time[], p_instret[],
    p_sfence[], p_sfence_ld[], p_sfence_va_ld[], p_remap[], p_satp_rw[],
    p_mprv_ld[], p_mprv_sd[], p_amoadd[], p_amoswap_w[], p_lr[],
    p_straddle[], p_sb[], p_lbu[], p_wfi[], p_status_2ld[], p_mprv_2ld[],
    p_satp_switch[], p_ld_pair[], p_smc[], p_code_swap[], p_wr_sip[];
extern char _end[];

/* ---- Architecture constants -------------------------------------------- */
enum { U = 0, S = 1, M = 3 };

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)

#define SSTATUS_SIE  (1UL << 1)
#define SSTATUS_SPIE (1UL << 5)
#define SSTATUS_SPP  (1UL << 8)
#define MSTATUS_MPP  (3UL << 11)
#define MSTATUS_MPRV (1UL << 17)
#define MSTATUS_SUM  (1UL << 18)
#define MSTATUS_MXR  (1UL << 19)
#define MSTATUS_TVM  (1UL << 20)
#define MSTATUS_TW   (1UL << 21)
#define MSTATUS_TSR  (1UL << 22)

#define SATP_SV39    (8UL << 60)
#define SATP_SV48    (9UL << 60)
#define SATP_ASID    (0xFFFFUL << 44)

#define RAM_BASE     0x80000000UL
#define T(i)         (0x40000000UL + (u64)(i) * 4096)
#define MEGA_MIS_VA  0x40200000UL
#define MEGA_VA      0x40400000UL
#define MEGA_PA      0x80400000UL
#define GIGA_VA      0xC0000000UL
#define GIGA_MIS_VA  0x100000000UL
#define HIGH_VA(va)  (0xFFFFFFC000000000UL | (va))   /* root[0x100 + (va >> 30)] */
#define NORAM_VA     0x40600000UL      /* l1_test[3]: 2 MiB leaf -> 0x9000_0000 (no RAM, no device) */
#define NORAM_PT_VA  0x40800000UL      /* l1_test[4]: pointer to a "table" at 0x9000_0000 */
#define NORAM_X_VA   0x40A00000UL      /* l1_test[5]: like l1_test[3], executable */
#define DEV_VA       0x140000000UL     /* root[5]: 1 GiB leaf -> physical 0 (devices) */
#define NORAM_PA     0x90000000UL

/* Test page indices in l0_test. */
enum {
    P_INV = 0,      /* V = 0 */
    P_WNR = 1,      /* W without R: reserved */
    P_XO = 2,       /* execute-only, data[1] */
    P_RO = 3,       /* read-only, data[1] */
    P_RW = 4,       /* read-write, data[1] */
    P_URW = 5,      /* user read-write, data[2] */
    P_UCODE = 6,    /* user R+X: the snippet page */
    P_AL1 = 7,      /* two names for data[3] */
    P_AL2 = 8,
    P_RSV54 = 9,    /* PTE bit 54 set */
    P_PBMT = 10,    /* PTE bits 62:61 = 1 (Svpbmt NC) */
    P_NAPOT = 11,   /* PTE bit 63 (Svnapot N) */
    P_AD = 12,      /* A/D start clear, data[4] */
    P_AD2 = 13,
    P_SF = 14,      /* remapped for the sfence.vma checks */
    P_SX = 15,      /* supervisor execute-only: the snippet page */
    P_STR_S = 16,   /* snippet page (S, R+X); the next page decides the straddle */
    P_STR_S2 = 17,
    P_STR_U = 18,   /* the same for U */
    P_STR_U2 = 19,
    P_MIS = 20,     /* data[7]; the next page decides misaligned crossings */
    P_MIS2 = 21,
    P_PTR0 = 24,    /* a pointer PTE at level 0 */
    P_UXO = 25,     /* user execute-only, data[1] */
    P_URO = 26,     /* user read-only, data[1] */
    P_WXNR = 27,    /* W+X without R: reserved */
    P_ROAD = 28,    /* read-only, A clear */
    P_AMOAD = 29,   /* A/D clear, for an AMO */
    P_LRAD = 30,    /* A/D clear, for LR */
    P_XAD = 31,     /* execute-only snippet page, A clear */
    P_UAD = 32,     /* user RW, A/D clear */
    P_MPRVAD = 33,  /* RW, A/D clear, touched through MPRV */
    P_RSV60 = 34,   /* PTE bit 60 set */
    P_UXC = 35,     /* user execute-only: the snippet page */
    P_CS = 36,      /* the snippet page, remapped by p_code_swap */
    P_SMC_W = 37,   /* data[0] writable ... */
    P_SMC_X = 38,   /* ... and executable */
    P_PAIR = 4 + 256, /* 1 MiB above T(P_RW): the same slot of a direct-mapped TLB */
};

/* ---- Page tables and data ---------------------------------------------- */
#define PAGE __attribute__((aligned(4096)))
static volatile u64 root[512] PAGE, rootB[512] PAGE;
static volatile u64 l1_ram[512] PAGE, l0_ram[512] PAGE;
static volatile u64 l1_test[512] PAGE, l0_test[512] PAGE;
static volatile u64 data[8][512] PAGE;

static inline void sfence(void) { __asm__ volatile ("sfence.vma" ::: "memory"); }
static u64 leaf(u64 pa, u64 flags) { return ((pa >> 12) << 10) | flags; }
static u64 ptr(volatile void *table) { return (((uintptr_t)table >> 12) << 10) | PTE_V; }
static u64 pa(volatile void *p) { return (uintptr_t)p; }
static u64 satp_for(volatile u64 *table) { return SATP_SV39 | ((uintptr_t)table >> 12); }
static void set_test_pte(int i, u64 pte) { l0_test[i] = pte; sfence(); }

static u64 dval(int page, int word)
{
    return ((u64)(0xD0 + page) << 56) | ((u64)word << 16) | 0xBEEF;
}

/* ---- Output ------------------------------------------------------------ */
/* %s string, %d signed, %u unsigned, %x "0x" + 16 hex digits, %h short hex. */
static void pf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') { putchar(*fmt); continue; }
        switch (*++fmt) {
        case 's': print_str(va_arg(ap, const char *)); break;
        case 'd': print_dec(va_arg(ap, long)); break;
        case 'u': print_udec(va_arg(ap, u64)); break;
        case 'x': print_hex(va_arg(ap, u64)); break;
        case 'h': {
            u64 v = va_arg(ap, u64);
            int digits = 1;
            while (digits < 16 && (v >> (4 * digits)))
                digits++;
            print_str("0x");
            print_hex_n(v, digits);
            break;
        }
        default: putchar(*fmt); break;
        }
    }
    va_end(ap);
}

static void section(const char *name) { pf("== %s\n", name); }

static const char *mode_name(int mode) { return mode == U ? "U" : mode == S ? "S" : "M"; }

/* ---- Running probes ---------------------------------------------------- */
/* Where a snippet runs: its identity address for S and M, its address in the
 * user mapping of the snippet page (P_UCODE) for U. */
static u64 at(int mode, char *snippet)
{
    if (mode == U)
        return T(P_UCODE) + (u64)(snippet - probe_page);
    return (u64)(uintptr_t)snippet;
}

static u64 probe_pc;

/* Runs a snippet in `mode` with the mstatus bits `status` set (SUM, MXR, ...),
 * which are cleared again afterwards. */
static void run4(int mode, u64 pc, u64 a0, u64 a1, u64 a2, u64 a3, u64 status)
{
    s_out.valid = 0;
    set_csr(mstatus, status);
    probe_pc = pc;
    probe(mode, pc, a0, a1, a2, a3);
    clear_csr(mstatus, status);
}

static void run(int mode, u64 pc, u64 a0, u64 a1, u64 a2, u64 status)
{
    run4(mode, pc, a0, a1, a2, 0, status);
}

static int delegated(void)
{
    return s_out.valid && probe_out.mcause == 9
        && probe_out.mepc == (u64)(uintptr_t)s_handler_ecall;
}

static u64 trap_cause(void) { return delegated() ? s_out.scause : probe_out.mcause; }

static void print_epc(u64 epc)
{
    if (epc >= probe_pc && epc - probe_pc < 0x100)
        pf("pc+%h", epc - probe_pc);
    else
        pf("%x", epc);
}

/* Exceptions in decimal, interrupts as "intN". */
static void print_cause(u64 cause)
{
    if (cause >> 63)
        pf("int%u", cause & ~(1UL << 63));
    else
        pf("%u", cause);
}

/* Where QEMU 7.2 and the spec (and Lockstep) legitimately part, checks print
 * the kind of fault only:
 * LOOSE_AMO: the spec says AMOs raise store/AMO causes (6 misaligned, 15 page
 *   fault), "AMOs never raise load page-fault exceptions"; Lockstep does that.
 *   QEMU 7.2 runs an AMO as a load then a store (single-threaded TCG) and
 *   reports load causes (4, 13) when the load part faults; later QEMU fixed it
 *   (RISCV_UW2_ALWAYS_STORE_AMO).
 * LOOSE_WALK: a page-table walk that reads a physical address with no memory
 *   or device behind it: the spec says access fault of the original access
 *   type (5 for a load), as Lockstep does; QEMU returns TRANSLATE_FAIL when
 *   the PTE read fails and so raises a page fault (13). */
enum { EXACT, LOOSE_AMO, LOOSE_WALK };
static int loose;

/* "S-trap cause=13 tval=0x... epc=pc+0x0 spp=1 spie=0" or "M-trap ... mpp=1" */
static void print_trap(void)
{
    int d = delegated();
    u64 cause = d ? s_out.scause : probe_out.mcause;
    pf("%s-trap cause=", d ? "S" : "M");
    if (loose == LOOSE_AMO && (cause == 4 || cause == 6))
        pf("misaligned(4|6)");
    else if (loose == LOOSE_AMO && (cause == 13 || cause == 15))
        pf("page-fault(13|15)");
    else if (loose == LOOSE_WALK && (cause == 5 || cause == 13))
        pf("access-or-page-fault(5|13)");
    else
        print_cause(cause);
    pf(" tval=%x epc=", d ? s_out.stval : probe_out.mtval);
    if (d) {
        print_epc(s_out.sepc);
        pf(" spp=%u spie=%u", (s_out.sstatus >> 8) & 1, (s_out.sstatus >> 5) & 1);
        if (s_out.via >= 0)
            pf(" via=%d", s_out.via);
    } else {
        print_epc(probe_out.mepc);
        pf(" mpp=%u", (probe_out.mstatus >> 11) & 3);
    }
}

/* One check: run, print the trap, and a0 when the snippet got to its ecall. */
static void check(const char *name, int mode, u64 pc, u64 a0, u64 a1, u64 a2, u64 status)
{
    run(mode, pc, a0, a1, a2, status);
    pf("%s %s: ", mode_name(mode), name);
    print_trap();
    u64 cause = trap_cause();
    if (cause == 8 || cause == 9 || cause == 11)
        pf(" a0=%x", probe_out.a0);
    putchar('\n');
}

/* Only whether it trapped and why (for counters and other values that differ). */
static void check_traps(const char *name, int mode, u64 pc, u64 a0, u64 status)
{
    run(mode, pc, a0, 0, 0, status);
    u64 cause = trap_cause();
    pf("%s %s: ", mode_name(mode), name);
    if ((mode == U && cause == 8) || (mode == S && cause == 9) || (mode == M && cause == 11))
        pf("ok\n");
    else
    {
        pf("trap cause=");
        print_cause(cause);
        putchar('\n');
    }
}

static void print_pte(const char *name, u64 pte)
{
    pf("  pte %s: flags=%h%s%s\n", name, pte & 0x3FF,
       (pte & PTE_A) ? " A" : "", (pte & PTE_D) ? " D" : "");
}

/* ---- Setup ------------------------------------------------------------- */
static void build_tables(void)
{
    const u64 rwx = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
    const u64 rw = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;

    for (int i = 0; i < 512; i++)
        l0_ram[i] = leaf(RAM_BASE + (u64)i * 4096, rwx);
    l1_ram[0] = ptr(l0_ram);
    for (int i = 1; i < 64; i++)
        l1_ram[i] = leaf(RAM_BASE + (u64)i * 0x200000, rwx);

    u64 page = pa(probe_page);
    l0_test[P_INV] = 0;
    l0_test[P_WNR] = leaf(pa(data[0]), PTE_V | PTE_W | PTE_A | PTE_D);
    l0_test[P_XO] = leaf(pa(data[1]), PTE_V | PTE_X | PTE_A);
    l0_test[P_RO] = leaf(pa(data[1]), PTE_V | PTE_R | PTE_A);
    l0_test[P_RW] = leaf(pa(data[1]), rw);
    l0_test[P_URW] = leaf(pa(data[2]), rw | PTE_U);
    l0_test[P_UCODE] = leaf(page, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A);
    l0_test[P_AL1] = leaf(pa(data[3]), rw);
    l0_test[P_AL2] = leaf(pa(data[3]), rw);
    l0_test[P_RSV54] = leaf(pa(data[1]), rw) | (1UL << 54);
    l0_test[P_PBMT] = leaf(pa(data[1]), rw) | (1UL << 61);
    l0_test[P_NAPOT] = leaf(pa(data[1]), rw) | (1UL << 63);
    l0_test[P_AD] = leaf(pa(data[4]), PTE_V | PTE_R | PTE_W);
    l0_test[P_AD2] = leaf(pa(data[4]), PTE_V | PTE_R | PTE_W);
    l0_test[P_SF] = leaf(pa(data[5]), rw);
    l0_test[P_SX] = leaf(page, PTE_V | PTE_X | PTE_A);
    l0_test[P_STR_S] = leaf(page, PTE_V | PTE_R | PTE_X | PTE_A);
    l0_test[P_STR_S2] = 0;
    l0_test[P_STR_U] = leaf(page, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A);
    l0_test[P_STR_U2] = 0;
    l0_test[P_MIS] = leaf(pa(data[7]), rw);
    l0_test[P_MIS2] = 0;
    l0_test[P_PTR0] = ptr(data[0]);
    l0_test[P_UXO] = leaf(pa(data[1]), PTE_V | PTE_X | PTE_U | PTE_A);
    l0_test[P_URO] = leaf(pa(data[1]), PTE_V | PTE_R | PTE_U | PTE_A);
    l0_test[P_WXNR] = leaf(pa(data[0]), PTE_V | PTE_W | PTE_X | PTE_A | PTE_D);
    l0_test[P_ROAD] = leaf(pa(data[1]), PTE_V | PTE_R);
    l0_test[P_AMOAD] = leaf(pa(data[4]), PTE_V | PTE_R | PTE_W);
    l0_test[P_LRAD] = leaf(pa(data[4]), PTE_V | PTE_R | PTE_W);
    l0_test[P_XAD] = leaf(page, PTE_V | PTE_X);
    l0_test[P_UAD] = leaf(pa(data[2]), PTE_V | PTE_R | PTE_W | PTE_U);
    l0_test[P_MPRVAD] = leaf(pa(data[4]), PTE_V | PTE_R | PTE_W);
    l0_test[P_RSV60] = leaf(pa(data[1]), rw) | (1UL << 60);
    l0_test[P_UXC] = leaf(page, PTE_V | PTE_X | PTE_U | PTE_A);
    l0_test[P_CS] = leaf(page, PTE_V | PTE_R | PTE_X | PTE_A);
    l0_test[P_SMC_W] = leaf(pa(data[0]), rw);
    l0_test[P_SMC_X] = leaf(pa(data[0]), PTE_V | PTE_X | PTE_A);
    l0_test[P_PAIR] = leaf(pa(data[2]), rw);

    l1_test[0] = ptr(l0_test);
    l1_test[1] = leaf(RAM_BASE + 0x1000, rwx);         /* misaligned megapage */
    l1_test[2] = leaf(MEGA_PA, PTE_V | PTE_R | PTE_W); /* A/D clear */
    l1_test[3] = leaf(NORAM_PA, rw);
    l1_test[4] = (NORAM_PA >> 12) << 10 | PTE_V;
    l1_test[5] = leaf(NORAM_PA, rwx);

    root[1] = ptr(l1_test);
    root[2] = ptr(l1_ram);
    root[3] = leaf(RAM_BASE, PTE_V | PTE_R | PTE_W);   /* gigapage alias, A/D clear */
    root[4] = leaf(RAM_BASE + 0x200000, rwx);          /* misaligned gigapage */
    root[5] = leaf(0, rw);                             /* devices */
    /* Pointers to l1_test with bits that are reserved in non-leaf PTEs. */
    root[6] = ptr(l1_test) | PTE_A;
    root[7] = ptr(l1_test) | PTE_D;
    root[8] = ptr(l1_test) | PTE_U;
    root[9] = ptr(l1_test) | (1UL << 54);
    root[10] = ptr(l1_test) | (1UL << 61);
    root[11] = ptr(l1_test) | (1UL << 63);
    root[12] = ptr(l1_test) | (1UL << 5);              /* G: allowed in pointers */
    root[0x101] = ptr(l1_test);

    for (int i = 0; i < 512; i++)
        rootB[i] = root[i];
    rootB[2] = leaf(RAM_BASE, rwx);                    /* identity gigapage */
    rootB[3] = 0;                                      /* no gigapage alias */

    for (int p = 0; p < 8; p++)
        for (int w = 0; w < 512; w++)
            data[p][w] = dval(p, w);
}

/* ---- The checks -------------------------------------------------------- */
static void check_mappings(void)
{
    section("mappings");
    /* 4 KiB identity: the snippets themselves run through l0_ram. */
    check("ld identity 4K", S, at(S, p_ld), pa(&data[1][3]), 0, 0, 0);
    check("ld T(RW)", S, at(S, p_ld), T(P_RW) + 16, 0, 0, 0);
    check("ld upper-half canonical", S, at(S, p_ld), HIGH_VA(T(P_RW)) + 8, 0, 0, 0);
    /* 2 MiB: identity and an alias; store through one, load through the other. */
    check("sd megapage alias, ld identity megapage", S, at(S, p_sd_ld),
          MEGA_VA + 0x1238, 0x1122334455667788UL, MEGA_PA + 0x1238, 0);
    check("sd identity megapage, ld megapage alias", S, at(S, p_sd_ld),
          MEGA_PA + 0x3000, 0x0102030405060708UL, MEGA_VA + 0x3000, 0);
    /* 1 GiB: a gigapage alias of RAM (root[3]). */
    check("sd gigapage alias, ld megapage alias", S, at(S, p_sd_ld),
          GIGA_VA + 0x400000 + 0x2000, 0xCAFEF00D12345678UL, MEGA_VA + 0x2000, 0);
    check("ld gigapage alias of data[1]", S, at(S, p_ld),
          GIGA_VA + (pa(&data[1][5]) - RAM_BASE), 0, 0, 0);
    /* Two 4 KiB pages naming one frame. */
    check("sd T(AL1), ld T(AL2)", S, at(S, p_sd_ld), T(P_AL1) + 0x40,
          0xA11A5A11A5A11A5UL, T(P_AL2) + 0x40, 0);
    check("sd T(AL2)+0x48, ld T(AL1)+0x48", S, at(S, p_sd_ld), T(P_AL2) + 0x48,
          0x5EE5EE5EE5EE5EEUL, T(P_AL1) + 0x48, 0);
    pf("  M reads data[3][8]=%x data[3][9]=%x\n", data[3][8], data[3][9]);
    pf("  M reads 0x80401238=%x 0x80402000=%x\n",
       *(volatile u64 *)(MEGA_PA + 0x1238), *(volatile u64 *)(MEGA_PA + 0x2000));
    print_pte("megapage alias l1_test[2]", l1_test[2]);
    print_pte("gigapage alias root[3]", root[3]);
    print_pte("pointer root[1]", root[1]);
    print_pte("pointer l1_test[0]", l1_test[0]);

    /* Identity gigapage: switch to rootB, where root[2] is a 1 GiB leaf; the
     * snippet is fetched through it too. */
    write_csr(satp, satp_for(rootB));
    sfence();
    check("rootB: ld identity gigapage", S, at(S, p_ld), pa(&data[1][7]), 0, 0, 0);
    check("rootB: sd+ld identity gigapage", S, at(S, p_sd_ld),
          pa(&data[0][9]), 0x6161616161616161UL, pa(&data[0][9]), 0);
    write_csr(satp, satp_for(root));
    sfence();
    pf("  M reads data[0][9]=%x\n", data[0][9]);
}

/* Loads, stores, fetches against every kind of PTE; run twice: without
 * delegation (traps in M) and with page faults delegated to S. */
static void check_faults(void)
{
    u64 ld = at(S, p_ld), sd = at(S, p_sd), jr = at(S, p_jr);
    u64 uld = at(U, p_ld), usd = at(U, p_sd), ujr = at(U, p_jr);
    u64 v = 0x7777777777777777UL;

    /* Loads */
    check("ld V=0", S, ld, T(P_INV), 0, 0, 0);
    check("ld W-without-R", S, ld, T(P_WNR) + 8, 0, 0, 0);
    check("ld WX-without-R", S, ld, T(P_WXNR), 0, 0, 0);
    check("ld X-only MXR=0", S, ld, T(P_XO) + 0x10, 0, 0, 0);
    check("ld X-only MXR=1", S, ld, T(P_XO) + 0x10, 0, 0, MSTATUS_MXR);
    check("ld R-only", S, ld, T(P_RO) + 0x18, 0, 0, 0);
    check("ld U page SUM=0", S, ld, T(P_URW), 0, 0, 0);
    check("ld U page SUM=1", S, ld, T(P_URW), 0, 0, MSTATUS_SUM);
    check("ld U X-only SUM=1 MXR=0", S, ld, T(P_UXO), 0, 0, MSTATUS_SUM);
    check("ld U X-only SUM=1 MXR=1", S, ld, T(P_UXO), 0, 0, MSTATUS_SUM | MSTATUS_MXR);
    check("ld non-canonical 0x0000004040004000", S, ld, 0x0000004040004000UL, 0, 0, 0);
    check("ld non-canonical 0x8000000040004000", S, ld, 0x8000000040004000UL, 0, 0, 0);
    check("ld non-canonical 0xffffff8040004000", S, ld, 0xFFFFFF8040004000UL, 0, 0, 0);
    check("ld unmapped upper half 0xffffffc080000000", S, ld, 0xFFFFFFC080000000UL, 0, 0, 0);
    check("ld misaligned megapage", S, ld, MEGA_MIS_VA + 0x100, 0, 0, 0);
    check("ld misaligned gigapage", S, ld, GIGA_MIS_VA + 0x100, 0, 0, 0);
    check("ld PTE bit 54", S, ld, T(P_RSV54), 0, 0, 0);
    check("ld PTE bit 60", S, ld, T(P_RSV60), 0, 0, 0);
    check("ld PTE PBMT=1", S, ld, T(P_PBMT), 0, 0, 0);
    check("ld PTE N", S, ld, T(P_NAPOT), 0, 0, 0);
    check("ld pointer PTE at level 0", S, ld, T(P_PTR0), 0, 0, 0);
    check("ld root[0] invalid", S, ld, 0x1000, 0, 0, 0);
    check("ld via pointer PTE with A", S, ld, 6 * 0x40000000UL + 0x4000, 0, 0, 0);
    check("ld via pointer PTE with D", S, ld, 7 * 0x40000000UL + 0x4000, 0, 0, 0);
    check("ld via pointer PTE with U", S, ld, 8 * 0x40000000UL + 0x4000, 0, 0, 0);
    check("ld via pointer PTE with bit 54", S, ld, 9 * 0x40000000UL + 0x4000, 0, 0, 0);
    check("ld via pointer PTE with PBMT=1", S, ld, 10 * 0x40000000UL + 0x4000, 0, 0, 0);
    check("ld via pointer PTE with N", S, ld, 11 * 0x40000000UL + 0x4000, 0, 0, 0);
    check("ld via pointer PTE with G", S, ld, 12 * 0x40000000UL + 0x4000, 0, 0, 0);
    check("lw misaligned in page", S, at(S, p_lw), T(P_RW) + 0x23, 0, 0, 0);
    check("ld S page", U, uld, T(P_RW), 0, 0, 0);
    check("ld U page", U, uld, T(P_URW) + 8, 0, 0, 0);
    check("ld U R-only", U, uld, T(P_URO) + 8, 0, 0, 0);
    check("ld U X-only MXR=0", U, uld, T(P_UXO), 0, 0, 0);
    check("ld U X-only MXR=1", U, uld, T(P_UXO), 0, 0, MSTATUS_MXR);
    check("ld V=0", U, uld, T(P_INV) + 0x800, 0, 0, 0);
    check("ld identity (S page)", U, uld, pa(&data[1][0]), 0, 0, 0);

    /* Stores */
    check("sd V=0", S, sd, T(P_INV) + 0x10, v, 0, 0);
    check("sd W-without-R", S, sd, T(P_WNR), v, 0, 0);
    check("sd R-only", S, sd, T(P_RO) + 0x20, v, 0, 0);
    check("sd X-only MXR=1", S, sd, T(P_XO), v, 0, MSTATUS_MXR);
    check("sd U page SUM=0", S, sd, T(P_URW) + 0x30, v, 0, 0);
    check("sd U page SUM=1", S, sd, T(P_URW) + 0x30, v, 0, MSTATUS_SUM);
    check("sd non-canonical 0x0000004040004000", S, sd, 0x0000004040004000UL, v, 0, 0);
    check("sd misaligned megapage", S, sd, MEGA_MIS_VA, v, 0, 0);
    check("sd PTE bit 54", S, sd, T(P_RSV54), v, 0, 0);
    check("sw misaligned in page", S, at(S, p_sw), T(P_RW) + 0x41, 0x89ABCDEF, 0, 0);
    check("sd S page", U, usd, T(P_RW), v, 0, 0);
    check("sd U R-only", U, usd, T(P_URO), v, 0, 0);
    check("sd U page", U, usd, T(P_URW) + 0x38, 0x3838383838383838UL, 0, 0);
    pf("  M reads data[2][6]=%x data[2][7]=%x data[1][8]=%x data[1][9]=%x\n",
       data[2][6], data[2][7], data[1][8], data[1][9]);

    /* Fetches: mret straight to the address, or jump there. */
    check("fetch V=0 (mret)", S, T(P_INV) + 0x20, 0, 0, 0, 0);
    check("jump to V=0", S, jr, T(P_INV) + 0x24, 0, 0, 0);
    check("jump to RW (no X)", S, jr, T(P_RW), 0, 0, 0);
    check("jump to R-only", S, jr, T(P_RO) + 4, 0, 0, 0);
    check("jump to WX-without-R", S, jr, T(P_WXNR), 0, 0, 0);
    check("jump to U code SUM=0", S, jr, at(U, p_ecall), 0, 0, 0);
    check("jump to U code SUM=1", S, jr, at(U, p_ecall), 0, 0, MSTATUS_SUM);
    check("jump to X-only code", S, jr, T(P_SX) + (u64)(p_ecall - probe_page), 0, 0, 0);
    check("jump to X-only code MXR=1", S, jr, T(P_SX) + (u64)(p_ecall - probe_page), 0, 0, MSTATUS_MXR);
    check("jump to non-canonical", S, jr, 0x0000004040006000UL, 0, 0, 0);
    check("jump to misaligned megapage", S, jr, MEGA_MIS_VA + 0x40, 0, 0, 0);
    check("jump to S code", U, ujr, at(S, p_ecall), 0, 0, 0);
    check("jump to U code", U, ujr, at(U, p_ecall), 0, 0, 0);
    check("jump to U X-only code", U, ujr, T(P_UXC) + (u64)(p_ecall - probe_page), 0, 0, 0);
    check("fetch S code (mret)", U, at(S, p_ecall), 0, 0, 0, 0);

    /* An instruction straddling into an unmapped page, then into a mapped one. */
    u64 str = (u64)(p_straddle - probe_page);
    check("straddle into V=0", S, jr, T(P_STR_S) + str, 41, 0, 0);
    check("straddle into V=0 (mret)", S, T(P_STR_S) + str, 41, 0, 0, 0);
    set_test_pte(P_STR_S2, leaf(pa(probe_page) + 4096, PTE_V | PTE_R | PTE_X | PTE_A));
    check("straddle into mapped", S, jr, T(P_STR_S) + str, 41, 0, 0);
    set_test_pte(P_STR_S2, 0);
    check("straddle into V=0 again", S, jr, T(P_STR_S) + str, 41, 0, 0);
    check("straddle into V=0", U, ujr, T(P_STR_U) + str, 42, 0, 0);
    set_test_pte(P_STR_U2, leaf(pa(probe_page) + 4096, PTE_V | PTE_X | PTE_U | PTE_A));
    check("straddle into U X-only", U, ujr, T(P_STR_U) + str, 42, 0, 0);
    set_test_pte(P_STR_U2, leaf(pa(probe_page) + 4096, PTE_V | PTE_R | PTE_X | PTE_A));
    check("straddle into S page", U, ujr, T(P_STR_U) + str, 42, 0, 0);
    set_test_pte(P_STR_U2, 0);

    /* Misaligned accesses crossing into an unmapped page. */
    data[7][511] = 0x1716151413121110UL;
    check("ld crossing into V=0", S, ld, T(P_MIS) + 0xFFC, 0, 0, 0);
    check("sd crossing into V=0", S, sd, T(P_MIS) + 0xFFA, 0xEEEEEEEEEEEEEEEEUL, 0, 0);
    check("lw crossing into V=0", S, at(S, p_lw), T(P_MIS) + 0xFFE, 0, 0, 0);
    check("sw crossing into V=0", S, at(S, p_sw), T(P_MIS) + 0xFFF, 0xEEEEEEEE, 0, 0);
    check("ld crossing from V=0", S, ld, T(P_MIS2) + 0xFFC, 0, 0, 0);
    check("sd crossing into U page", S, sd, T(P_RW) + 0xFFC, 0xEEEEEEEEEEEEEEEEUL, 0, 0);
    pf("  M reads data[7][511]=%x\n", data[7][511]);
    set_test_pte(P_MIS2, leaf(pa(data[0]), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
    check("ld crossing into mapped", S, ld, T(P_MIS) + 0xFFC, 0, 0, 0);
    check("sd crossing into mapped", S, sd, T(P_MIS) + 0xFFD, 0x2827262524232221UL, 0, 0);
    set_test_pte(P_MIS2, 0);
    pf("  M reads data[7][511]=%x data[0][0]=%x\n", data[7][511], data[0][0]);
    data[0][0] = dval(0, 0);
    data[7][511] = dval(7, 511);

    /* Atomics (see LOOSE_AMO). */
    loose = LOOSE_AMO;
    check("amoadd.d R-only", S, at(S, p_amoadd), T(P_RO), 1, 0, 0);
    check("amoadd.d X-only MXR=1", S, at(S, p_amoadd), T(P_XO), 1, 0, MSTATUS_MXR);
    check("amoadd.d U page SUM=0", S, at(S, p_amoadd), T(P_URW), 1, 0, 0);
    check("lr.d X-only", S, at(S, p_lr), T(P_XO), 0, 0, 0);
    check("lr.d X-only MXR=1", S, at(S, p_lr), T(P_XO) + 8, 0, 0, MSTATUS_MXR);
    check("lr.d V=0", S, at(S, p_lr), T(P_INV), 0, 0, 0);
    check("amoswap.w misaligned", S, at(S, p_amoswap_w), T(P_RW) + 2, 1, 0, 0);
    check("amoswap.w misaligned V=0", S, at(S, p_amoswap_w), T(P_INV) + 2, 1, 0, 0);
    check("lr.d misaligned", S, at(S, p_lr), T(P_RW) + 4, 0, 0, 0);
    check("amoadd.d U page", U, at(U, p_amoadd), T(P_URW) + 0x50, 5, 0, 0);
    check("amoadd.d S page", U, at(U, p_amoadd), T(P_RW) + 0x50, 5, 0, 0);
    loose = EXACT;

    /* Environment calls and privileged instructions. */
    check("ecall", U, at(U, p_ecall), 0, 0, 0, 0);
    check("ecall", S, at(S, p_ecall), 0, 0, 0, 0);
    check("mret", S, at(S, p_mret), 0, 0, 0, 0);
    check("sret", U, at(U, p_sret), 0, 0, 0, 0);
    check("csrr mstatus", S, at(S, p_rd_mstatus), 0, 0, 0, 0);
    check("csrr sstatus", U, at(U, p_rd_sstatus), 0, 0, 0, 0);
    check("sfence.vma", U, at(U, p_sfence), 0, 0, 0, 0);
}

static void check_ad_bits(void)
{
    section("A and D bits");
    u64 ld = at(S, p_ld), sd = at(S, p_sd);
    print_pte("T(AD) before", l0_test[P_AD]);
    check("ld T(AD)", S, ld, T(P_AD), 0, 0, 0);
    print_pte("T(AD) after ld", l0_test[P_AD]);
    check("ld T(AD) again", S, ld, T(P_AD) + 8, 0, 0, 0);
    print_pte("T(AD) after 2nd ld", l0_test[P_AD]);
    check("sd T(AD)", S, sd, T(P_AD) + 0x10, 0xADADADADADADADADUL, 0, 0);
    print_pte("T(AD) after sd", l0_test[P_AD]);

    check("sd T(AD2) first", S, sd, T(P_AD2) + 0x18, 0xAD2AD2AD2UL, 0, 0);
    print_pte("T(AD2) after sd", l0_test[P_AD2]);

    check("sd R-only T(ROAD)", S, sd, T(P_ROAD), 1, 0, 0);
    print_pte("T(ROAD) after faulting sd", l0_test[P_ROAD]);
    check("ld T(ROAD)", S, ld, T(P_ROAD), 0, 0, 0);
    print_pte("T(ROAD) after ld", l0_test[P_ROAD]);

    check("amoadd.d T(AMOAD)", S, at(S, p_amoadd), T(P_AMOAD) + 0x20, 3, 0, 0);
    print_pte("T(AMOAD) after amoadd", l0_test[P_AMOAD]);
    check("lr.d T(LRAD)", S, at(S, p_lr), T(P_LRAD) + 0x28, 0, 0, 0);
    print_pte("T(LRAD) after lr", l0_test[P_LRAD]);

    check("jump to X-only T(XAD)", S, at(S, p_jr), T(P_XAD) + (u64)(p_ecall - probe_page), 0, 0, 0);
    print_pte("T(XAD) after fetch", l0_test[P_XAD]);

    check("ld U page T(UAD) SUM=0", S, ld, T(P_UAD), 0, 0, 0);
    print_pte("T(UAD) after faulting S ld", l0_test[P_UAD]);
    check("ld T(UAD)", U, at(U, p_ld), T(P_UAD), 0, 0, 0);
    print_pte("T(UAD) after U ld", l0_test[P_UAD]);
    check("sd T(UAD) SUM=1", S, sd, T(P_UAD) + 8, 0x5555, 0, MSTATUS_SUM);
    print_pte("T(UAD) after S sd", l0_test[P_UAD]);

    /* Leaves at levels 1 and 2 (A/D clear at setup; set by the mapping checks). */
    l1_test[2] = leaf(MEGA_PA, PTE_V | PTE_R | PTE_W);
    root[3] = leaf(RAM_BASE, PTE_V | PTE_R | PTE_W);
    sfence();
    /* A misaligned access that faults on its second page.  Both QEMU and
     * Lockstep translate the first page first (setting A, and D for a store)
     * and write nothing; the spec allows a split access to be partly
     * performed, so this is allowed, not required. */
    set_test_pte(P_MIS, leaf(pa(data[7]), PTE_V | PTE_R | PTE_W));
    check("ld crossing into V=0, T(MIS) A/D clear", S, ld, T(P_MIS) + 0xFFC, 0, 0, 0);
    print_pte("T(MIS) after faulting crossing ld", l0_test[P_MIS]);
    set_test_pte(P_MIS, leaf(pa(data[7]), PTE_V | PTE_R | PTE_W));
    check("sd crossing into V=0, T(MIS) A/D clear", S, sd, T(P_MIS) + 0xFFC, 1, 0, 0);
    print_pte("T(MIS) after faulting crossing sd", l0_test[P_MIS]);
    set_test_pte(P_MIS, leaf(pa(data[7]), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));

    check("ld megapage alias", S, ld, MEGA_VA + 0x1238, 0, 0, 0);
    print_pte("l1_test[2] after ld", l1_test[2]);
    check("ld gigapage alias", S, ld, GIGA_VA + 0x401238, 0, 0, 0);
    print_pte("root[3] after ld", root[3]);
    check("sd gigapage alias", S, sd, GIGA_VA + 0x401240, 0x4040, 0, 0);
    print_pte("root[3] after sd", root[3]);
    print_pte("l1_test[2] (untouched by the gigapage sd)", l1_test[2]);
    print_pte("pointer root[1]", root[1]);
    print_pte("pointer l1_test[0]", l1_test[0]);
}

static void check_sfence(void)
{
    section("sfence.vma");
    u64 a = leaf(pa(data[5]), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    u64 b = leaf(pa(data[6]), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);

    set_test_pte(P_SF, a);
    check("ld T(SF) -> data[5]", S, at(S, p_ld), T(P_SF), 0, 0, 0);
    /* Retarget without sfence.vma: the old translation may still be used, so
     * nothing is printed until after an sfence.vma. */
    l0_test[P_SF] = b;
    run(S, at(S, p_ld), T(P_SF), 0, 0, 0);
    check("sfence.vma; ld T(SF) -> data[6]", S, at(S, p_sfence_ld), T(P_SF), 0, 0, 0);
    l0_test[P_SF] = a;
    run(S, at(S, p_ld), T(P_SF), 0, 0, 0);
    check("sfence.vma T(SF); ld T(SF) -> data[5]", S, at(S, p_sfence_va_ld), T(P_SF), 0, 0, 0);
    /* S-mode retargets the page itself (page tables are S-writable). */
    run(S, at(S, p_remap), T(P_SF) + 8, pa(&l0_test[P_SF]), b, 0);
    pf("S ld; sd pte; sfence.vma; ld: before=%x after=%x ", probe_out.a1, probe_out.a0);
    print_trap();
    putchar('\n');
    run(S, at(S, p_remap), T(P_SF) + 8, pa(&l0_test[P_SF]), 0, 0);
    pf("S ld; sd pte=0; sfence.vma; ld: ");
    print_trap();
    putchar('\n');
    set_test_pte(P_SF, a);
}

/* Changes to what translation depends on, made without leaving the mode:
 * every one is followed by an access whose result is architecturally fixed. */
static void check_context(void)
{
    section("translation context changes");
    /* sstatus.SUM / MXR changed by S itself. */
    run(S, at(S, p_status_2ld), T(P_URW) + 0x10, 0, MSTATUS_SUM, 0);
    pf("S SUM=1: ld U page; SUM=0: ld again: a1=%x ", probe_out.a1);
    print_trap();
    putchar('\n');
    run(S, at(S, p_status_2ld), T(P_XO) + 0x18, 0, MSTATUS_MXR, 0);
    pf("S MXR=1: ld X-only; MXR=0: ld again: a1=%x ", probe_out.a1);
    print_trap();
    putchar('\n');

    /* MPRV and MPP changed in M between two loads of one address, which is
     * remapped (identity page of data[0] -> data[6]) for S. */
    int k = (int)((pa(data[0]) - RAM_BASE) >> 12);
    u64 saved = l0_ram[k];
    l0_ram[k] = leaf(pa(data[6]), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    sfence();
    run4(M, at(M, p_mprv_2ld), pa(&data[0][3]), 0, MSTATUS_MPRV | (1UL << 11), MSTATUS_MPRV, 0);
    pf("M MPRV=1 MPP=S ld; MPRV=0 ld: a1=%x ", probe_out.a1);
    print_trap();
    putchar('\n');
    run4(M, at(M, p_mprv_2ld), pa(&data[0][3]), 0, MSTATUS_MPRV | (1UL << 11), 1UL << 11, 0);
    pf("M MPRV=1 MPP=S ld; MPP=U ld: a1=%x ", probe_out.a1);
    print_trap();
    putchar('\n');
    run4(M, at(M, p_mprv_2ld), pa(&data[0][3]), 0, MSTATUS_MPRV | MSTATUS_MPP, 2UL << 11, 0);
    pf("M MPRV=1 MPP=M ld; MPP=S ld: a1=%x ", probe_out.a1);
    print_trap();
    putchar('\n');
    l0_ram[k] = saved;
    sfence();

    /* S switches satp to rootB (no gigapage alias) and fences. */
    run(S, at(S, p_satp_switch), GIGA_VA + 0x401238, 0, satp_for(rootB), 0);
    pf("S ld gigapage alias; satp=rootB; sfence.vma; ld: a1=%x ", probe_out.a1);
    print_trap();
    putchar('\n');
    write_csr(satp, satp_for(root));
    sfence();

    /* Code remaps the page it runs from, fences, and jumps to its next
     * instruction, which now comes from probe_page_alt (a0=2). */
    u64 cs_pte = l0_test[P_CS];
    u64 off = (u64)(p_code_swap - probe_page);
    check("remap own code page, sfence.vma, jr next", S, T(P_CS) + off,
          0, pa(&l0_test[P_CS]), leaf(pa(probe_page_alt), PTE_V | PTE_R | PTE_X | PTE_A), 0);
    set_test_pte(P_CS, cs_pte);
    check("map own code page again, sfence.vma, jr next", S, T(P_CS) + off,
          0, pa(&l0_test[P_CS]), cs_pte, 0);

    /* Code written through a writable alias, run through an execute-only one. */
    check("write li a0,5 via W alias, fence.i, run via X alias", S, at(S, p_smc),
          T(P_SMC_W) + 0x800, 0x00500513, T(P_SMC_X) + 0x800, 0);
    check("write li a0,6 via W alias, fence.i, run via X alias", S, at(S, p_smc),
          T(P_SMC_W) + 0x800, 0x00600513, T(P_SMC_X) + 0x800, 0);

    /* Two pages 1 MiB apart (the same slot of a 256-entry direct-mapped TLB). */
    run(S, at(S, p_ld_pair), T(P_RW) + 0x60, T(P_PAIR) + 0x60, 0, 0);
    pf("S ld T(RW), ld T(RW)+1MiB, ld T(RW): a0=%x a1=%x ", probe_out.a0, probe_out.a1);
    print_trap();
    putchar('\n');
}

static void check_interrupts(void)
{
    section("interrupts below M");
    const u64 ssip = 1UL << 1;
    write_csr(mideleg, 0);
    write_csr(mie, ssip);
    set_csr(mip, ssip);
    /* Not delegated: an M-level interrupt, enabled in S and U whatever MIE. */
    check("SSIP pending, mideleg=0", S, at(S, p_ecall), 0, 0, 0, 0);
    check("SSIP pending, mideleg=0", U, at(U, p_ecall), 0, 0, 0, 0);
    /* Delegated: taken in U always, in S only with SIE=1. */
    write_csr(mideleg, ssip);
    check("SSIP pending, delegated, SIE=0", S, at(S, p_ecall), 0, 0, 0, 0);
    check("SSIP pending, delegated, SIE=1", S, at(S, p_ecall), 0, 0, 0, SSTATUS_SIE);
    clear_csr(mstatus, SSTATUS_SPIE);
    check("SSIP pending, delegated", U, at(U, p_ecall), 0, 0, 0, 0);
    /* Vectored stvec: interrupt N at entry N, exceptions at entry 0. */
    write_csr(stvec, (uintptr_t)s_vectors | 1);
    pf("  stvec mode=%u\n", read_csr(stvec) & 3);
    check("SSIP pending, delegated, vectored stvec", U, at(U, p_ecall), 0, 0, 0, 0);
    clear_csr(mip, ssip);
    write_csr(medeleg, 1UL << 13);
    check("ld V=0, delegated, vectored stvec", S, at(S, p_ld), T(P_INV), 0, 0, 0);
    write_csr(medeleg, 0);
    write_csr(stvec, (uintptr_t)s_handler);
    /* WFI: resumes when an interrupt is pending and enabled in mie, even if
     * it is not taken; illegal in U, and in S with TW=1. */
    set_csr(mip, ssip);
    check("wfi, SSIP pending+enabled, SIE=0", S, at(S, p_wfi), 0, 0, 0, 0);
    check("wfi TW=1", S, at(S, p_wfi), 0, 0, 0, MSTATUS_TW);
    clear_csr(mip, ssip);
    check("wfi, nothing pending", U, at(U, p_wfi), 0, 0, 0, 0);
    write_csr(mideleg, 0);
    /* The machine timer fires as soon as U runs. */
    write_csr(mie, 1UL << 7);
    clint_set_mtimecmp(0);
    check("mtimecmp=0, MTIE=1", U, at(U, p_ecall), 0, 0, 0, 0);
    clint_set_mtimecmp(~0UL);
    write_csr(mie, 0);
}

static void check_devices(void)
{
    section("devices and missing memory through page tables");
    pf("S sb 'Z' to the UART through a gigapage: ");
    run(S, at(S, p_sb), DEV_VA + UART0_BASE, 'Z', 0, 0);
    putchar(' ');
    print_trap();
    putchar('\n');
    check("lbu UART LSR through a gigapage", S, at(S, p_lbu), DEV_VA + UART0_BASE + UART_LSR, 0, 0, 0);
    check("lbu UART LSR (S page)", U, at(U, p_lbu), DEV_VA + UART0_BASE + UART_LSR, 0, 0, 0);
    check("ld no memory behind a megapage", S, at(S, p_ld), NORAM_VA + 0x10, 0, 0, 0);
    check("sd no memory behind a megapage", S, at(S, p_sd), NORAM_VA + 0x18, 1, 0, 0);
    check("jump to no memory behind a megapage", S, at(S, p_jr), NORAM_X_VA + 0x20, 0, 0, 0);
    loose = LOOSE_WALK;
    check("ld through a page table outside RAM", S, at(S, p_ld), NORAM_PT_VA, 0, 0, 0);
    loose = EXACT;
}

static void check_satp(void)
{
    section("satp");
    u64 good = satp_for(root);
    u64 v;
    /* QEMU implements 16 ASID bits, Lockstep none (ASID reads as 0): both are
     * allowed, so the ASID field is masked out of what is printed. */
    write_csr(satp, good | SATP_ASID);
    v = read_csr(satp);
    pf("M satp=Sv39|ASID=ffff|root: mode=%u ppn-ok=%u (ASID masked)\n", v >> 60,
       (v & ~SATP_ASID) == good);
    /* Sv48: QEMU implements it, Lockstep does not (WARL: write ignored).
     * Nothing that depends on it is printed; satp is rewritten at once. */
    write_csr(satp, SATP_SV48 | ((uintptr_t)root >> 12));
    write_csr(satp, good);
    v = read_csr(satp);
    pf("M satp=Sv39 again: %s\n", v == good ? "ok" : "differs");
    write_csr(satp, (1UL << 60) | 0x1234);   /* reserved mode: ignored */
    v = read_csr(satp);
    pf("M satp=mode 1: %s\n", v == good ? "unchanged" : "changed");
    write_csr(satp, 0);
    pf("M satp=0: %x\n", read_csr(satp));
    write_csr(satp, good);
    sfence();

    check_traps("csrr satp", S, at(S, p_rd_satp), 0, 0);
    pf("  S reads satp==root: %u\n", (probe_out.a0 & ~SATP_ASID) == good);
    check_traps("csrw satp (same value)", S, at(S, p_satp_rw), good, 0);
    check_traps("csrr satp TVM=1", S, at(S, p_rd_satp), 0, MSTATUS_TVM);
    check_traps("csrw satp TVM=1", S, at(S, p_satp_rw), good, MSTATUS_TVM);
    check_traps("sfence.vma TVM=1", S, at(S, p_sfence), 0, MSTATUS_TVM);
    check_traps("sfence.vma TVM=0", S, at(S, p_sfence), 0, 0);
    check_traps("csrr satp", U, at(U, p_rd_satp), 0, 0);
    /* M-mode is not translated, whatever satp says. */
    pf("M ld data[1][1] with satp=Sv39: %x\n", data[1][1]);
}

static void check_status(void)
{
    section("sstatus and mstatus");
    const u64 s_fields = SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;
    const u64 m_only = MSTATUS_MPP | (1UL << 7) | MSTATUS_TVM | MSTATUS_TSR | (1UL << 21);
    u64 saved = read_csr(mstatus);

    clear_csr(mstatus, s_fields | m_only | MSTATUS_MPRV);
    pf("M mstatus base=%x sstatus=%x\n", read_csr(mstatus), read_csr(sstatus));
    set_csr(mstatus, SSTATUS_SPP | MSTATUS_SUM | (1UL << 11) | (1UL << 7) | MSTATUS_TVM);
    pf("M mstatus|=SPP,SUM,MPP=S,MPIE,TVM: mstatus=%x sstatus=%x\n",
       read_csr(mstatus), read_csr(sstatus));
    /* Writing sstatus only reaches its fields. */
    set_csr(sstatus, SSTATUS_SPIE | MSTATUS_MXR | MSTATUS_MPP | MSTATUS_TSR | (1UL << 3));
    pf("M sstatus|=SPIE,MXR,MPP,TSR,MIE: mstatus=%x sstatus=%x\n",
       read_csr(mstatus), read_csr(sstatus));
    clear_csr(sstatus, SSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR | SSTATUS_SPIE | MSTATUS_TVM);
    pf("M sstatus&=~(SPP,SUM,MXR,SPIE,TVM): mstatus=%x sstatus=%x\n",
       read_csr(mstatus), read_csr(sstatus));
    write_csr(mstatus, saved);

    /* From S: sstatus read in S after mret (SPP/SPIE as set by M). */
    set_csr(mstatus, SSTATUS_SPIE | MSTATUS_SUM);
    check("csrr sstatus (SPIE,SUM set)", S, at(S, p_rd_sstatus), 0, 0, 0, 0);
    clear_csr(mstatus, SSTATUS_SPIE | MSTATUS_SUM);

    /* mret to M: MPP becomes U, MIE = MPIE (0), MPIE = 1. */
    {
        u64 v;
        clear_csr(mstatus, (1UL << 7));
        set_csr(mstatus, MSTATUS_MPP);
        __asm__ volatile ("la t0, 1f\n\tcsrw mepc, t0\n\tmret\n1:\tcsrr %0, mstatus"
                          : "=r"(v) :: "t0", "memory");
        pf("M mret to M: mpp=%u mpie=%u mie=%u\n", (v >> 11) & 3, (v >> 7) & 1, (v >> 3) & 1);
    }

    section("privilege transitions");
    /* Not checked: "an MRET or SRET that changes the privilege mode to a mode
     * less privileged than M also sets MPRV=0" (priv 1.12).  Lockstep does;
     * QEMU 7.2 leaves MPRV set (later QEMU clears it), and an M-mode handler
     * entered from U with MPRV=1, MPP=U then faults on its own stores.  Every
     * probe here clears MPRV itself before leaving M. */
    /* sret from S to S and to U, selected by SPP. */
    check("sret SPP=S -> ecall", S, at(S, p_sret_to), at(S, p_ecall), SSTATUS_SPP, 0, 0);
    check("sret SPP=U -> ecall", S, at(S, p_sret_to), at(U, p_ecall), 0, 0, 0);
    check("sret SPP=U -> S code", S, at(S, p_sret_to), at(S, p_ecall), 0, 0, 0);
    /* After sret: SIE = SPIE (1), SPIE = 1, SPP = U. */
    run(S, at(S, p_sret_to), at(S, p_rd_sstatus), SSTATUS_SPP, 0, SSTATUS_SPIE);
    pf("S sret with SPIE=1 -> sstatus: spp=%u spie=%u sie=%u cause=%u\n",
       (probe_out.a0 >> 8) & 1, (probe_out.a0 >> 5) & 1, (probe_out.a0 >> 1) & 1, trap_cause());
    clear_csr(mstatus, SSTATUS_SIE);
    check("sret TSR=1", S, at(S, p_sret), 0, 0, 0, MSTATUS_TSR);
    check("sret to U, then sret in U", S, at(S, p_sret_to), at(U, p_sret), 0, 0, 0);
    /* ecall from U and S with cause 8/9 delegated: U's goes to S. */
    write_csr(medeleg, (1UL << 8));
    set_csr(mstatus, SSTATUS_SIE);
    check("ecall (medeleg[8]=1)", U, at(U, p_ecall), 0, 0, 0, 0);
    check("ecall (medeleg[8]=1)", S, at(S, p_ecall), 0, 0, 0, 0);
    clear_csr(mstatus, SSTATUS_SIE | SSTATUS_SPIE);
    write_csr(medeleg, (1UL << 9));
    check("ecall (medeleg[9]=1)", U, at(U, p_ecall), 0, 0, 0, 0);
    write_csr(medeleg, 0);
    /* A page fault from S delegated to S with SIE=1: SPP=1, SPIE=1. */
    write_csr(medeleg, (1UL << 13));
    check("ld V=0 SIE=1 (medeleg[13]=1)", S, at(S, p_ld), T(P_INV), 0, 0, SSTATUS_SIE);
    pf("  sstatus in handler: sie=%u\n", (s_out.sstatus >> 1) & 1);
    write_csr(medeleg, 0);
}

static void check_interrupt_regs(void)
{
    section("sie and sip");
    const u64 s_ints = (1UL << 1) | (1UL << 5) | (1UL << 9);
    const u64 m_ints = (1UL << 3) | (1UL << 7) | (1UL << 11);
    /* mstatus.MIE stays 0 throughout and nothing runs below M while bits are
     * pending and enabled. */
    write_csr(mideleg, s_ints | m_ints);
    pf("mideleg=0xaaa reads %h\n", read_csr(mideleg) & 0xAAA);
    write_csr(mideleg, s_ints);
    write_csr(mie, s_ints | m_ints);
    pf("mideleg=%h: mie=%h sie=%h\n", read_csr(mideleg) & 0xAAA, read_csr(mie) & 0xAAA,
       read_csr(sie) & 0xAAA);
    write_csr(mideleg, (1UL << 1));
    pf("mideleg=%h: mie=%h sie=%h\n", read_csr(mideleg) & 0xAAA, read_csr(mie) & 0xAAA,
       read_csr(sie) & 0xAAA);
    write_csr(sie, 0);
    pf("  sie=0 -> mie=%h sie=%h\n", read_csr(mie) & 0xAAA, read_csr(sie) & 0xAAA);
    write_csr(mideleg, s_ints);
    write_csr(sie, 0);
    pf("  mideleg=%h, sie=0 -> mie=%h sie=%h\n", read_csr(mideleg) & 0xAAA,
       read_csr(mie) & 0xAAA, read_csr(sie) & 0xAAA);
    write_csr(mie, 0);
    write_csr(sie, (1UL << 1) | (1UL << 5));
    pf("  sie=SSIE|STIE -> mie=%h sie=%h\n", read_csr(mie) & 0xAAA, read_csr(sie) & 0xAAA);
    write_csr(mie, 0);

    set_csr(mip, (1UL << 1));   /* SSIP: writable in mip */
    write_csr(mideleg, (1UL << 1));
    pf("mip.SSIP=1 mideleg=%h: mip&0x222=%h sip=%h\n", read_csr(mideleg) & 0xAAA,
       read_csr(mip) & 0x222, read_csr(sip) & 0xAAA);
    write_csr(mideleg, 0);
    pf("mip.SSIP=1 mideleg=0: mip&0x222=%h sip=%h\n", read_csr(mip) & 0x222, read_csr(sip) & 0xAAA);
    /* sip.SSIP is not writable when not delegated. */
    clear_csr(sip, (1UL << 1));
    pf("  sip&=~SSIP (not delegated): mip&0x222=%h\n", read_csr(mip) & 0x222);
    write_csr(mideleg, (1UL << 1));
    /* S reads sip/sie with SSIP pending but not enabled in mie: no interrupt. */
    check("csrr sip, sie (SSIP pending, SSIE=0)", S, at(S, p_rd_sip), 0, 0, 0, 0);
    pf("  sie=%h\n", probe_out.a1 & 0xAAA);
    clear_csr(sip, (1UL << 1));
    pf("  sip&=~SSIP (delegated): mip&0x222=%h\n", read_csr(mip) & 0x222);
    /* From S only SSIP is writable in sip; mie is 0, so nothing is taken. */
    write_csr(mideleg, s_ints);
    check("csrs sip, SSIP|STIP|SEIP (mideleg=0x222)", S, at(S, p_wr_sip), s_ints, 0, 0, 0);
    pf("  mip&0x222=%h\n", read_csr(mip) & 0x222);
    clear_csr(mip, s_ints);
    write_csr(mideleg, 0);
    write_csr(mie, 0);
}

static void check_counters(void)
{
    section("counters (trap or not; values not printed)");
    static const struct { u64 mcounteren, scounteren; } cases[] = {
        { 0, 0 }, { 7, 0 }, { 7, 7 }, { 0, 7 }, { 5, 2 }, { 2, 7 },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_csr(mcounteren, cases[i].mcounteren);
        write_csr(scounteren, cases[i].scounteren);
        pf("mcounteren=%u scounteren=%u\n", cases[i].mcounteren, cases[i].scounteren);
        for (int mode = S; mode >= U; mode--) {
            check_traps("  rdcycle", mode, at(mode, p_cycle), 0, 0);
            check_traps("  rdtime", mode, at(mode, p_time), 0, 0);
            check_traps("  rdinstret", mode, at(mode, p_instret), 0, 0);
        }
    }
    write_csr(mcounteren, 0);
    write_csr(scounteren, 0);
}

static void check_mprv(void)
{
    section("MPRV");
    u64 ld = at(M, p_mprv_ld), sd = at(M, p_mprv_sd);
    const u64 mprv_s = MSTATUS_MPRV | (1UL << 11);
    const u64 mprv_u = MSTATUS_MPRV;
    const u64 mprv_m = MSTATUS_MPRV | MSTATUS_MPP;

    check("MPRV MPP=S ld T(RW)", M, ld, T(P_RW) + 0x30, 0, mprv_s, 0);
    check("MPRV MPP=S ld V=0", M, ld, T(P_INV), 0, mprv_s, 0);
    check("MPRV MPP=S ld U page SUM=0", M, ld, T(P_URW), 0, mprv_s, 0);
    check("MPRV MPP=S ld U page SUM=1", M, ld, T(P_URW), 0, mprv_s, MSTATUS_SUM);
    check("MPRV MPP=S ld X-only MXR=1", M, ld, T(P_XO) + 0x38, 0, mprv_s, MSTATUS_MXR);
    check("MPRV MPP=U ld U page", M, ld, T(P_URW) + 8, 0, mprv_u, 0);
    check("MPRV MPP=U ld S page", M, ld, T(P_RW), 0, mprv_u, 0);
    check("MPRV MPP=M ld physical", M, ld, pa(&data[1][2]), 0, mprv_m, 0);
    check("MPRV MPP=S sd R-only", M, sd, T(P_RO), 1, mprv_s, 0);
    print_pte("T(MPRVAD) before", l0_test[P_MPRVAD]);
    check("MPRV MPP=S sd T(MPRVAD)", M, sd, T(P_MPRVAD) + 0x40, 0x4D505256, mprv_s, 0);
    print_pte("T(MPRVAD) after sd", l0_test[P_MPRVAD]);
    pf("  M reads data[4][8]=%x\n", data[4][8]);
    /* Page faults from M are never delegated. */
    write_csr(medeleg, (1UL << 13) | (1UL << 15));
    check("MPRV MPP=S ld V=0 (medeleg[13]=1)", M, ld, T(P_INV), 0, mprv_s, 0);
    write_csr(medeleg, 0);
    /* Without MPRV, M-mode is untranslated. */
    check("ecall", M, at(M, p_ecall), 0, 0, 0, 0);
}

int main(void)
{
    puts("vm: Sv39, S and U modes");
    write_csr(mie, 0);
    clint_set_mtimecmp(~0UL);
    /* QEMU enforces PMP for S and U: one NAPOT region over everything, RWX.
     * Lockstep keeps the registers but does not enforce them. */
    write_csr(pmpaddr0, ~0UL >> 10);
    write_csr(pmpcfg0, 0x1F);

    if ((uintptr_t)_end > RAM_BASE + 0x200000 || ((uintptr_t)probe_page & 0xFFF)) {
        puts("vm: layout does not fit the identity 4 KiB mapping");
        return 1;
    }
    build_tables();
    write_csr(stvec, (uintptr_t)s_handler);
    write_csr(medeleg, 0);
    write_csr(mideleg, 0);
    write_csr(satp, satp_for(root));
    sfence();

    check_mappings();

    section("faults, not delegated (medeleg=0)");
    check_faults();
    u64 deleg = (1UL << 2) | (1UL << 4) | (1UL << 6) | (1UL << 8) | (1UL << 12) | (1UL << 13) | (1UL << 15);
    write_csr(medeleg, deleg);
    pf("== faults, delegated (medeleg=%h)\n", read_csr(medeleg));
    check_faults();
    write_csr(medeleg, 0);

    check_ad_bits();
    check_sfence();
    check_context();
    check_satp();
    check_status();
    check_interrupt_regs();
    check_counters();
    check_interrupts();
    check_mprv();
    check_devices();

    write_csr(satp, 0);
    sfence();
    puts("vm: done");
    return 0;
}
