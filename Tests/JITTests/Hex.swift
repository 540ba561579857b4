/// An address or register value as the failure messages print it.
func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
