import Attendance
import Foundation
import Hub
import Recognition
import SyncProtocol
import TestSupport
import Testing

/// The ingest rules alone (no storage): what the hub recomputes and what it refuses.
struct IngestRulesTests {
    let session = Session(id: "s-math", room: "B12", group: "7B", start: t0, end: t0 + 2700, roster: ["p-1"])

    func facts(role: PersonRole? = .student, session: Session? = nil, allowed: Bool = false) -> IngestRules.Facts {
        IngestRules.Facts(role: role, session: session, policy: AttendancePolicy(), allowedInRoom: allowed)
    }

    func verdict(_ event: DeviceEvent, _ facts: IngestRules.Facts, received: Date = received) -> IngestRules.Verdict {
        IngestRules.judge(event, device: device, receivedAt: received, facts: facts)
    }

    func reason(_ verdict: IngestRules.Verdict) -> String {
        if case .refuse(let reason) = verdict { return reason }
        return "accepted"
    }

    @Test(
        "status and minutes late are the hub's: a forged early 'present' at 08:20 is late by 20",
        arguments: [
            (-600.0, CheckinStatus.present, 0), (300, .present, 0), (301, .late, 5), (1200, .late, 20),
            (2700, .late, 45),
        ])
    func recomputed(seconds: Double, status: CheckinStatus, minutes: Int) {
        let forged = DeviceEvent(
            id: eventUUID("forged"),
            event: .checkin(session: "s-math", person: "p-1", at: t0 + seconds, status: .present, minutesLate: 0),
            method: "face", source: "signage:door-b12")
        #expect(
            verdict(forged, facts(session: session))
                == .accept(IngestRules.Checkin(status: status, minutesLate: minutes)))
    }

    @Test("refused: off the roster, outside the window, ahead of the hub's clock, too old, another method")
    func refusals() {
        #expect(
            reason(verdict(checkin(eventUUID("a"), "p-2", at: 60), facts(session: session)))
                == "p-2 is not on the roster of session s-math")
        let early = reason(verdict(checkin(eventUUID("b"), "p-1", at: -1801), facts(session: session)))
        #expect(early.contains("outside session s-math's check-in window"), "\(early)")
        let afterEnd = reason(verdict(checkin(eventUUID("c"), "p-1", at: 2700 + 601), facts(session: session)))
        #expect(afterEnd.contains("outside"), "\(afterEnd)")
        // A door whose clock runs 6 minutes ahead, its event sent at once.
        let ahead = reason(verdict(checkin(eventUUID("d"), "p-1", at: 60), facts(session: session), received: t0 - 300))
        #expect(ahead.contains("is 360 s ahead of the hub's clock"), "\(ahead)")
        #expect(
            reason(verdict(checkin(eventUUID("e"), "p-1", at: 60), facts(session: session), received: t0 + 31 * 86_400))
                .contains("more than 30 days old"))
        var sms = checkin(eventUUID("f"), "p-1", at: 60)
        sms.method = "sms"
        #expect(reason(verdict(sms, facts(session: session))) == "method sms is not one of face, qr")
        #expect(reason(verdict(checkin(eventUUID("g"), "p-9", at: 60), facts(role: nil))) == "unknown person p-9")
        let otherRoom = Session(id: "s-art", room: "C3", group: "8A", start: t0, end: t0 + 2700, roster: ["p-1"])
        #expect(
            reason(verdict(checkin(eventUUID("h"), "p-1", session: "s-art", at: 60), facts(session: otherRoom)))
                .contains("not in this device's room B12"))
    }

    @Test("a second check-in to a session is kept as received and changes nothing")
    func second() {
        var known = facts(session: session)
        known.checkedInAt = t0 + 900
        #expect(
            verdict(checkin(eventUUID("again"), "p-1", at: 30), known)
                == .keep(
                    "p-1 is already checked in to session s-math at 2026-11-23T08:15:00Z; the first check-in to arrive stands"
                ))
    }

    @Test("entries and exits: volunteers and staff the room allows, an exit after its entry within the longest visit")
    func visits() {
        func scan(_ event: AttendanceEvent) -> DeviceEvent {
            DeviceEvent(id: eventUUID("\(event)"), event: event, method: "qr", source: "signage:door-b12")
        }
        let entry = scan(.entry(person: "v-1", at: t0))
        #expect(verdict(entry, facts(role: .volunteer, allowed: true)) == .accept(nil))
        #expect(verdict(entry, facts(role: .staff, allowed: true)) == .accept(nil))
        #expect(
            reason(verdict(entry, facts(role: .volunteer, allowed: false)))
                == "v-1 is not allowed in room B12 (the room's access list)")
        #expect(reason(verdict(entry, facts(role: .student, allowed: true))).contains("is a student"))
        let exit = scan(.exit(person: "v-1", at: t0 + 3600, entryAt: t0))
        #expect(verdict(exit, facts(role: .volunteer, allowed: true)) == .accept(nil))
        let inflated = scan(.exit(person: "v-1", at: t0 + 3600, entryAt: t0 - 20 * 3600))
        #expect(
            reason(verdict(inflated, facts(role: .volunteer, allowed: true))).contains("a visit lasts 0 to 57600 s"))
        let backwards = scan(.exit(person: "v-1", at: t0, entryAt: t0 + 60))
        #expect(reason(verdict(backwards, facts(role: .volunteer, allowed: true))).contains("-60 s after its entry"))
    }
}
