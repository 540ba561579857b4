/// Every mnemonic of RV64IMAFDC + Zicsr + Zifencei and the privileged instructions, as
/// objdump prints them with `-M no-aliases`. The objdump comparison checks that its corpus
/// made objdump print each of them at least once, so that no instruction goes untested.
enum RequiredMnemonics {
    static let thirtyTwoBit: Set<String> = {
        var names: Set<String> = [
            // RV64I
            "lui", "auipc", "jal", "jalr", "beq", "bne", "blt", "bge", "bltu", "bgeu",
            "lb", "lh", "lw", "ld", "lbu", "lhu", "lwu", "sb", "sh", "sw", "sd",
            "addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli", "srai",
            "addiw", "slliw", "srliw", "sraiw",
            "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
            "addw", "subw", "sllw", "srlw", "sraw",
            "fence", "fence.tso", "ecall", "ebreak", "unimp",
            // Zifencei, Zicsr
            "fence.i", "csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci",
            // Privileged
            "sret", "mret", "wfi", "sfence.vma",
            // M
            "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
            "mulw", "divw", "divuw", "remw", "remuw",
            // F and D conversions and moves that are not per-precision families below
            "fcvt.s.d", "fcvt.d.s", "fmv.x.w", "fmv.w.x", "fmv.x.d", "fmv.d.x",
            "flw", "fsw", "fld", "fsd",
        ]
        for width in [".w", ".d"] {
            for operation in ["lr", "sc", "amoswap", "amoadd", "amoxor", "amoand", "amoor",
                              "amomin", "amomax", "amominu", "amomaxu"] {
                for ordering in ["", ".aq", ".rl", ".aqrl"] { names.insert(operation + width + ordering) }
            }
        }
        for precision in [".s", ".d"] {
            for operation in ["fmadd", "fmsub", "fnmsub", "fnmadd", "fadd", "fsub", "fmul", "fdiv",
                              "fsqrt", "fsgnj", "fsgnjn", "fsgnjx", "fmin", "fmax", "feq", "flt",
                              "fle", "fclass"] {
                names.insert(operation + precision)
            }
            for integer in ["w", "wu", "l", "lu"] {
                names.insert("fcvt.\(integer)\(precision)")
                names.insert("fcvt\(precision).\(integer)")
            }
        }
        return names
    }()

    static let compressed: Set<String> = [
        "c.unimp", "c.addi4spn", "c.fld", "c.lw", "c.ld", "c.fsd", "c.sw", "c.sd",
        "c.addi", "c.addiw", "c.li", "c.addi16sp", "c.lui",
        "c.srli", "c.srli64", "c.srai", "c.srai64", "c.andi",
        "c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw",
        "c.j", "c.beqz", "c.bnez",
        "c.slli", "c.slli64", "c.fldsp", "c.lwsp", "c.ldsp",
        "c.jr", "c.mv", "c.ebreak", "c.jalr", "c.add", "c.fsdsp", "c.swsp", "c.sdsp",
    ]
}
