import HostIO
import Testing

/// The host's RARP announcement, checked against RFC 903's layout (and QEMU's net/announce.c,
/// which fills the same fields) and QEMU's default rounds.
@Suite struct MACAnnouncementTests {
    let mac: [UInt8] = [0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF]

    @Test func theFrameIsABroadcastReverseRequestForTheMAC() {
        let frame = MACAnnouncement.rarpFrame(mac: mac)
        #expect(frame.count == 60)
        // Ethernet: destination, source, ethertype 0x8035.
        #expect(Array(frame[0..<6]) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Array(frame[6..<12]) == mac)
        #expect(Array(frame[12..<14]) == [0x80, 0x35])
        // RFC 903 (ARP's layout): hrd 1, pro 0x0800, hln 6, pln 4, op 3 (request reverse).
        #expect(Array(frame[14..<22]) == [0, 1, 8, 0, 6, 4, 0, 3])
        // sha, spa, tha, tpa.
        #expect(Array(frame[22..<28]) == mac && Array(frame[28..<32]) == [0, 0, 0, 0])
        #expect(Array(frame[32..<38]) == mac && Array(frame[38..<42]) == [0, 0, 0, 0])
        #expect(frame[42...].allSatisfy { $0 == 0 })
    }

    @Test func roundsFollowQEMUsDefaultSchedule() {
        var schedule = MACAnnouncement(mac: mac, start: 100)
        #expect(schedule.due(at: 100) == 1)           // at once
        #expect(abs(schedule.nextDeadline! - 100.05) < 1e-9)
        #expect(schedule.due(at: 100.049) == 0)
        #expect(schedule.due(at: 100.05) == 1)
        #expect(abs(schedule.nextDeadline! - 100.15) < 1e-9)
        #expect(schedule.due(at: 100.3) == 2)          // a late look sends what it missed
        #expect(schedule.due(at: 101) == 2)
        #expect(schedule.nextDeadline == nil)
        #expect(schedule.due(at: 200) == 0)
    }
}
