import Foundation
import Hub
import Hummingbird
import Mustache
import Synchronization

/// The web app's templates (Sources/HubServer/Templates, resource files of this module), its
/// stylesheet and script, loaded once.
final class Pages: Sendable {
    let library: MustacheLibrary
    /// Static files by name (`app.css`, `app.js`).
    let files: [String: String]

    private static let loaded = Mutex<Pages?>(nil)

    /// The pages, loaded on first use.
    static func shared() throws(HubError) -> Pages {
        try loaded.withLock { (pages: inout Pages?) throws(HubError) -> Pages in
            if let pages { return pages }
            let made = try Pages(folder: folder())
            pages = made
            return made
        }
    }

    /// Where the templates are: `$ROLLCALL_HUB_TEMPLATES`; else this module's resources beside the
    /// executable (where `make install` puts them); else where the build left them.
    static func folder() -> URL {
        if let given = ProcessInfo.processInfo.environment["ROLLCALL_HUB_TEMPLATES"], !given.isEmpty {
            return URL(fileURLWithPath: given)
        }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("rollcall_HubServer.resources/Templates")
        if FileManager.default.fileExists(atPath: beside.path) { return beside }
        return Bundle.module.bundleURL.appendingPathComponent("Templates")
    }

    init(folder: URL) throws(HubError) {
        var library = MustacheLibrary()
        var files: [String: String] = [:]
        do {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
                let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                if name.hasSuffix(".mustache") {
                    try library.register(text, named: String(name.dropLast(".mustache".count)))
                } else {
                    files[name] = text
                }
            }
        } catch {
            throw HubError(.internal, "cannot load the web app's templates from \(folder.path): \(error)")
        }
        guard library.getTemplate(named: "header") != nil, files["app.css"] != nil else {
            throw HubError(.internal, "the web app's templates are not in \(folder.path) (reinstall rollcall-hub)")
        }
        self.library = library
        self.files = files
    }

    /// A template filled with `data` (HTML-escaped, but for `{{{...}}}`).
    func render(_ name: String, _ data: [String: Any]) throws(HubError) -> String {
        var data = data
        if data["standalone"] as? Bool == true { data["css"] = files["app.css"] ?? "" }
        guard let text = library.render(data, withTemplate: name) else {
            throw HubError(.internal, "there is no template \(name)")
        }
        return text
    }
}
