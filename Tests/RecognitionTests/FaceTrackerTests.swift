import Recognition
import Testing

/// A square box of `size` px with its top left corner at (x, y).
private func box(_ x: Double, _ y: Double = 100, size: Double = 100) -> TrackBox {
    TrackBox(left: x, top: y, right: x + size, bottom: y + size)
}

/// An encoding that matched `person` clearly.
private func accepted(_ person: String) -> Identification {
    .accepted(MatchResult(person: person, distance: 0.3, runnerUp: "someone", margin: 0.3))
}

/// An encoding near `person` but about as near to someone else.
private func ambiguous(_ person: String) -> Identification {
    .ambiguous(MatchResult(person: person, distance: 0.4, runnerUp: "someone", margin: 0.02))
}

/// An encoding that matched nobody.
private let unknown = Identification.unknown(
    nearest: MatchResult(person: "someone", distance: 0.8, runnerUp: nil, margin: .infinity))

/// A tracker following one face, and that face's track id.
private func oneTrack(_ configuration: FaceTracker.Configuration = .init()) -> (FaceTracker, Int) {
    var tracker = FaceTracker(configuration: configuration)
    let id = tracker.update(frame: 0, boxes: [box(0)])[0]
    return (tracker, id)
}

struct TrackBoxTests {
    @Test("intersection over union: same box 1, apart 0, half-shifted one third, contained by area")
    func iou() {
        #expect(box(0).iou(box(0)) == 1)
        #expect(box(0).iou(box(100)) == 0, "touching edges do not overlap")
        #expect(box(0).iou(box(300)) == 0)
        #expect(box(0).iou(box(50)) == 5000.0 / 15000)
        #expect(box(50).iou(box(0)) == box(0).iou(box(50)))
        #expect(box(0).iou(TrackBox(left: 0, top: 100, right: 30, bottom: 200)) == 0.3)
        #expect(box(0).area == 10000)
    }

    @Test("an empty or inverted box has no area and overlaps nothing")
    func emptyBox() {
        let inverted = TrackBox(left: 10, top: 10, right: 0, bottom: 0)
        #expect(inverted.area == 0)
        #expect(inverted.iou(box(0)) == 0)
        #expect(inverted.iou(inverted) == 0)
    }
}

struct FaceTrackerTests {
    @Test("a face moving 2 px a frame keeps its track id")
    func movingFaceKeepsID() throws {
        var tracker = FaceTracker()
        let first = try #require(tracker.update(frame: 0, boxes: [box(0)]).first)
        #expect(first == 1)
        for frame in 1...90 {
            #expect(tracker.update(frame: frame, boxes: [box(Double(2 * frame))]) == [first])
        }
        let track = try #require(tracker.track(first))
        #expect(track.firstFrame == 0 && track.lastSeenFrame == 90 && track.box == box(180))
        #expect(tracker.tracks.count == 1)
    }

    @Test("two faces moving at once keep their own ids, in whatever order the detector lists them")
    func twoFaces() {
        var tracker = FaceTracker()
        let ids = tracker.update(frame: 0, boxes: [box(0), box(300)])
        #expect(ids == [1, 2])
        for frame in 1...60 {
            let a = box(Double(2 * frame), 100 + Double(frame))
            let b = box(300 - Double(frame), 100 + Double(2 * frame))
            let boxes = frame.isMultiple(of: 2) ? [a, b] : [b, a]
            let expected = frame.isMultiple(of: 2) ? [1, 2] : [2, 1]
            #expect(tracker.update(frame: frame, boxes: boxes) == expected, "frame \(frame)")
        }
        #expect(tracker.tracks.map(\.id) == [1, 2])
    }

    @Test("a face far from every track starts a new one, ids counting up")
    func farBoxIsNewTrack() {
        var tracker = FaceTracker()
        #expect(tracker.update(frame: 0, boxes: [box(0)]) == [1])
        #expect(tracker.update(frame: 1, boxes: [box(2), box(400)]) == [1, 2])
        #expect(tracker.update(frame: 2, boxes: [box(400)]) == [2])
        #expect(tracker.update(frame: 3, boxes: [box(250)]) == [3])
        #expect(tracker.tracks.map(\.id) == [1, 2, 3], "a track missing for a frame is still followed")
    }

    @Test("an overlap of exactly the minimum (0.3) continues a track, less starts a new one")
    func minimumOverlap() {
        var tracker = FaceTracker()
        _ = tracker.update(frame: 0, boxes: [box(0)])
        #expect(tracker.update(frame: 1, boxes: [TrackBox(left: 0, top: 100, right: 30, bottom: 200)]) == [1])

        var other = FaceTracker()
        _ = other.update(frame: 0, boxes: [box(0)])
        #expect(other.update(frame: 1, boxes: [TrackBox(left: 0, top: 100, right: 29, bottom: 200)]) == [2])
    }

    @Test("a track is kept through exactly maximumMissedFrames frames without its face, then forgotten")
    func missedFramesEveryFrame() {
        var tracker = FaceTracker()
        #expect(tracker.configuration.maximumMissedFrames == 15)
        _ = tracker.update(frame: 0, boxes: [box(0)])
        for frame in 1...15 { _ = tracker.update(frame: frame, boxes: []) }
        #expect(tracker.track(1) != nil)
        #expect(tracker.update(frame: 16, boxes: [box(0)]) == [1], "15 frames missed: the same face")

        for frame in 17...32 { _ = tracker.update(frame: frame, boxes: []) }
        #expect(tracker.track(1) == nil, "16 frames missed: forgotten")
        #expect(tracker.update(frame: 33, boxes: [box(0)]) == [2])
    }

    @Test("frames skipped without an update count as missed: a stale track is not continued")
    func missedFramesSkipped() {
        var kept = FaceTracker()
        _ = kept.update(frame: 0, boxes: [box(0)])
        #expect(kept.update(frame: 16, boxes: [box(0)]) == [1])

        var forgotten = FaceTracker()
        _ = forgotten.update(frame: 0, boxes: [box(0)])
        #expect(forgotten.update(frame: 17, boxes: [box(0)]) == [2])
        #expect(forgotten.tracks.map(\.id) == [2])

        var muchLater = FaceTracker()
        _ = muchLater.update(frame: 0, boxes: [box(0)])
        #expect(muchLater.update(frame: 500, boxes: [box(0)]) == [2])
    }

    @Test("other maximumMissedFrames move the boundary")
    func customMissedFrames() {
        var configuration = FaceTracker.Configuration()
        configuration.maximumMissedFrames = 2
        var tracker = FaceTracker(configuration: configuration)
        _ = tracker.update(frame: 0, boxes: [box(0)])
        _ = tracker.update(frame: 1, boxes: [])
        _ = tracker.update(frame: 2, boxes: [])
        #expect(tracker.update(frame: 3, boxes: [box(0)]) == [1])
        _ = tracker.update(frame: 4, boxes: [])
        _ = tracker.update(frame: 5, boxes: [])
        _ = tracker.update(frame: 6, boxes: [])
        #expect(tracker.track(1) == nil)
        #expect(tracker.update(frame: 7, boxes: [box(0)]) == [2])
    }

    @Test("a face overlapping two tracks continues the one it overlaps more")
    func prefersLargerOverlap() {
        var tracker = FaceTracker()
        #expect(tracker.update(frame: 0, boxes: [box(0), box(80)]) == [1, 2])
        // IoU 0.333 with track 1, 0.538 with track 2.
        #expect(tracker.update(frame: 1, boxes: [box(50)]) == [2])
        #expect(tracker.track(1)?.lastSeenFrame == 0)
    }

    @Test("pairs are taken largest overlap first, not in the detector's order")
    func greedyByOverlap() {
        var tracker = FaceTracker()
        #expect(tracker.update(frame: 0, boxes: [box(0)]) == [1])
        // The first box overlaps track 1 by 0.43, the second by 0.67: the second continues it.
        #expect(tracker.update(frame: 1, boxes: [box(40), box(20)]) == [2, 1])
    }

    @Test("a new face is encoded, and on every frame while it is not identified")
    func wantsEncodingWhileUnidentified() {
        var (tracker, id) = oneTrack()
        #expect(tracker.wantsEncoding(track: id, frame: 0))
        #expect(tracker.record(ambiguous("ada"), track: id, frame: 0) == nil)
        for frame in 1...5 {
            _ = tracker.update(frame: frame, boxes: [box(0)])
            #expect(tracker.wantsEncoding(track: id, frame: frame))
            #expect(
                tracker.record(frame.isMultiple(of: 2) ? unknown : ambiguous("ada"), track: id, frame: frame) == nil)
        }
        #expect(tracker.wantsEncoding(track: 99, frame: 5) == false, "no such track")
    }

    @Test("an identified face is re-checked only every reverifyEvery frames")
    func wantsEncodingAfterIdentification() {
        var (tracker, id) = oneTrack()
        #expect(tracker.record(accepted("ada"), track: id, frame: 0) == nil)
        #expect(tracker.wantsEncoding(track: id, frame: 1))
        #expect(tracker.record(accepted("ada"), track: id, frame: 1) == .identified(person: "ada"))
        for frame in 2...30 { #expect(!tracker.wantsEncoding(track: id, frame: frame), "frame \(frame)") }
        #expect(tracker.wantsEncoding(track: id, frame: 31))
        #expect(tracker.record(accepted("ada"), track: id, frame: 31) == nil, "confirmed: nothing changes")
        #expect(!tracker.wantsEncoding(track: id, frame: 60))
        #expect(tracker.wantsEncoding(track: id, frame: 61))
        #expect(tracker.track(id)?.identity == "ada")
        #expect(tracker.track(id)?.encodings == 3 && tracker.track(id)?.lastEncodedFrame == 31)
    }

    @Test("two accepted votes for the same person identify them on the second, once (2 of 3)")
    func twoOfThree() {
        var (tracker, id) = oneTrack()
        #expect(tracker.record(accepted("ada"), track: id, frame: 0) == nil)
        #expect(tracker.track(id)?.identity == nil)
        #expect(tracker.record(accepted("ada"), track: id, frame: 1) == .identified(person: "ada"))
        #expect(tracker.track(id)?.identity == "ada")
        #expect(tracker.record(accepted("ada"), track: id, frame: 31) == nil)
        #expect(tracker.record(accepted("ada"), track: id, frame: 61) == nil)
    }

    @Test("an ambiguous or unknown encoding between two votes for a person still makes 2 of 3")
    func nonVoteInBetween() {
        for between in [ambiguous("ben"), ambiguous("ada"), unknown] {
            var (tracker, id) = oneTrack()
            #expect(tracker.record(accepted("ada"), track: id, frame: 0) == nil)
            #expect(tracker.record(between, track: id, frame: 1) == nil)
            #expect(tracker.record(accepted("ada"), track: id, frame: 2) == .identified(person: "ada"), "\(between)")
        }
    }

    @Test("two votes for a person three encodings apart are not 2 of 3")
    func votesTooFarApart() {
        var (tracker, id) = oneTrack()
        #expect(tracker.record(accepted("ada"), track: id, frame: 0) == nil)
        #expect(tracker.record(ambiguous("ada"), track: id, frame: 1) == nil)
        #expect(tracker.record(ambiguous("ada"), track: id, frame: 2) == nil)
        #expect(tracker.record(accepted("ada"), track: id, frame: 3) == nil)
        #expect(tracker.record(accepted("ada"), track: id, frame: 4) == .identified(person: "ada"))
    }

    @Test("a face whose encodings alternate between two people is never identified")
    func alternatingPeople() {
        var (tracker, id) = oneTrack()
        for frame in 0..<12 {
            let outcome = tracker.record(accepted(frame.isMultiple(of: 2) ? "ada" : "ben"), track: id, frame: frame)
            #expect(outcome == nil, "frame \(frame)")
            #expect(tracker.wantsEncoding(track: id, frame: frame + 1))
        }
        #expect(tracker.track(id)?.identity == nil)
        // Once the votes agree, the consensus holds.
        #expect(tracker.record(accepted("ben"), track: id, frame: 12) == nil)
        #expect(tracker.record(accepted("ben"), track: id, frame: 13) == .identified(person: "ben"))
    }

    @Test("a face is reported unknown after 3 unknown encodings in a row, and only once")
    func unknownAfterThree() {
        var (tracker, id) = oneTrack()
        #expect(tracker.record(unknown, track: id, frame: 0) == nil)
        #expect(tracker.record(unknown, track: id, frame: 1) == nil)
        #expect(tracker.record(ambiguous("ada"), track: id, frame: 2) == nil, "the run is broken")
        #expect(tracker.record(unknown, track: id, frame: 3) == nil)
        #expect(tracker.record(.unknown(nearest: nil), track: id, frame: 4) == nil)
        #expect(tracker.record(unknown, track: id, frame: 5) == .unknown)
        #expect(tracker.track(id)?.reportedUnknown == true)
        for frame in [15, 25, 35] { #expect(tracker.record(unknown, track: id, frame: frame) == nil) }
    }

    @Test("a face reported unknown is retried every unknownRetryEvery frames, and can still be identified")
    func unknownRetry() {
        var (tracker, id) = oneTrack()
        for frame in 0...2 { _ = tracker.record(unknown, track: id, frame: frame) }
        #expect(tracker.track(id)?.reportedUnknown == true)
        for frame in 3...11 { #expect(!tracker.wantsEncoding(track: id, frame: frame), "frame \(frame)") }
        #expect(tracker.wantsEncoding(track: id, frame: 12))
        #expect(tracker.record(accepted("ada"), track: id, frame: 12) == nil)
        #expect(!tracker.wantsEncoding(track: id, frame: 21))
        #expect(tracker.wantsEncoding(track: id, frame: 22))
        #expect(tracker.record(accepted("ada"), track: id, frame: 22) == .identified(person: "ada"))
        #expect(!tracker.wantsEncoding(track: id, frame: 32), "identified: re-checked every 30 frames")
    }

    @Test("an identified face is never reported unknown")
    func identifiedNotUnknown() {
        var (tracker, id) = oneTrack()
        _ = tracker.record(accepted("ada"), track: id, frame: 0)
        _ = tracker.record(accepted("ada"), track: id, frame: 1)
        for frame in [31, 61, 91, 121] { #expect(tracker.record(unknown, track: id, frame: frame) == nil) }
        #expect(tracker.track(id)?.reportedUnknown == false)
    }

    @Test("re-checks that consistently name another person identify the track as them")
    func reidentification() {
        var (tracker, id) = oneTrack()
        _ = tracker.record(accepted("ada"), track: id, frame: 0)
        #expect(tracker.record(accepted("ada"), track: id, frame: 1) == .identified(person: "ada"))
        #expect(tracker.wantsEncoding(track: id, frame: 31))
        #expect(tracker.record(accepted("ben"), track: id, frame: 31) == nil, "one re-check is not enough")
        #expect(tracker.track(id)?.identity == "ada")
        #expect(tracker.wantsEncoding(track: id, frame: 61))
        #expect(tracker.record(accepted("ben"), track: id, frame: 61) == nil, "a vote for ada is still recent")
        #expect(tracker.wantsEncoding(track: id, frame: 91))
        #expect(tracker.record(accepted("ben"), track: id, frame: 91) == .identified(person: "ben"))
        #expect(tracker.track(id)?.identity == "ben")
        #expect(tracker.record(accepted("ben"), track: id, frame: 121) == nil)
    }

    @Test("other k of n settings are honoured")
    func customConsensus() {
        var configuration = FaceTracker.Configuration()
        configuration.consensusK = 3
        configuration.consensusN = 4
        var (tracker, id) = oneTrack(configuration)
        #expect(tracker.record(accepted("ada"), track: id, frame: 0) == nil)
        #expect(tracker.record(accepted("ada"), track: id, frame: 1) == nil)
        #expect(tracker.record(ambiguous("ada"), track: id, frame: 2) == nil)
        #expect(tracker.record(accepted("ada"), track: id, frame: 3) == .identified(person: "ada"))
    }

    @Test("a record for a track no longer followed changes nothing")
    func recordForGoneTrack() {
        var (tracker, id) = oneTrack()
        #expect(tracker.record(accepted("ada"), track: id + 1, frame: 0) == nil)
        #expect(tracker.track(id)?.encodings == 0)
        _ = tracker.update(frame: 20, boxes: [])
        #expect(tracker.track(id) == nil)
        #expect(tracker.record(accepted("ada"), track: id, frame: 20) == nil)
        #expect(tracker.record(accepted("ada"), track: id, frame: 21) == nil)
    }
}
