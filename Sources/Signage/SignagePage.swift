/// The door screen's page (`signage.html`, built into the binary): full screen, legible from two metres, no external resources. It listens
/// to `/events` (Server-Sent Events): `state` (room, the session now, online or offline with the queue)
/// and `decision` (a greeting for a few seconds). Stable ids for tests: `#greeting`, `#idle`,
/// `#offline`, `#room`, `#clock`; after each greeting `body.dataset.lastEvent` and
/// `body.dataset.latencyMs` (commit to screen), and `window.rollcallLatencies`.
public enum SignagePage {
    /// The page's HTML, its style and script inline.
    public static let html = String(decoding: PackageResources.signage_html, as: UTF8.self)
}
