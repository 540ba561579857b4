/*
 * isa-checksum: exercises every instruction class of RV64IMAFDC + Zicsr +
 * Zifencei + Zicntr and folds every result (register values, fflags, memory
 * contents) into 64-bit FNV-1a checksums, printed per section:
 *
 *   int:   RV64I ALU (all R/I/W forms and shifts), LUI/AUIPC, branches both
 *          ways, JAL/JALR
 *   mem:   loads/stores of every width, signed and unsigned, aligned and
 *          misaligned
 *   mul:   M extension incl. divide by zero and INT_MIN / -1
 *   amo:   LR/SC success and failure, every AMO in .W and .D
 *   fp:    F and D: arithmetic, FMA, min/max, compares, fclass, sign
 *          injection, moves, all conversions, all rounding modes (static and
 *          dynamic via frm), NaN boxing, fflags after every operation
 *   csr:   csrrw/csrrs/csrrc/csrrwi/csrrsi/csrrci on mscratch, fflags, frm,
 *          fcsr; Zicntr counters (only booleans are folded)
 *   rvc:   explicit compressed instructions
 *   fence: FENCE variants and FENCE.I over code written at run time
 *   total: checksum over everything above, in order
 *
 * The output depends on nothing but instruction semantics, so the QEMU
 * output (expected.txt next to this file) is the reference.  Built with
 * -DISA_TRACE (out/isa-checksum-trace.elf) it also prints every folded value
 * with its index in the section, for diffing against QEMU.  Inline asm is
 * used throughout so the compiler cannot fold or substitute instructions.
 * Exits 0.
 */
#include "platform.h"

typedef uint64_t u64;
typedef int64_t i64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------------------ */
/* Checksums                                                                */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static u64 sec_hash, total_hash, sec_count;

static void mix(u64 v)
{
#ifdef ISA_TRACE
    /* Debug aid: print every folded value ("index value") so two runs can
     * be diffed to find the first differing instruction result. */
    print_udec(sec_count);
    putchar(' ');
    print_hex(v);
    putchar('\n');
#endif
    for (int i = 0; i < 8; i++) {
        u64 b = (v >> (8 * i)) & 0xff;
        sec_hash = (sec_hash ^ b) * FNV_PRIME;
        total_hash = (total_hash ^ b) * FNV_PRIME;
    }
    sec_count++;
}

static void section_begin(void)
{
    sec_hash = FNV_OFFSET;
    sec_count = 0;
}

static void section_end(const char *name)
{
    print_str(name);
    print_str(": ");
    print_hex(sec_hash);
    putchar('\n');
}

/* Read through a volatile pointer so values are opaque to the optimizer. */
#define OPAQUE(arr, i) (((volatile const u64 *)(arr))[i])

/* ------------------------------------------------------------------------ */
/* Integer test values                                                      */

static const u64 ivals[] = {
    0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
    31, 32, 33, 63, 64,
    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
    0xffffffff80000000, 0x7fffffffffffffff, 0x8000000000000000,
    0xffffffffffffffff, 0xfffffffffffffffe, 0xfffffffffffff800,
    0x123456789abcdef0, 0xfedcba9876543210, 0x5555555555555555,
    0xaaaaaaaaaaaaaaaa, 0x00000000deadbeef,
};

/* ------------------------------------------------------------------------ */
/* int: RV64I                                                               */

#define RR(op, a, b) ({ u64 _r; \
    __asm__ volatile (op " %0, %1, %2" : "=r"(_r) : "r"(a), "r"(b)); _r; })
#define RI(op, a, imm) ({ u64 _r; \
    __asm__ volatile (op " %0, %1, %2" : "=r"(_r) : "r"(a), "i"(imm)); _r; })
/* 1 if the branch is taken, else 0 */
#define BR(op, a, b) ({ u64 _r; \
    __asm__ volatile ("li %0, 1\n\t" op " %1, %2, 1f\n\tli %0, 0\n1:" \
                      : "=&r"(_r) : "r"(a), "r"(b)); _r; })

#define IMM12_SET(op, a) do { \
    mix(RI(op, a, 0));    mix(RI(op, a, 1));    mix(RI(op, a, -1)); \
    mix(RI(op, a, 2047)); mix(RI(op, a, -2048)); mix(RI(op, a, 0x555)); \
    mix(RI(op, a, -0x2aa)); } while (0)
#define SH64_SET(op, a) do { \
    mix(RI(op, a, 0));  mix(RI(op, a, 1));  mix(RI(op, a, 13)); \
    mix(RI(op, a, 31)); mix(RI(op, a, 32)); mix(RI(op, a, 63)); } while (0)
#define SH32_SET(op, a) do { \
    mix(RI(op, a, 0));  mix(RI(op, a, 1));  mix(RI(op, a, 13)); \
    mix(RI(op, a, 31)); } while (0)

static void test_int(void)
{
    for (int i = 0; i < N(ivals); i++) {
        u64 a = OPAQUE(ivals, i);
        for (int j = 0; j < N(ivals); j++) {
            u64 b = OPAQUE(ivals, j);
            mix(RR("add", a, b));   mix(RR("sub", a, b));
            mix(RR("sll", a, b));   mix(RR("srl", a, b));
            mix(RR("sra", a, b));   mix(RR("slt", a, b));
            mix(RR("sltu", a, b));  mix(RR("xor", a, b));
            mix(RR("or", a, b));    mix(RR("and", a, b));
            mix(RR("addw", a, b));  mix(RR("subw", a, b));
            mix(RR("sllw", a, b));  mix(RR("srlw", a, b));
            mix(RR("sraw", a, b));
            mix(BR("beq", a, b));   mix(BR("bne", a, b));
            mix(BR("blt", a, b));   mix(BR("bge", a, b));
            mix(BR("bltu", a, b));  mix(BR("bgeu", a, b));
        }
        IMM12_SET("addi", a);  IMM12_SET("slti", a);  IMM12_SET("sltiu", a);
        IMM12_SET("xori", a);  IMM12_SET("ori", a);   IMM12_SET("andi", a);
        IMM12_SET("addiw", a);
        SH64_SET("slli", a);   SH64_SET("srli", a);   SH64_SET("srai", a);
        SH32_SET("slliw", a);  SH32_SET("srliw", a);  SH32_SET("sraiw", a);
    }

    /* x0: writes are discarded, reads give 0 */
    {
        u64 r;
        __asm__ volatile ("addi zero, zero, 5\n\tadd %0, zero, zero" : "=r"(r));
        mix(r);
        __asm__ volatile ("lui zero, 0x12345\n\tsub %0, zero, %1"
                          : "=r"(r) : "r"(OPAQUE(ivals, 1)));
        mix(r);
    }

    /* LUI (sign-extended on RV64) */
    {
        u64 r;
        __asm__ volatile ("lui %0, 0" : "=r"(r));       mix(r);
        __asm__ volatile ("lui %0, 1" : "=r"(r));       mix(r);
        __asm__ volatile ("lui %0, 0x12345" : "=r"(r)); mix(r);
        __asm__ volatile ("lui %0, 0x7ffff" : "=r"(r)); mix(r);
        __asm__ volatile ("lui %0, 0x80000" : "=r"(r)); mix(r);
        __asm__ volatile ("lui %0, 0xfffff" : "=r"(r)); mix(r);
    }

    /* AUIPC: fold (result - address of the auipc) */
    {
        u64 r, base;
        __asm__ volatile ("1: auipc %0, 0\n\tlla %1, 1b"
                          : "=r"(r), "=r"(base));
        mix(r - base);
        __asm__ volatile ("1: auipc %0, 0x12345\n\tlla %1, 1b"
                          : "=r"(r), "=r"(base));
        mix(r - base);
        __asm__ volatile ("1: auipc %0, 0x80000\n\tlla %1, 1b"
                          : "=r"(r), "=r"(base));
        mix(r - base);
        __asm__ volatile ("1: auipc %0, 0xfffff\n\tlla %1, 1b"
                          : "=r"(r), "=r"(base));
        mix(r - base);
    }

    /* JAL / JALR: fold (link - address of the jump) and which path ran */
    {
        u64 link, base, path;
        __asm__ volatile (
            ".option push\n\t.option norvc\n\t"
            "li %2, 0\n"
            "1: jal %0, 2f\n\t"
            "li %2, 99\n"                       /* skipped */
            "2: lla %1, 1b\n\t"
            "addi %2, %2, 1\n\t"
            ".option pop"
            : "=&r"(link), "=&r"(base), "=&r"(path));
        mix(link - base); mix(path);

        /* backward jal */
        __asm__ volatile (
            ".option push\n\t.option norvc\n\t"
            "li %2, 0\n\t"
            "j 3f\n"
            "2: addi %2, %2, 7\n\t"
            "j 4f\n"
            "3: addi %2, %2, 1\n"
            "1: jal %0, 2b\n"
            "4: lla %1, 1b\n\t"
            ".option pop"
            : "=&r"(link), "=&r"(base), "=&r"(path));
        mix(link - base); mix(path);

        /* jalr to an odd address: bit 0 is cleared */
        __asm__ volatile (
            ".option push\n\t.option norvc\n\t"
            "li %2, 0\n\t"
            "lla t0, 2f\n\t"
            "addi t0, t0, 1\n"
            "1: jalr %0, 0(t0)\n\t"
            "li %2, 99\n"
            "2: lla %1, 1b\n\t"
            "addi %2, %2, 1\n\t"
            ".option pop"
            : "=&r"(link), "=&r"(base), "=&r"(path) :: "t0");
        mix(link - base); mix(path);

        /* jalr with positive and negative offsets */
        __asm__ volatile (
            ".option push\n\t.option norvc\n\t"
            "li %2, 0\n\t"
            "lla t0, 2f\n\t"
            "addi t0, t0, -40\n"
            "1: jalr %0, 40(t0)\n\t"
            "li %2, 99\n"
            "2: lla %1, 1b\n\t"
            "lla t0, 3f\n\t"
            "addi t0, t0, 100\n\t"
            "jalr zero, -100(t0)\n\t"
            "li %2, 98\n"
            "3: addi %2, %2, 2\n\t"
            ".option pop"
            : "=&r"(link), "=&r"(base), "=&r"(path) :: "t0");
        mix(link - base); mix(path);

        /* jalr with rd == rs1: target uses the old value */
        __asm__ volatile (
            ".option push\n\t.option norvc\n\t"
            "li %2, 0\n\t"
            "lla %0, 2f\n"
            "1: jalr %0, 0(%0)\n\t"
            "li %2, 99\n"
            "2: lla %1, 1b\n\t"
            "addi %2, %2, 3\n\t"
            ".option pop"
            : "=&r"(link), "=&r"(base), "=&r"(path));
        mix(link - base); mix(path);

        /* backward-branch loop */
        u64 acc;
        __asm__ volatile (
            "li %0, 0\n\t"
            "mv t0, %1\n"
            "1: addi %0, %0, 3\n\t"
            "addi t0, t0, -1\n\t"
            "bgtz t0, 1b"
            : "=&r"(acc) : "r"(OPAQUE(ivals, 13)) : "t0");
        mix(acc);
    }
}

/* ------------------------------------------------------------------------ */
/* mem: loads and stores                                                    */

static u8 mbuf[64] __attribute__((aligned(64)));

static void mbuf_fill(void)
{
    volatile u8 *p = mbuf;
    for (int i = 0; i < 64; i++)
        p[i] = (u8)(i * 0x3b + 0x91);
}

static void mbuf_mix(void)
{
    for (int i = 0; i < 8; i++)
        mix(OPAQUE(mbuf, i));
}

#define LD(op, p, off) ({ u64 _r; \
    __asm__ volatile (op " %0, " #off "(%1)" : "=r"(_r) : "r"(p) : "memory"); \
    _r; })
#define ST(op, v, p, off) \
    __asm__ volatile (op " %0, " #off "(%1)" :: "r"(v), "r"(p) : "memory")

#define LD_ALL(p, off) do { \
    mix(LD("lb", p, off));  mix(LD("lbu", p, off)); \
    mix(LD("lh", p, off));  mix(LD("lhu", p, off)); \
    mix(LD("lw", p, off));  mix(LD("lwu", p, off)); \
    mix(LD("ld", p, off)); } while (0)

static void test_mem(void)
{
    mbuf_fill();
    for (int o = 0; o < 16; o++) {           /* every alignment */
        u8 *p = mbuf + 24 + o;
        LD_ALL(p, 0);
        LD_ALL(p, -9);
        LD_ALL(p, 11);
    }
    for (int o = 0; o < 16; o++) {
        u64 v = 0x8877665544332211ULL + (u64)o * 0x0101010101010101ULL;
        u8 *p = mbuf + 24 + o;
        mbuf_fill(); ST("sb", v, p, 0);  mbuf_mix();
        mbuf_fill(); ST("sh", v, p, 0);  mbuf_mix();
        mbuf_fill(); ST("sw", v, p, 0);  mbuf_mix();
        mbuf_fill(); ST("sd", v, p, 0);  mbuf_mix();
        mbuf_fill(); ST("sb", v, p, -7); mbuf_mix();
        mbuf_fill(); ST("sh", v, p, -7); mbuf_mix();
        mbuf_fill(); ST("sw", v, p, 13); mbuf_mix();
        mbuf_fill(); ST("sd", v, p, 13); mbuf_mix();
        /* store then load back at a different width */
        mbuf_fill(); ST("sd", v, p, 0);
        mix(LD("lw", p, 2)); mix(LD("lhu", p, 5)); mix(LD("lb", p, 7));
    }
    /* load into x0 does not write x0 */
    {
        u64 r;
        __asm__ volatile ("ld zero, 0(%1)\n\tmv %0, zero"
                          : "=r"(r) : "r"(mbuf) : "memory");
        mix(r);
    }
}

/* ------------------------------------------------------------------------ */
/* mul: M extension                                                         */

static void test_mul(void)
{
    for (int i = 0; i < N(ivals); i++) {
        u64 a = OPAQUE(ivals, i);
        for (int j = 0; j < N(ivals); j++) {
            u64 b = OPAQUE(ivals, j);
            mix(RR("mul", a, b));    mix(RR("mulh", a, b));
            mix(RR("mulhsu", a, b)); mix(RR("mulhu", a, b));
            mix(RR("div", a, b));    mix(RR("divu", a, b));
            mix(RR("rem", a, b));    mix(RR("remu", a, b));
            mix(RR("mulw", a, b));   mix(RR("divw", a, b));
            mix(RR("divuw", a, b));  mix(RR("remw", a, b));
            mix(RR("remuw", a, b));
        }
    }
}

/* ------------------------------------------------------------------------ */
/* amo: A extension                                                         */

static u64 amem[2] __attribute__((aligned(16)));

static const u64 avals[] = {
    0, 1, 0xffffffffffffffff, 0x7fffffff, 0x80000000, 0xffffffff80000000,
    0x7fffffffffffffff, 0x8000000000000000, 0x123456789abcdef0,
    0xfedcba9876543210,
};

#define AMO(op, addr, v) ({ u64 _r; \
    __asm__ volatile (op " %0, %2, (%1)" : "=&r"(_r) : "r"(addr), "r"(v) \
                      : "memory"); _r; })

/* run one AMO at byte offset `off` of amem with memory value m, operand v */
#define AMO_CASE(op, off, m, v) do { \
    volatile u64 *_am = amem; _am[0] = (m); _am[1] = ~(m); \
    mix(AMO(op, (u8 *)amem + (off), v)); mix(_am[0]); mix(_am[1]); } while (0)

#define AMO_W_ALL(off, m, v) do { \
    AMO_CASE("amoswap.w", off, m, v); AMO_CASE("amoadd.w", off, m, v); \
    AMO_CASE("amoxor.w", off, m, v);  AMO_CASE("amoand.w", off, m, v); \
    AMO_CASE("amoor.w", off, m, v);   AMO_CASE("amomin.w", off, m, v); \
    AMO_CASE("amomax.w", off, m, v);  AMO_CASE("amominu.w", off, m, v); \
    AMO_CASE("amomaxu.w", off, m, v); } while (0)
#define AMO_D_ALL(off, m, v) do { \
    AMO_CASE("amoswap.d", off, m, v); AMO_CASE("amoadd.d", off, m, v); \
    AMO_CASE("amoxor.d", off, m, v);  AMO_CASE("amoand.d", off, m, v); \
    AMO_CASE("amoor.d", off, m, v);   AMO_CASE("amomin.d", off, m, v); \
    AMO_CASE("amomax.d", off, m, v);  AMO_CASE("amominu.d", off, m, v); \
    AMO_CASE("amomaxu.d", off, m, v); } while (0)

static void test_amo(void)
{
    for (int i = 0; i < N(avals); i++) {
        u64 m = OPAQUE(avals, i);
        for (int j = 0; j < N(avals); j++) {
            u64 v = OPAQUE(avals, j);
            AMO_W_ALL(0, m, v);
            AMO_W_ALL(4, m, v);
            AMO_D_ALL(0, m, v);
            AMO_D_ALL(8, m, v);
        }
        /* ordering bits do not change results */
        u64 v = OPAQUE(avals, (i + 3) % N(avals));
        AMO_CASE("amoswap.w.aq", 0, m, v);  AMO_CASE("amoadd.w.rl", 4, m, v);
        AMO_CASE("amoxor.d.aqrl", 0, m, v); AMO_CASE("amomaxu.d.aq", 8, m, v);
    }

    volatile u64 *am = amem;
    for (int i = 0; i < N(avals); i++) {
        u64 m = OPAQUE(avals, i);
        u64 v = OPAQUE(avals, (i + 1) % N(avals));
        u64 lr, sc;

        /* LR.W / SC.W: success, then a second SC without reservation fails */
        am[0] = m;
        __asm__ volatile ("lr.w %0, (%2)\n\tsc.w %1, %3, (%2)"
                          : "=&r"(lr), "=&r"(sc) : "r"(amem), "r"(v) : "memory");
        mix(lr); mix(sc == 0); mix(am[0]);
        __asm__ volatile ("sc.w %0, %2, (%1)"
                          : "=&r"(sc) : "r"(amem), "r"(m + 1) : "memory");
        mix(sc != 0); mix(am[0]);

        /* LR.D / SC.D (with ordering bits) */
        am[1] = m;
        __asm__ volatile ("lr.d.aq %0, (%2)\n\tsc.d.rl %1, %3, (%2)"
                          : "=&r"(lr), "=&r"(sc) : "r"(amem + 1), "r"(v)
                          : "memory");
        mix(lr); mix(sc == 0); mix(am[1]);
        __asm__ volatile ("sc.d %0, %2, (%1)"
                          : "=&r"(sc) : "r"(amem + 1), "r"(m) : "memory");
        mix(sc != 0); mix(am[1]);

        /* compare-and-swap loop built from LR/SC */
        u64 old;
        am[0] = m;
        __asm__ volatile (
            "1: lr.d %0, (%1)\n\t"
            "bne %0, %2, 2f\n\t"
            "sc.d t0, %3, (%1)\n\t"
            "bnez t0, 1b\n"
            "2:"
            : "=&r"(old) : "r"(amem), "r"(m), "r"(v) : "t0", "memory");
        mix(old); mix(am[0]);
    }
}

/* ------------------------------------------------------------------------ */
/* fp: F and D                                                              */

#define FCLOB "ft0", "ft1", "ft2", "ft3", "memory"

typedef void (*fn1)(u64);
typedef void (*fn2)(u64, u64);
typedef void (*fn3)(u64, u64, u64);

/* Each generated function clears fflags, runs `body` and folds the result
 * and the accrued flags. */
#define FN1(name, pre, body, post) \
static void name(u64 a) { u64 r, f; \
    __asm__ volatile ("fsflags zero\n\t" pre "\n\t" body "\n\t" post \
                      "\n\tfrflags %1" \
                      : "=&r"(r), "=&r"(f) : "r"(a) : FCLOB); \
    mix(r); mix(f); }
#define FN2(name, pre, body, post) \
static void name(u64 a, u64 b) { u64 r, f; \
    __asm__ volatile ("fsflags zero\n\t" pre "\n\t" body "\n\t" post \
                      "\n\tfrflags %1" \
                      : "=&r"(r), "=&r"(f) : "r"(a), "r"(b) : FCLOB); \
    mix(r); mix(f); }
#define FN3(name, pre, body, post) \
static void name(u64 a, u64 b, u64 c) { u64 r, f; \
    __asm__ volatile ("fsflags zero\n\t" pre "\n\t" body "\n\t" post \
                      "\n\tfrflags %1" \
                      : "=&r"(r), "=&r"(f) : "r"(a), "r"(b), "r"(c) : FCLOB); \
    mix(r); mix(f); }

#define IN1D "fmv.d.x ft0, %2"
#define IN1S "fmv.w.x ft0, %2"
#define IN2D "fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3"
#define IN2S "fmv.w.x ft0, %2\n\tfmv.w.x ft1, %3"
#define IN3D "fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tfmv.d.x ft2, %4"
#define IN3S "fmv.w.x ft0, %2\n\tfmv.w.x ft1, %3\n\tfmv.w.x ft2, %4"
#define IN1X ""
/* Results are read back with fmv.x.d, so single results show NaN boxing. */
#define OUTF "fmv.x.d %0, ft3"
#define OUTX ""

#define RM_NAMES(name) \
    name##_dyn, name##_rne, name##_rtz, name##_rdn, name##_rup, name##_rmm
#define ALL_RM(M, name, ...) \
    M(name##_dyn, __VA_ARGS__, "")       M(name##_rne, __VA_ARGS__, ", rne") \
    M(name##_rtz, __VA_ARGS__, ", rtz")  M(name##_rdn, __VA_ARGS__, ", rdn") \
    M(name##_rup, __VA_ARGS__, ", rup")  M(name##_rmm, __VA_ARGS__, ", rmm")

/* binary FP -> FP */
#define BIN(name, in, mn, rm)  FN2(name, in, mn " ft3, ft0, ft1" rm, OUTF)
/* binary FP -> int (compares) */
#define CMP(name, in, mn)      FN2(name, in, mn " %0, ft0, ft1", OUTX)
/* ternary FP -> FP */
#define TER(name, in, mn, rm)  FN3(name, in, mn " ft3, ft0, ft1, ft2" rm, OUTF)
/* unary FP -> FP */
#define UNF(name, in, mn, rm)  FN1(name, in, mn " ft3, ft0" rm, OUTF)
/* unary FP -> int */
#define F2I(name, in, mn, rm)  FN1(name, in, mn " %0, ft0" rm, OUTX)
/* unary int -> FP */
#define I2F(name, in, mn, rm)  FN1(name, in, mn " ft3, %2" rm, OUTF)

/* double */
ALL_RM(BIN, fadd_d, IN2D, "fadd.d")
ALL_RM(BIN, fsub_d, IN2D, "fsub.d")
ALL_RM(BIN, fmul_d, IN2D, "fmul.d")
ALL_RM(BIN, fdiv_d, IN2D, "fdiv.d")
BIN(fmin_d, IN2D, "fmin.d", "")
BIN(fmax_d, IN2D, "fmax.d", "")
BIN(fsgnj_d, IN2D, "fsgnj.d", "")
BIN(fsgnjn_d, IN2D, "fsgnjn.d", "")
BIN(fsgnjx_d, IN2D, "fsgnjx.d", "")
CMP(feq_d, IN2D, "feq.d")
CMP(flt_d, IN2D, "flt.d")
CMP(fle_d, IN2D, "fle.d")
ALL_RM(TER, fmadd_d, IN3D, "fmadd.d")
ALL_RM(TER, fmsub_d, IN3D, "fmsub.d")
ALL_RM(TER, fnmadd_d, IN3D, "fnmadd.d")
ALL_RM(TER, fnmsub_d, IN3D, "fnmsub.d")
ALL_RM(UNF, fsqrt_d, IN1D, "fsqrt.d")
ALL_RM(UNF, fcvt_s_d, IN1D, "fcvt.s.d")
UNF(fcvt_d_s_of_d, IN1D, "fcvt.d.s", "")   /* input is unboxed: NaN */
F2I(fclass_d, IN1D, "fclass.d", "")
F2I(fmv_x_d, IN1D, "fmv.x.d", "")
F2I(fmv_x_w_of_d, IN1D, "fmv.x.w", "")      /* low 32 bits, sign-extended */
ALL_RM(F2I, fcvt_w_d, IN1D, "fcvt.w.d")
ALL_RM(F2I, fcvt_wu_d, IN1D, "fcvt.wu.d")
ALL_RM(F2I, fcvt_l_d, IN1D, "fcvt.l.d")
ALL_RM(F2I, fcvt_lu_d, IN1D, "fcvt.lu.d")
I2F(fcvt_d_w, IN1X, "fcvt.d.w", "")
I2F(fcvt_d_wu, IN1X, "fcvt.d.wu", "")
ALL_RM(I2F, fcvt_d_l, IN1X, "fcvt.d.l")
ALL_RM(I2F, fcvt_d_lu, IN1X, "fcvt.d.lu")
I2F(fmv_d_x, IN1X, "fmv.d.x", "")

/* single */
ALL_RM(BIN, fadd_s, IN2S, "fadd.s")
ALL_RM(BIN, fsub_s, IN2S, "fsub.s")
ALL_RM(BIN, fmul_s, IN2S, "fmul.s")
ALL_RM(BIN, fdiv_s, IN2S, "fdiv.s")
BIN(fmin_s, IN2S, "fmin.s", "")
BIN(fmax_s, IN2S, "fmax.s", "")
BIN(fsgnj_s, IN2S, "fsgnj.s", "")
BIN(fsgnjn_s, IN2S, "fsgnjn.s", "")
BIN(fsgnjx_s, IN2S, "fsgnjx.s", "")
CMP(feq_s, IN2S, "feq.s")
CMP(flt_s, IN2S, "flt.s")
CMP(fle_s, IN2S, "fle.s")
ALL_RM(TER, fmadd_s, IN3S, "fmadd.s")
ALL_RM(TER, fmsub_s, IN3S, "fmsub.s")
ALL_RM(TER, fnmadd_s, IN3S, "fnmadd.s")
ALL_RM(TER, fnmsub_s, IN3S, "fnmsub.s")
ALL_RM(UNF, fsqrt_s, IN1S, "fsqrt.s")
UNF(fcvt_d_s, IN1S, "fcvt.d.s", "")
F2I(fclass_s, IN1S, "fclass.s", "")
F2I(fmv_x_w, IN1S, "fmv.x.w", "")
ALL_RM(F2I, fcvt_w_s, IN1S, "fcvt.w.s")
ALL_RM(F2I, fcvt_wu_s, IN1S, "fcvt.wu.s")
ALL_RM(F2I, fcvt_l_s, IN1S, "fcvt.l.s")
ALL_RM(F2I, fcvt_lu_s, IN1S, "fcvt.lu.s")
ALL_RM(I2F, fcvt_s_w, IN1X, "fcvt.s.w")
ALL_RM(I2F, fcvt_s_wu, IN1X, "fcvt.s.wu")
ALL_RM(I2F, fcvt_s_l, IN1X, "fcvt.s.l")
ALL_RM(I2F, fcvt_s_lu, IN1X, "fcvt.s.lu")
I2F(fmv_w_x, IN1X, "fmv.w.x", "")

/* single-precision ops on raw 64-bit register contents (NaN boxing) */
BIN(raw_fadd_s, IN2D, "fadd.s", "")
BIN(raw_fmul_s, IN2D, "fmul.s", "")
BIN(raw_fsgnj_s, IN2D, "fsgnj.s", "")
BIN(raw_fsgnjn_s, IN2D, "fsgnjn.s", "")
BIN(raw_fsgnjx_s, IN2D, "fsgnjx.s", "")
BIN(raw_fmin_s, IN2D, "fmin.s", "")
BIN(raw_fmax_s, IN2D, "fmax.s", "")
CMP(raw_feq_s, IN2D, "feq.s")
CMP(raw_flt_s, IN2D, "flt.s")
UNF(raw_fsqrt_s, IN1D, "fsqrt.s", "")
F2I(raw_fclass_s, IN1D, "fclass.s", "")
F2I(raw_fcvt_w_s, IN1D, "fcvt.w.s", "")

static const fn2 d_bin[] = {
    RM_NAMES(fadd_d), RM_NAMES(fsub_d), RM_NAMES(fmul_d), RM_NAMES(fdiv_d),
    fmin_d, fmax_d, fsgnj_d, fsgnjn_d, fsgnjx_d, feq_d, flt_d, fle_d,
};
static const fn2 s_bin[] = {
    RM_NAMES(fadd_s), RM_NAMES(fsub_s), RM_NAMES(fmul_s), RM_NAMES(fdiv_s),
    fmin_s, fmax_s, fsgnj_s, fsgnjn_s, fsgnjx_s, feq_s, flt_s, fle_s,
};
static const fn2 raw_bin[] = {
    raw_fadd_s, raw_fmul_s, raw_fsgnj_s, raw_fsgnjn_s, raw_fsgnjx_s,
    raw_fmin_s, raw_fmax_s, raw_feq_s, raw_flt_s,
};
static const fn3 d_ter[] = {
    RM_NAMES(fmadd_d), RM_NAMES(fmsub_d), RM_NAMES(fnmadd_d), RM_NAMES(fnmsub_d),
};
static const fn3 s_ter[] = {
    RM_NAMES(fmadd_s), RM_NAMES(fmsub_s), RM_NAMES(fnmadd_s), RM_NAMES(fnmsub_s),
};
static const fn1 d_un[] = {
    RM_NAMES(fsqrt_d), RM_NAMES(fcvt_s_d), fcvt_d_s_of_d, fclass_d, fmv_x_d,
    fmv_x_w_of_d, RM_NAMES(fcvt_w_d), RM_NAMES(fcvt_wu_d), RM_NAMES(fcvt_l_d),
    RM_NAMES(fcvt_lu_d),
};
static const fn1 s_un[] = {
    RM_NAMES(fsqrt_s), fcvt_d_s, fclass_s, fmv_x_w, RM_NAMES(fcvt_w_s),
    RM_NAMES(fcvt_wu_s), RM_NAMES(fcvt_l_s), RM_NAMES(fcvt_lu_s),
};
static const fn1 raw_un[] = { raw_fsqrt_s, raw_fclass_s, raw_fcvt_w_s };
static const fn1 i_un[] = {
    fcvt_d_w, fcvt_d_wu, RM_NAMES(fcvt_d_l), RM_NAMES(fcvt_d_lu), fmv_d_x,
    RM_NAMES(fcvt_s_w), RM_NAMES(fcvt_s_wu), RM_NAMES(fcvt_s_l),
    RM_NAMES(fcvt_s_lu), fmv_w_x,
};
/* dynamic-rounding variants, rerun under every frm value */
static const fn2 dyn_bin[] = {
    fadd_d_dyn, fsub_d_dyn, fmul_d_dyn, fdiv_d_dyn,
    fadd_s_dyn, fsub_s_dyn, fmul_s_dyn, fdiv_s_dyn,
};
static const fn1 dyn_un_d[] = {
    fsqrt_d_dyn, fcvt_s_d_dyn, fcvt_w_d_dyn, fcvt_wu_d_dyn, fcvt_l_d_dyn,
    fcvt_lu_d_dyn,
};
static const fn1 dyn_un_s[] = {
    fsqrt_s_dyn, fcvt_w_s_dyn, fcvt_wu_s_dyn, fcvt_l_s_dyn, fcvt_lu_s_dyn,
};
static const fn1 dyn_un_i[] = {
    fcvt_d_l_dyn, fcvt_d_lu_dyn, fcvt_s_w_dyn, fcvt_s_wu_dyn, fcvt_s_l_dyn,
    fcvt_s_lu_dyn,
};
static const fn3 dyn_ter[] = {
    fmadd_d_dyn, fnmsub_d_dyn, fmsub_s_dyn, fnmadd_s_dyn,
};

static const u64 dvals[] = {
    0x0000000000000000, /* +0 */
    0x8000000000000000, /* -0 */
    0x3ff0000000000000, /* 1 */
    0xbff0000000000000, /* -1 */
    0x3ff8000000000000, /* 1.5 */
    0x4004000000000000, /* 2.5 */
    0xc004000000000000, /* -2.5 */
    0x3fb999999999999a, /* 0.1 */
    0x3fd5555555555555, /* 1/3 */
    0x3ff0000000000001, /* 1 + ulp */
    0xbfe0000000000000, /* -0.5 */
    0x7fefffffffffffff, /* max */
    0x0010000000000000, /* min normal */
    0x0000000000000001, /* min subnormal */
    0x800fffffffffffff, /* -max subnormal */
    0x7ff0000000000000, /* +inf */
    0xfff0000000000000, /* -inf */
    0x7ff8000000000000, /* canonical qNaN */
    0x7ff0000000000001, /* sNaN */
    0xfff8000000000123, /* -qNaN with payload */
    0x43e0000000000000, /* 2^63 */
    0xc3e0000000000000, /* -2^63 */
    0x43f0000000000000, /* 2^64 */
    0x41efffffffe00000, /* 2^32 - 1 */
    0x41f0000000000000, /* 2^32 */
    0xc1e0000000000000, /* -2^31 */
    0xc1e0000000200000, /* -2^31 - 1 */
    0x41dfffffffe00000, /* 2^31 - 1 */
    0x4415af1d78b58c40, /* 1e20 */
    0x4330000000000001, /* 2^52 + 1 */
    0x3ff0000010000000, /* 1 + 2^-24: single tie */
    0x3ff0000030000000, /* 1 + 3*2^-24: single tie, other parity */
    0x47efffffe0000000, /* FLT_MAX + half ulp */
    0x36a0000000000000, /* 2^-149: smallest single subnormal */
    0x3690000000000000, /* 2^-150: single underflow tie */
};

static const u64 svals[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40200000,
    0xc0200000, 0x3dcccccd, 0x3eaaaaab, 0x3f800001, 0xbf000000, 0x7f7fffff,
    0x00800000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000,
    0x7f800001, 0xffc00123, 0x5f000000, 0xdf000000, 0x5f800000, 0x4f800000,
    0x4f000000, 0xcf000000, 0xcf000001, 0x4effffff, 0x4b800001, 0x60ad78ec,
};

/* values for the ternary ops (subset) */
static const u64 d3vals[] = {
    0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000,
    0xc004000000000000, 0x3fd5555555555555, 0x7fefffffffffffff,
    0x0000000000000001, 0x7ff0000000000000, 0x7ff0000000000001,
};
static const u64 s3vals[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xc0200000, 0x3eaaaaab, 0x7f7fffff,
    0x00000001, 0xff800000, 0x7f800001,
};

/* raw 64-bit patterns for single-precision ops */
static const u64 rawvals[] = {
    0xffffffff3f800000, /* boxed 1.0f */
    0xffffffffbfc00000, /* boxed -1.5f */
    0xffffffff7f800001, /* boxed sNaN */
    0xfffffffe3f800000, /* not boxed */
    0x000000003f800000, /* not boxed */
    0x3ff0000000000000, /* double 1.0: not boxed */
};

static void set_frm(u64 rm)
{
    __asm__ volatile ("fsrm %0" :: "r"(rm));
}

static void run_bin(const fn2 *ops, int nops, const u64 *v, int nv)
{
    for (int k = 0; k < nops; k++)
        for (int i = 0; i < nv; i++)
            for (int j = 0; j < nv; j++)
                ops[k](OPAQUE(v, i), OPAQUE(v, j));
}

static void run_ter(const fn3 *ops, int nops, const u64 *v, int nv)
{
    for (int k = 0; k < nops; k++)
        for (int i = 0; i < nv; i++)
            for (int j = 0; j < nv; j++)
                for (int l = 0; l < nv; l++)
                    ops[k](OPAQUE(v, i), OPAQUE(v, j), OPAQUE(v, l));
}

static void run_un(const fn1 *ops, int nops, const u64 *v, int nv)
{
    for (int k = 0; k < nops; k++)
        for (int i = 0; i < nv; i++)
            ops[k](OPAQUE(v, i));
}

static u64 fmem[4] __attribute__((aligned(16)));

static void test_fp(void)
{
    set_frm(0);
    run_bin(d_bin, N(d_bin), dvals, N(dvals));
    run_bin(s_bin, N(s_bin), svals, N(svals));
    run_bin(raw_bin, N(raw_bin), rawvals, N(rawvals));
    run_ter(d_ter, N(d_ter), d3vals, N(d3vals));
    run_ter(s_ter, N(s_ter), s3vals, N(s3vals));
    run_un(d_un, N(d_un), dvals, N(dvals));
    run_un(s_un, N(s_un), svals, N(svals));
    run_un(raw_un, N(raw_un), rawvals, N(rawvals));
    run_un(i_un, N(i_un), ivals, N(ivals));

    /* dynamic rounding: every valid frm value */
    for (u64 rm = 1; rm <= 4; rm++) {
        set_frm(rm);
        run_bin(dyn_bin, 4, dvals, N(dvals));
        run_bin(dyn_bin + 4, 4, svals, N(svals));
        run_ter(dyn_ter, 2, d3vals, N(d3vals));
        run_ter(dyn_ter + 2, 2, s3vals, N(s3vals));
        run_un(dyn_un_d, N(dyn_un_d), dvals, N(dvals));
        run_un(dyn_un_s, N(dyn_un_s), svals, N(svals));
        run_un(dyn_un_i, N(dyn_un_i), ivals, N(ivals));
    }
    set_frm(0);

    /* accrued flags: no clearing between operations; fold fflags, frm and
     * fcsr after each step */
    {
        u64 fl, rm, cs;
        __asm__ volatile ("fsflags zero" ::: "memory");
#define ACCRUE(insn_and_inputs) \
        __asm__ volatile (insn_and_inputs "\n\t" \
                          "frflags %0\n\tfrrm %1\n\tfrcsr %2" \
                          : "=&r"(fl), "=&r"(rm), "=&r"(cs) \
                          : "r"(OPAQUE(dvals, 2)), "r"(OPAQUE(dvals, 0)), \
                            "r"(OPAQUE(dvals, 11)) : FCLOB); \
        mix(fl); mix(rm); mix(cs)
        /* %3 = 1.0, %4 = +0, %5 = DBL_MAX */
        ACCRUE("fmv.d.x ft0, %3\n\tfmv.d.x ft1, %4\n\tfdiv.d ft2, ft0, ft1"); /* DZ */
        ACCRUE("fmv.d.x ft0, %5\n\tfmul.d ft2, ft0, ft0");                   /* OF|NX */
        ACCRUE("fmv.d.x ft1, %4\n\tfdiv.d ft2, ft1, ft1");                   /* NV */
        ACCRUE("fsrmi 2\n\tfmv.d.x ft0, %3\n\tfcvt.s.d ft2, ft0");          /* exact */
        ACCRUE("fsrmi 4\n\tfsflags zero\n\tfmv.d.x ft0, %5\n\tfcvt.s.d ft2, ft0"); /* OF|NX */
        ACCRUE("fsrmi 0\n\tli t0, 1\n\tfmv.d.x ft0, t0\n\tfmul.d ft2, ft0, ft0"); /* UF|NX */
#undef ACCRUE
        __asm__ volatile ("fscsr zero" ::: "t0", "memory");
    }

    /* loads and stores (flw NaN-boxes, fsw stores the low 32 bits) */
    {
        volatile u64 *fm = fmem;
        for (int i = 0; i < N(dvals); i++) {
            u64 r;
            fm[0] = OPAQUE(dvals, i);
            fm[1] = OPAQUE(svals, i % N(svals)) | 0x5a5a5a5a00000000ULL;
            fm[2] = 0;
            fm[3] = 0x1111111111111111ULL;
            __asm__ volatile (
                "fld ft0, 0(%1)\n\t"
                "flw ft1, 8(%1)\n\t"
                "fsd ft0, 16(%1)\n\t"
                "fsw ft1, 24(%1)\n\t"
                "fsw ft0, 28(%1)\n\t"
                "fmv.x.d %0, ft1"
                : "=&r"(r) : "r"(fmem) : FCLOB);
            mix(r); mix(fm[2]); mix(fm[3]);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* csr: Zicsr + Zicntr                                                      */

#define CSRRW(csr, v)  ({ u64 _o; __asm__ volatile ("csrrw %0, " csr ", %1" : "=r"(_o) : "r"(v) : "memory"); _o; })
#define CSRRS(csr, v)  ({ u64 _o; __asm__ volatile ("csrrs %0, " csr ", %1" : "=r"(_o) : "r"(v) : "memory"); _o; })
#define CSRRC(csr, v)  ({ u64 _o; __asm__ volatile ("csrrc %0, " csr ", %1" : "=r"(_o) : "r"(v) : "memory"); _o; })
#define CSRRWI(csr, i) ({ u64 _o; __asm__ volatile ("csrrwi %0, " csr ", %1" : "=r"(_o) : "i"(i) : "memory"); _o; })
#define CSRRSI(csr, i) ({ u64 _o; __asm__ volatile ("csrrsi %0, " csr ", %1" : "=r"(_o) : "i"(i) : "memory"); _o; })
#define CSRRCI(csr, i) ({ u64 _o; __asm__ volatile ("csrrci %0, " csr ", %1" : "=r"(_o) : "i"(i) : "memory"); _o; })
#define CSRR(csr)      ({ u64 _o; __asm__ volatile ("csrr %0, " csr : "=r"(_o) :: "memory"); _o; })

#define CSR_SEQUENCE(csr, a, b, c, d) do { \
    __asm__ volatile ("csrw " csr ", %0" :: "r"(a) : "memory"); \
    mix(CSRRW(csr, b));  mix(CSRRS(csr, c));  mix(CSRRC(csr, d)); \
    mix(CSRRS(csr, OPAQUE(ivals, 0)));   /* csrrs with a zero source */ \
    mix(CSRRWI(csr, 21)); mix(CSRRSI(csr, 10)); mix(CSRRCI(csr, 3)); \
    mix(CSRRSI(csr, 0));  mix(CSRRCI(csr, 0)); \
    mix(CSRRWI(csr, 31)); mix(CSRRCI(csr, 17)); \
    mix(CSRR(csr)); mix(CSRR("fcsr")); } while (0)

static void test_csr(void)
{
    for (int i = 0; i + 3 < N(ivals); i++) {
        u64 a = OPAQUE(ivals, i), b = OPAQUE(ivals, i + 1);
        u64 c = OPAQUE(ivals, i + 2), d = OPAQUE(ivals, i + 3);
        CSR_SEQUENCE("mscratch", a, b, c, d);
        CSR_SEQUENCE("fflags", a, b, c, d);
        CSR_SEQUENCE("frm", a, b, c, d);
        CSR_SEQUENCE("fcsr", a, b, c, d);
    }
    /* csrw with rd = x0 and the fcsr <-> frm/fflags aliasing */
    __asm__ volatile ("csrw fcsr, %0" :: "r"(0xffffffffffffffffULL));
    mix(CSRR("fcsr")); mix(CSRR("frm")); mix(CSRR("fflags"));
    __asm__ volatile ("csrwi frm, 2\n\tcsrwi fflags, 5");
    mix(CSRR("fcsr"));
    __asm__ volatile ("csrw fcsr, zero");
    mix(CSRR("fcsr"));
    __asm__ volatile ("csrw mscratch, zero");

    /* machine information */
    u64 misa = CSRR("misa");
    mix(misa >> 62);                            /* MXL = 2 (64-bit) */
    mix(misa & ((1 << ('I' - 'A')) | (1 << ('M' - 'A')) | (1 << ('A' - 'A')) |
                (1 << ('F' - 'A')) | (1 << ('D' - 'A')) | (1 << ('C' - 'A'))));
    mix(CSRR("mhartid"));
    mix((CSRR("mstatus") & MSTATUS_FS) != 0);   /* FPU enabled */

    /* Zicntr: only booleans, never values */
    u64 i0 = rdinstret(), c0 = rdcycle();
    volatile u64 sink = 0;
    for (int k = 0; k < 100; k++)
        sink += k;
    u64 i1 = rdinstret(), c1 = rdcycle();
    mix(i1 > i0);
    mix(c1 >= c0);
    u64 t0 = rdtime(), t1 = t0;
    for (u64 spin = 0; spin < 100000000 && t1 == t0; spin++)
        t1 = rdtime();
    mix(t1 > t0);                               /* time advances */
    mix(CSRR("instret") - i1 != 0);
    mix(CSRR("minstret") != 0);
    (void)sink;
}

/* ------------------------------------------------------------------------ */
/* rvc: explicit compressed instructions                                    */

static u64 rvc_out[32] __attribute__((aligned(16)));

static void test_rvc(void)
{
    static const u64 cvals[] = {
        0, 1, 0xffffffffffffffff, 0x7fffffff, 0x80000000, 0xffffffff80000000,
        0x7fffffffffffffff, 0x8000000000000000, 0x123456789abcdef0,
        0xfedcba9876543210, 63, 0x00000000deadbeef,
    };
    volatile u64 *out = rvc_out;

    for (int i = 0; i < N(cvals); i++) {
        for (int j = 0; j < N(cvals); j++) {
            for (int k = 0; k < 32; k++)
                out[k] = 0;
            __asm__ volatile (
                ".option push\n\t.option rvc\n\t"
                "mv a4, %0\n\t"
                "mv a0, %1\n\t"
                "mv a1, %2\n\t"
                "c.mv a2, a0\n\t"   "c.sub a2, a1\n\t"   "c.sd a2, 0(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.xor a2, a1\n\t"   "c.sd a2, 8(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.or a2, a1\n\t"    "c.sd a2, 16(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.and a2, a1\n\t"   "c.sd a2, 24(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.subw a2, a1\n\t"  "c.sd a2, 32(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.addw a2, a1\n\t"  "c.sd a2, 40(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.add a2, a1\n\t"   "c.sd a2, 48(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.srli a2, 7\n\t"   "c.sd a2, 56(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.srai a2, 13\n\t"  "c.sd a2, 64(a4)\n\t"
                "c.mv a2, a1\n\t"   "c.srai a2, 63\n\t"  "c.sd a2, 72(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.andi a2, -7\n\t"  "c.sd a2, 80(a4)\n\t"
                "c.mv a2, a1\n\t"   "c.andi a2, 21\n\t"  "c.sd a2, 88(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.slli a2, 9\n\t"   "c.sd a2, 96(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.addi a2, -17\n\t" "c.sd a2, 104(a4)\n\t"
                "c.mv a2, a1\n\t"   "c.addiw a2, 31\n\t" "c.sd a2, 112(a4)\n\t"
                "c.mv a2, a0\n\t"   "c.addiw a2, 0\n\t"  "c.sd a2, 120(a4)\n\t"
                "addi a5, a4, 160\n\t"
                "c.sw a0, 0(a5)\n\t"
                "c.sw a1, 4(a5)\n\t"
                "c.lw a3, 0(a5)\n\t"    "c.sd a3, 128(a4)\n\t"
                "c.lw a3, 4(a5)\n\t"    "c.sd a3, 136(a4)\n\t"
                "c.ld a3, 0(a5)\n\t"    "c.sd a3, 144(a4)\n\t"
                "c.li a3, 0\n\t"
                "c.beqz a0, 1f\n\t"
                "c.addi a3, 1\n"
                "1:\n\t"
                "c.bnez a1, 2f\n\t"
                "c.addi a3, 2\n"
                "2:\n\t"
                "c.beqz a1, 3f\n\t"
                "c.addi a3, 4\n"
                "3:\n\t"
                "c.bnez a0, 4f\n\t"
                "c.addi a3, 8\n"
                "4:\n\t"
                "c.sd a3, 152(a4)\n\t"
                ".option pop"
                :: "r"(rvc_out), "r"(OPAQUE(cvals, i)), "r"(OPAQUE(cvals, j))
                : "a0", "a1", "a2", "a3", "a4", "a5", "memory");
            for (int k = 0; k < 21; k++)
                mix(out[k]);
        }
    }

    /* immediates: c.li, c.lui, c.addi16sp/c.addi4spn, sp-relative loads and
     * stores, FP compressed loads/stores */
    for (int i = 0; i < N(cvals); i++) {
        for (int k = 0; k < 32; k++)
            out[k] = 0;
        __asm__ volatile (
            ".option push\n\t.option rvc\n\t"
            "mv a4, %0\n\t"
            "mv a0, %1\n\t"
            "fmv.d.x fa0, a0\n\t"
            "c.li a3, -32\n\t"        "c.sd a3, 0(a4)\n\t"
            "c.li a3, 31\n\t"         "c.sd a3, 8(a4)\n\t"
            "c.lui a3, 0xfffe0\n\t"   "c.sd a3, 16(a4)\n\t"
            "c.lui a3, 31\n\t"        "c.sd a3, 24(a4)\n\t"
            "c.lui a3, 0xfffff\n\t"   "c.sd a3, 32(a4)\n\t"
            "c.mv a5, sp\n\t"
            "c.addi16sp sp, -64\n\t"
            "c.sdsp a0, 0(sp)\n\t"
            "c.swsp a0, 8(sp)\n\t"
            "c.fsdsp fa0, 16(sp)\n\t"
            "c.sdsp a0, 24(sp)\n\t"
            "c.mv a3, a0\n\t"
            "c.srli a3, 16\n\t"
            "c.swsp a3, 28(sp)\n\t"
            "c.ldsp a3, 0(sp)\n\t"    "c.sd a3, 40(a4)\n\t"
            "c.lwsp a3, 8(sp)\n\t"    "c.sd a3, 48(a4)\n\t"
            "c.lwsp a3, 4(sp)\n\t"    "c.sd a3, 56(a4)\n\t"
            "c.fldsp fa1, 16(sp)\n\t"
            "fmv.x.d a3, fa1\n\t"     "c.sd a3, 64(a4)\n\t"
            "c.ldsp a3, 24(sp)\n\t"   "c.sd a3, 72(a4)\n\t"
            "c.addi4spn a2, sp, 32\n\t"
            "c.fsd fa0, 0(a2)\n\t"
            "c.fld fa1, 0(a2)\n\t"
            "fmv.x.d a3, fa1\n\t"     "c.sd a3, 80(a4)\n\t"
            "c.ld a3, 0(a2)\n\t"      "c.sd a3, 88(a4)\n\t"
            "sub a3, a2, sp\n\t"      "c.sd a3, 96(a4)\n\t"
            "c.addi16sp sp, 64\n\t"
            "sub a3, a5, sp\n\t"      "c.sd a3, 104(a4)\n\t"
            ".option pop"
            :: "r"(rvc_out), "r"(OPAQUE(cvals, i))
            : "a0", "a1", "a2", "a3", "a4", "a5", "fa0", "fa1", "memory");
        for (int k = 0; k < 14; k++)
            mix(out[k]);
    }

    /* jumps: c.j, c.jr, c.jalr (link = pc + 2) */
    {
        u64 path, link;
        __asm__ volatile (
            ".option push\n\t.option rvc\n\t"
            "c.li a3, 0\n\t"
            "c.j 1f\n\t"
            "c.addi a3, 1\n"                /* skipped */
            "1:\n\t"
            "lla a2, 2f\n\t"
            "c.jr a2\n\t"
            "c.addi a3, 2\n"                /* skipped */
            "2:\n\t"
            "lla a2, 5f\n\t"
            "c.jalr a2\n"
            "3:\n\t"
            "c.addi a3, 16\n\t"
            "lla a2, 3b\n\t"
            "sub %1, ra, a2\n\t"
            "c.j 6f\n"
            "5:\n\t"
            "c.addi a3, 4\n\t"
            "c.jr ra\n"
            "6:\n\t"
            "mv %0, a3\n\t"
            ".option pop"
            : "=r"(path), "=r"(link) :: "a2", "a3", "ra", "memory");
        mix(path); mix(link);
    }
}

/* ------------------------------------------------------------------------ */
/* fence: FENCE variants and FENCE.I over code generated at run time        */

/* One 4 KiB page of its own (bss is page aligned; this fills a whole page). */
static u32 codebuf[1024] __attribute__((aligned(4096)));

typedef u64 (*jitfn)(u64, u64);

#define RV_ADDI_A0(imm) ((((u32)(imm) & 0xfff) << 20) | (10u << 15) | (10u << 7) | 0x13)
#define RV_MUL_A0_A1    ((1u << 25) | (11u << 20) | (10u << 15) | (10u << 7) | 0x33)
#define RV_XOR_A0_A1    ((11u << 20) | (10u << 15) | (4u << 12) | (10u << 7) | 0x33)
#define RV_RET          0x00008067u
#define RVC_ADDI_A0(imm) ((u16)(0x0001 | (10u << 7) | (((u32)(imm) & 0x1f) << 2) | \
                                ((((u32)(imm) >> 5) & 1) << 12)))
#define RVC_SLLI_A0(sh) ((u16)(0x0002 | (10u << 7) | (((u32)(sh) & 0x1f) << 2) | \
                               ((((u32)(sh) >> 5) & 1) << 12)))
#define RVC_JR_RA       ((u16)0x8082)

static void test_fence(void)
{
    volatile u64 *am = amem;
    u64 r;

    /* FENCE variants: results must be unaffected */
    am[0] = 0x1122334455667788ULL;
    __asm__ volatile ("fence" ::: "memory");
    __asm__ volatile ("fence rw, rw" ::: "memory");
    __asm__ volatile ("fence r, r" ::: "memory");
    __asm__ volatile ("fence w, w" ::: "memory");
    __asm__ volatile ("fence r, rw" ::: "memory");
    __asm__ volatile ("fence iorw, iorw" ::: "memory");
    __asm__ volatile ("fence.tso" ::: "memory");
    __asm__ volatile ("sd %1, 0(%2)\n\tfence w, r\n\tld %0, 0(%2)"
                      : "=&r"(r) : "r"(OPAQUE(ivals, 25)), "r"(amem) : "memory");
    mix(r); mix(am[0]);

    /* 32-bit code: k+1 addi, then mul or xor, then ret; rewritten in place
     * each round, so stale code would give a wrong result */
    volatile u32 *cb = codebuf;
    for (int k = 0; k < 16; k++) {
        int n = 0;
        for (int i = 0; i <= k; i++)
            cb[n++] = RV_ADDI_A0(k * 37 + i * 5 - 300);
        cb[n++] = (k & 1) ? RV_MUL_A0_A1 : RV_XOR_A0_A1;
        cb[n++] = RV_RET;
        __asm__ volatile ("fence.i" ::: "memory");
        jitfn f = (jitfn)(uintptr_t)codebuf;
        mix(f(OPAQUE(ivals, k), OPAQUE(ivals, k + 7)));
    }

    /* 16-bit code written at run time: c.addi, c.slli, c.jr ra */
    volatile u16 *hb = (volatile u16 *)codebuf;
    for (int k = 0; k < 16; k++) {
        int n = 0;
        for (int i = 0; i <= k % 5; i++)
            hb[n++] = RVC_ADDI_A0(((k * 7 + i) % 63) - 31 == 0 ? 1
                                  : ((k * 7 + i) % 63) - 31);
        hb[n++] = RVC_SLLI_A0(k + 1);
        hb[n++] = RVC_JR_RA;
        __asm__ volatile ("fence.i" ::: "memory");
        jitfn f = (jitfn)(uintptr_t)codebuf;
        mix(f(OPAQUE(ivals, k + 3), 0));
    }

    /* mixed 16/32-bit code, with a 32-bit instruction at a 2-byte offset */
    {
        int n = 0;
        hb[n++] = RVC_ADDI_A0(5);
        u32 w = RV_ADDI_A0(-1000);
        hb[n++] = (u16)w;
        hb[n++] = (u16)(w >> 16);
        w = RV_MUL_A0_A1;
        hb[n++] = (u16)w;
        hb[n++] = (u16)(w >> 16);
        hb[n++] = RVC_JR_RA;
        __asm__ volatile ("fence.i" ::: "memory");
        jitfn f = (jitfn)(uintptr_t)codebuf;
        mix(f(OPAQUE(ivals, 26), OPAQUE(ivals, 3)));
    }
}

/* ------------------------------------------------------------------------ */

int main(void)
{
    total_hash = FNV_OFFSET;
    puts("isa-checksum: RV64IMAFDC + Zicsr + Zifencei + Zicntr");
    section_begin(); test_int();   section_end("int");
    section_begin(); test_mem();   section_end("mem");
    section_begin(); test_mul();   section_end("mul");
    section_begin(); test_amo();   section_end("amo");
    section_begin(); test_fp();    section_end("fp");
    section_begin(); test_csr();   section_end("csr");
    section_begin(); test_rvc();   section_end("rvc");
    section_begin(); test_fence(); section_end("fence");
    print_str("total: ");
    print_hex(total_hash);
    putchar('\n');
    return 0;
}
