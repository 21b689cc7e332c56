extension GalleryDocument {
    /// Applies a hub's changes to the gallery: each person in `upserts` replaces whoever had their id (or
    /// joins), each id in `removals` leaves, and with `reset` (the changes list everyone the door may
    /// recognise now, as after its scope changed) whoever else the gallery holds leaves too.
    ///
    /// Upserted people go to the end, in the order given; an id both upserted and removed is kept, upserted.
    /// - Parameters:
    ///   - upserts: people to add or replace, templates included.
    ///   - removals: ids of people to remove.
    ///   - reset: `upserts` are everyone in scope: nobody else is kept.
    /// - Returns: how many people left the gallery (removed, or not listed by a reset); a person replaced by
    ///   an upsert has not left.
    @discardableResult
    public mutating func apply(upserts: [Entry], removals: [String], reset: Bool) -> Int {
        let listed = Set(upserts.map(\.id))
        let changed = listed.union(removals)
        let held = Set(people.map(\.id))
        people.removeAll { changed.contains($0.id) || (reset && !listed.contains($0.id)) }
        let removed = held.subtracting(people.map(\.id)).subtracting(listed).count
        people += upserts
        return removed
    }
}
