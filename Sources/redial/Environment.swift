import ArgumentParser
import Foundation
import Settings

enum Environment {
    /// The process settings, or an exit with every configuration problem listed.
    static func settings() throws -> RedialSettings {
        do {
            return try RedialSettings(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("redial: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
    }
}
