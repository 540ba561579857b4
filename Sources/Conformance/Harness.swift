// Bare-metal wrapper that runs a batch of test cases on QEMU's `virt` machine (or anything
// emulating it: RAM at 0x8000_0000, 16550 UART at 0x1000_0000, SiFive test device at 0x10_0000)
// and dumps the architectural state after each case over the UART.
//
// Output format, one item per line:
//   case=<index> seed=<seed>
//   x1=<16 hex digits> ... x31=..., f0=... f31=..., fcsr=..., mstatus=... (masked to SD|FS), mem=<checksum>
//   [m000=... one line per scratch-page doubleword when `dumpMemory` is set]
//   end
//   trap case=<index> mcause=<hex> mepc=<hex> mtval=<hex>     (on an unexpected trap; continues with the next case)
//   done                                                        (after the last case, then power-off)

import Foundation

public enum Harness {
    /// Names of the dumped fields, in output order.
    public static let fieldNames: [String] =
        (1...31).map { "x\($0)" } + (0...31).map { "f\($0)" } + ["fcsr", "mstatus", "mem"]

    public static let mstatusMask: UInt64 = 0x8000_0000_0000_6000

    public static let linkerScript = """
        OUTPUT_ARCH(riscv)
        ENTRY(_start)
        SECTIONS
        {
          . = 0x80000000;
          .text : { *(.text.entry) *(.text .text.*) }
          . = ALIGN(4096);
          .rodata : { *(.rodata .rodata.* .srodata .srodata.*) }
          . = ALIGN(4096);
          .data : { *(.data .data.* .sdata .sdata.*) }
          . = ALIGN(4096);
          .bss : { *(.bss .bss.* .sbss .sbss.* COMMON) }
          /DISCARD/ : { *(.note.*) *(.comment) }
        }

        """

    public struct Options: Sendable, Hashable {
        /// Also print every doubleword of the scratch page after each case (for reproductions).
        public var dumpMemory: Bool
        public init(dumpMemory: Bool = false) { self.dumpMemory = dumpMemory }
    }

    /// Complete assembly source for a batch of cases.
    public static func assembly(for cases: [TestCase], options: Options = Options()) -> String {
        var s = ""
        s.reserveCapacity(cases.count * 24_000 + 8_000)
        func line(_ text: String) { s += text; s += "\n" }
        let count = cases.count

        line("# Lockstep conformance harness: \(count) case(s), seeds \(cases.map { String($0.seed) }.joined(separator: ","))")
        line("    .option norvc")
        line("    .section .text.entry, \"ax\"")
        line("    .globl _start")
        line("_start:")
        line("    la t0, trap_handler")
        line("    csrw mtvec, t0")
        line("    li t0, 0x6000")
        line("    csrc mstatus, t0")
        line("    li t0, 0x2000          # mstatus.FS = Initial")
        line("    csrs mstatus, t0")
        line("    la t0, trap_count")
        line("    sd zero, 0(t0)")
        line("    j case_0")
        line("")
        line("    .text")

        for (index, testCase) in cases.enumerated() {
            line("# ---- case \(index): seed \(testCase.seed)")
            line("case_\(index):")
            line("    la t0, cur_case")
            line("    li t1, \(index)")
            line("    sd t1, 0(t0)")
            line("    la t0, init_mem_\(index)")
            line("    la t1, scratch")
            line("    li t2, \(ScratchLayout.totalSize / 8)")
            line("1:  ld t3, 0(t0)")
            line("    sd t3, 0(t1)")
            line("    addi t0, t0, 8")
            line("    addi t1, t1, 8")
            line("    addi t2, t2, -1")
            line("    bnez t2, 1b")
            line("    csrw fcsr, zero")
            line("    la t0, init_f_\(index)")
            for r in 0..<32 { line("    fld f\(r), \(8 * r)(t0)") }
            line("    la x31, init_x_\(index)")
            for r in 1..<31 { line("    ld x\(r), \(8 * r)(x31)") }
            line("    ld x31, 248(x31)")
            line("# body")
            if testCase.autoCompress { line("    .option rvc") }
            let prefix = ".Lk\(index)_"
            for text in testCase.chunks.flatMap(\.lines) {
                let resolved = text.replacingOccurrences(of: "{L}", with: prefix)
                if resolved.hasSuffix(":") {
                    line(resolved)
                } else if resolved.hasPrefix("c.") && !testCase.autoCompress {
                    line("    .option rvc")
                    line("    " + resolved)
                    line("    .option norvc")
                } else {
                    line("    " + resolved)
                }
            }
            if testCase.autoCompress { line("    .option norvc") }
            line("# end of body")
            line("    csrw mscratch, x31")
            line("    la x31, save_area")
            for r in 1..<31 { line("    sd x\(r), \(8 * (r - 1))(x31)") }
            line("    csrr x30, mscratch")
            line("    sd x30, 240(x31)")
            line("    csrr x30, fcsr")
            line("    sd x30, \(8 * 63)(x31)")
            line("    csrr x30, mstatus")
            line("    sd x30, \(8 * 64)(x31)")
            for r in 0..<32 { line("    fsd f\(r), \(8 * (31 + r))(x31)") }
            line("    li a0, \(index)")
            line("    li a1, \(Int64(bitPattern: testCase.seed))")
            line("    call dump")
        }

        line("finish:")
        line("    la t0, cur_case")
        line("    li t1, \(count)")
        line("    sd t1, 0(t0)")
        line("    la a0, str_done")
        line("    call puts")
        line("    li t0, 0x100000")
        line("    li t1, 0x5555")
        line("    sw t1, 0(t0)")
        line("1:  j 1b")
        line("")
        s += runtime(count: count, dumpMemory: options.dumpMemory)

        line("    .section .rodata")
        line("    .balign 8")
        line("case_table:")
        for index in 0..<count { line("    .dword case_\(index)") }
        line("    .dword finish")
        line("field_names:")
        for name in fieldNames {
            line("    .asciz \"\(name)\"")
            line("    .balign 8")
        }
        line("hexdigits: .ascii \"0123456789abcdef\"")
        line("str_case: .asciz \"case=\"")
        line("str_seed: .asciz \" seed=\"")
        line("str_end: .asciz \"end\\n\"")
        line("str_done: .asciz \"done\\n\"")
        line("str_trap: .asciz \"trap case=\"")
        line("str_mcause: .asciz \" mcause=\"")
        line("str_mepc: .asciz \" mepc=\"")
        line("str_mtval: .asciz \" mtval=\"")
        line("    .balign 8")
        for (index, testCase) in cases.enumerated() {
            line("init_x_\(index):")
            for r in 0..<32 {
                switch r {
                case 2: line("    .dword scratch + \(ScratchLayout.initialSP)")
                case 8: line("    .dword scratch")
                default: line("    .dword 0x\(hex(testCase.intRegisters[r]))")
                }
            }
            line("init_f_\(index):")
            for r in 0..<32 { line("    .dword 0x\(hex(testCase.fpRegisters[r]))") }
            line("init_mem_\(index):")
            var words: [String] = []
            for i in stride(from: 0, to: ScratchLayout.totalSize, by: 8) {
                var v: UInt64 = 0
                for b in 0..<8 { v |= UInt64(testCase.memory[i + b]) << (8 * UInt64(b)) }
                words.append("0x" + hex(v))
                if words.count == 4 {
                    line("    .dword " + words.joined(separator: ", "))
                    words.removeAll()
                }
            }
            if !words.isEmpty { line("    .dword " + words.joined(separator: ", ")) }
        }

        line("    .data")
        line("    .balign 4096")
        line("    .space \(4096 - ScratchLayout.pageBoundary)")
        line("scratch:                  # scratch + \(ScratchLayout.pageBoundary) is page-aligned")
        line("    .space \(ScratchLayout.totalSize)")
        line("    .balign 4096")
        line("save_area:")
        line("    .space \(8 * fieldNames.count)")
        line("cur_case: .dword 0")
        line("trap_count: .dword 0")
        return s
    }

    /// The shared dump, print and trap-handling routines.
    static func runtime(count: Int, dumpMemory: Bool) -> String {
        let fields = fieldNames.count
        var s = """
        # dump: a0 = case index, a1 = seed; the epilogue already stored the state in save_area.
        dump:
            mv s10, ra
            mv s2, a0
            mv s3, a1
            la t0, scratch
            li t1, \(ScratchLayout.totalSize / 8)
            li t2, 0
        1:  ld t3, 0(t0)
            slli t4, t2, 13
            srli t5, t2, 51
            or t2, t4, t5
            xor t2, t2, t3
            addi t0, t0, 8
            addi t1, t1, -1
            bnez t1, 1b
            la t0, save_area
            sd t2, \(8 * (fields - 1))(t0)
            ld t3, \(8 * (fields - 2))(t0)
            li t4, 0x\(hex(mstatusMask))
            and t3, t3, t4
            sd t3, \(8 * (fields - 2))(t0)
            la a0, str_case
            call puts
            mv a0, s2
            li a1, 4
            call puthex
            la a0, str_seed
            call puts
            mv a0, s3
            li a1, 16
            call puthex
            li a0, 10
            call putc
            la s4, save_area
            la s5, field_names
            li s6, \(fields)
        2:  mv a0, s5
            call puts
            li a0, 61
            call putc
            ld a0, 0(s4)
            li a1, 16
            call puthex
            li a0, 10
            call putc
            addi s4, s4, 8
            addi s5, s5, 8
            addi s6, s6, -1
            bnez s6, 2b

        """
        if dumpMemory {
            s += """
                la s4, scratch
                li s6, 0
            3:  li a0, 109
                call putc
                mv a0, s6
                li a1, 3
                call puthex
                li a0, 61
                call putc
                ld a0, 0(s4)
                li a1, 16
                call puthex
                li a0, 10
                call putc
                addi s4, s4, 8
                addi s6, s6, 8
                li t0, \(ScratchLayout.totalSize)
                bltu s6, t0, 3b

            """
        }
        s += """
            la a0, str_end
            call puts
            mv ra, s10
            ret

        # puts: a0 = NUL-terminated string. Clobbers t0-t2, a0.
        puts:
            li t0, 0x10000000
        1:  lbu t2, 0(a0)
            beqz t2, 3f
        2:  lbu t1, 5(t0)
            andi t1, t1, 0x20
            beqz t1, 2b
            sb t2, 0(t0)
            addi a0, a0, 1
            j 1b
        3:  ret

        # putc: a0 = byte. Clobbers t0, t1.
        putc:
            li t0, 0x10000000
        1:  lbu t1, 5(t0)
            andi t1, t1, 0x20
            beqz t1, 1b
            sb a0, 0(t0)
            ret

        # puthex: a0 = value, a1 = number of hex digits. Clobbers t0-t4.
        puthex:
            li t0, 0x10000000
            la t3, hexdigits
            slli t4, a1, 2
        1:  addi t4, t4, -4
            srl t2, a0, t4
            andi t2, t2, 15
            add t2, t3, t2
            lbu t2, 0(t2)
        2:  lbu t1, 5(t0)
            andi t1, t1, 0x20
            beqz t1, 2b
            sb t2, 0(t0)
            bnez t4, 1b
            ret

            .balign 4
        trap_handler:
            csrr s2, mcause
            csrr s3, mepc
            csrr s4, mtval
            la t0, trap_count
            ld t1, 0(t0)
            addi t1, t1, 1
            sd t1, 0(t0)
            li t2, \(count + 4)
            bgeu t1, t2, fail_exit
            la a0, str_trap
            call puts
            la t0, cur_case
            ld a0, 0(t0)
            li a1, 4
            call puthex
            la a0, str_mcause
            call puts
            mv a0, s2
            li a1, 16
            call puthex
            la a0, str_mepc
            call puts
            mv a0, s3
            li a1, 16
            call puthex
            la a0, str_mtval
            call puts
            mv a0, s4
            li a1, 16
            call puthex
            li a0, 10
            call putc
            la t0, cur_case
            ld t1, 0(t0)
            addi t1, t1, 1
            li t2, \(count)
            bgtu t1, t2, fail_exit
            la t0, case_table
            slli t1, t1, 3
            add t0, t0, t1
            ld t0, 0(t0)
            csrw mepc, t0
            li t0, 0x1800
            csrs mstatus, t0
            mret
        fail_exit:
            li t0, 0x100000
            li t1, 0x13333
            sw t1, 0(t0)
        1:  j 1b


        """
        return s
    }

    static func hex(_ v: UInt64) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
