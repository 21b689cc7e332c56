public import ArgumentParser

/// `rollcall`: the check-in daemon and the technician's tools.
public struct RollcallCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rollcall",
        abstract:
            "Classroom door check-in: face recognition and volunteer badges, queued and synced to the school's server.",
        subcommands: [
            EncodeCommand.self, EnrollCommand.self, IdentifyCommand.self, ReplayCommand.self, SyncCommand.self,
            OutboxCommand.self,
            ConfigCommand.self, RunCommand.self, StatusCommand.self, DoctorCommand.self,
            CameraCommand.self,
            BadgeCommand.self,
            BenchCommand.self, GalleryCommand.self,
        ]
    )

    public init() {}
}
