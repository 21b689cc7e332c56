import Foundation
import Kiosk
import TestSupport
import Testing

struct KioskConfigurationTests {
    @Test("the example file in systemd/ is valid and gives the documented defaults")
    func example() throws {
        let path = TestResources.packageRoot.appendingPathComponent("systemd/rollcall.toml").path
        let settings = try KioskConfiguration.load(path: path)
        #expect(settings.deviceID == "door-b12" && settings.dataDirectory == "/var/lib/rollcall")
        #expect(settings.cameraDevice == "/dev/rollcall-camera" && settings.width == 640 && settings.fps == 30)
        #expect(settings.exposure == nil && settings.falseMatchTarget == 0.003 && settings.minimumMargin == 0.05)
        #expect(settings.hubURL == "https://hub.school.example" && settings.signagePort == 8081)
        #expect(settings.logLevel == "info" && !settings.allowUnsignedBadges)
        #expect(settings.replay == nil && settings.refreshSeconds == 60)
        #expect(settings.presentationCheck)
    }

    @Test("the hub token file: read, trimmed, and refused when missing or too short, naming the key")
    func hubToken() throws {
        let folder = try TestResources.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var settings = KioskConfiguration(deviceID: "d")
        settings.tokenFile = folder.appendingPathComponent("hub-token").path
        #expect(throws: ConfigurationError.self) { try settings.readHubToken() }
        try "short\n".write(toFile: settings.tokenFile, atomically: true, encoding: .utf8)
        #expect {
            try settings.readHubToken()
        } throws: { error in
            "\(error)".hasPrefix("hub.token_file: \(settings.tokenFile) must hold the device's token")
        }
        try "door-token-0123456789abcdef\n".write(toFile: settings.tokenFile, atomically: true, encoding: .utf8)
        #expect(try settings.readHubToken() == "door-token-0123456789abcdef")
    }

    @Test("only device.id is required; everything else has its default")
    func minimal() throws {
        let settings = try KioskConfiguration.parse("[device]\nid = \"door-1\"\n")
        #expect(settings == KioskConfiguration(deviceID: "door-1"))
        let tuned = try KioskConfiguration.parse(
            "[device]\nid = \"d\"\n[camera]\nexposure = 250\n[recognition]\nfalse_match_target = 0.01\n[hub]\nurl = \"http://127.0.0.1:8080\"\n"
        )
        #expect(
            tuned.exposure == 250 && tuned.falseMatchTarget == 0.01 && tuned.operatingPoint.falseMatchTarget == 0.01
                && tuned.hubURL == "http://127.0.0.1:8080")
    }

    /// The message for a configuration text, or nil when it is accepted.
    func refusal(_ text: String) -> String? {
        do {
            _ = try KioskConfiguration.parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    @Test(
        "every mistake names the key and the fix",
        arguments: [
            ("[device]\nid = \"d\"\n[camera]\nfsp = 30\n", "camera.fsp: unknown key; [camera] takes device, width"),
            ("[device]\nid = \"d\"\n[screen]\nsize = 1\n", "screen: unknown section"),
            ("[device]\nid = \"d\"\n[camera]\nfps = \"30\"\n", "camera.fps: must be a whole number, not a string"),
            ("[device]\nid = \"d\"\n[camera]\nfps = 0\n", "camera.fps: 0 is out of range: use 1 to 120"),
            (
                "[device]\nid = \"d\"\n[recognition]\nfalse_match_target = 0.5\n",
                "recognition.false_match_target: 0.5 is out of range"
            ),
            (
                "[device]\nid = \"d\"\n[recognition]\naccept_distance = 0.5\n",
                "recognition.accept_distance: is no longer a setting"
            ),
            (
                "[device]\nid = \"d\"\n[badges]\nallow_unsigned = \"yes\"\n",
                "badges.allow_unsigned: must be true or false"
            ),
            (
                "[device]\nid = \"d\"\n[recognition]\npresentation_check = 0\n",
                "recognition.presentation_check: must be true or false"
            ),
            (
                "[device]\nid = \"d\"\n[hub]\nurl = \"http://hub.school.example\"\n",
                "hub.url: \"http://hub.school.example\": plain http only to this machine"
            ),
            ("[device]\nid = \"d\"\n[hub]\nurl = \"ftp://x\"\n", "hub.url: \"ftp://x\" must start with https://"),
            ("[device]\nid = \"d\"\n[log]\nlevel = \"loud\"\n", "log.level: \"loud\" is not one of trace, debug"),
            ("[device]\nid = \"d\"\n[signage]\nport = 70000\n", "signage.port: 70000 is out of range"),
            ("[device]\nid = \"door 1\"\n", "device.id: \"door 1\" must be letters"),
            ("[device]\ndata_dir = \"/x\"\n", "device.id: is required"),
            ("[device]\nid = \"d\"\ndata_dir = \"var/lib\"\n", "device.data_dir: \"var/lib\" must be an absolute path"),
            ("camera = 3\n[device]\nid = \"d\"\n", "camera: must be a section"),
            ("[device\nid = \"d\"\n", "not valid TOML at line 1"),
            (
                "[device]\nid = \"d\"\n[camera]\nreplay = \"/nonexistent/door.avi\"\n",
                "camera.replay: \"/nonexistent/door.avi\" does not exist; give a video file or an image folder"
            ),
            (
                "[device]\nid = \"d\"\n[camera]\ndevice = \"video0\"\n",
                "camera.device: \"video0\" must be a device node such as /dev/rollcall-camera"
            ),
            ("[device]\nid = \"d\"\n[hub]\nrefresh_seconds = 0\n", "hub.refresh_seconds: 0 is out of range: use 1"),
        ])
    func mistakes(text: String, message: String) {
        let refused = refusal(text)
        #expect(refused?.hasPrefix(message) == true, "\(refused ?? "accepted")")
    }

    @Test("a file that cannot be read says so and where the example is")
    func missingFile() {
        #expect {
            _ = try KioskConfiguration.load(path: "/nonexistent/rollcall.toml")
        } throws: { error in
            "\(error)".contains("cannot read /nonexistent/rollcall.toml")
                && "\(error)".contains("systemd/rollcall.toml")
        }
    }

    @Test("recognition.presentation_check: on by default, off when set false, and a change restarts capture")
    func presentationCheck() throws {
        let off = try KioskConfiguration.parse("[device]\nid = \"d\"\n[recognition]\npresentation_check = false\n")
        #expect(!off.presentationCheck)
        let on = try KioskConfiguration.parse("[device]\nid = \"d\"\n")
        #expect(on.presentationCheck && !on.sameCapture(as: off))
    }
}
