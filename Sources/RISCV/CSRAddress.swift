/// CSR numbers the hart implements.
enum CSRAddress {
    static let fflags: UInt16 = 0x001
    static let frm: UInt16 = 0x002
    static let fcsr: UInt16 = 0x003
    static let cycle: UInt16 = 0xC00
    static let time: UInt16 = 0xC01
    static let instret: UInt16 = 0xC02
    static let hpmcounter3: UInt16 = 0xC03
    static let hpmcounter31: UInt16 = 0xC1F

    static let mvendorid: UInt16 = 0xF11
    static let marchid: UInt16 = 0xF12
    static let mimpid: UInt16 = 0xF13
    static let mhartid: UInt16 = 0xF14
    static let mconfigptr: UInt16 = 0xF15
    static let mstatus: UInt16 = 0x300
    static let misa: UInt16 = 0x301
    static let medeleg: UInt16 = 0x302
    static let mideleg: UInt16 = 0x303
    static let mie: UInt16 = 0x304
    static let mtvec: UInt16 = 0x305
    static let mcounteren: UInt16 = 0x306
    static let menvcfg: UInt16 = 0x30A
    static let mcountinhibit: UInt16 = 0x320
    static let mhpmevent3: UInt16 = 0x323
    static let mhpmevent31: UInt16 = 0x33F
    static let mscratch: UInt16 = 0x340
    static let mepc: UInt16 = 0x341
    static let mcause: UInt16 = 0x342
    static let mtval: UInt16 = 0x343
    static let mip: UInt16 = 0x344
    static let pmpcfg0: UInt16 = 0x3A0
    static let pmpcfg15: UInt16 = 0x3AF
    static let pmpaddr0: UInt16 = 0x3B0
    static let pmpaddr63: UInt16 = 0x3EF
    static let mcycle: UInt16 = 0xB00
    static let minstret: UInt16 = 0xB02
    static let mhpmcounter3: UInt16 = 0xB03
    static let mhpmcounter31: UInt16 = 0xB1F
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
