/// CSR numbers the hart implements.
public enum CSRAddress {
    public static let fflags: UInt16 = 0x001
    public static let frm: UInt16 = 0x002
    public static let fcsr: UInt16 = 0x003
    public static let cycle: UInt16 = 0xC00
    public static let time: UInt16 = 0xC01
    public static let instret: UInt16 = 0xC02
    public static let hpmcounter3: UInt16 = 0xC03
    public static let hpmcounter31: UInt16 = 0xC1F

    public static let mvendorid: UInt16 = 0xF11
    public static let marchid: UInt16 = 0xF12
    public static let mimpid: UInt16 = 0xF13
    public static let mhartid: UInt16 = 0xF14
    public static let mconfigptr: UInt16 = 0xF15
    public static let mstatus: UInt16 = 0x300
    public static let misa: UInt16 = 0x301
    public static let medeleg: UInt16 = 0x302
    public static let mideleg: UInt16 = 0x303
    public static let mie: UInt16 = 0x304
    public static let mtvec: UInt16 = 0x305
    public static let mcounteren: UInt16 = 0x306
    public static let scounteren: UInt16 = 0x106
    public static let menvcfg: UInt16 = 0x30A
    public static let mcountinhibit: UInt16 = 0x320
    public static let mhpmevent3: UInt16 = 0x323
    public static let mhpmevent31: UInt16 = 0x33F
    public static let mscratch: UInt16 = 0x340
    public static let mepc: UInt16 = 0x341
    public static let mcause: UInt16 = 0x342
    public static let mtval: UInt16 = 0x343
    public static let mip: UInt16 = 0x344
    public static let pmpcfg0: UInt16 = 0x3A0
    public static let pmpcfg15: UInt16 = 0x3AF
    public static let pmpaddr0: UInt16 = 0x3B0
    public static let pmpaddr63: UInt16 = 0x3EF
    public static let mcycle: UInt16 = 0xB00
    public static let minstret: UInt16 = 0xB02
    public static let mhpmcounter3: UInt16 = 0xB03
    public static let mhpmcounter31: UInt16 = 0xB1F
}

/// Bits of mstatus.
enum MStatus {
    static let sie: UInt64 = 1 << 1
    static let mie: UInt64 = 1 << 3
    static let spie: UInt64 = 1 << 5
    static let mpie: UInt64 = 1 << 7
    static let spp: UInt64 = 1 << 8
    static let mppShift: UInt64 = 11
    static let mpp: UInt64 = 3 << 11
    static let fs: UInt64 = 3 << 13
    static let fsDirty: UInt64 = 3 << 13
    static let mprv: UInt64 = 1 << 17
    static let sum: UInt64 = 1 << 18
    static let mxr: UInt64 = 1 << 19
    static let tvm: UInt64 = 1 << 20
    static let tw: UInt64 = 1 << 21
    static let tsr: UInt64 = 1 << 22
    /// UXL and SXL: 64-bit, read-only.
    static let xl64: UInt64 = (2 << 32) | (2 << 34)
    static let sd: UInt64 = 1 << 63
}
