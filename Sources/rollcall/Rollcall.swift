import ArgumentParser
import RollcallCLI

// The command tree lives in RollcallCLI so that tests can reach it; this only starts it.
@main
extension RollcallCommand {}
