/// What a person does at the door, for the gallery, the badges and the rules alike: a student checks in
/// to the sessions whose roster names them (by face or by badge); a volunteer or a member of staff signs
/// in and out with a badge.
public enum PersonRole: String, Sendable, Codable, CaseIterable {
    case student, volunteer, staff
}

/// How the door knew who it was: a face matched against the gallery, or a signed QR badge. Its raw value
/// is the `method` of an event on the wire.
public enum IdentificationMethod: String, Sendable, Codable, CaseIterable {
    case face
    case qr
}
