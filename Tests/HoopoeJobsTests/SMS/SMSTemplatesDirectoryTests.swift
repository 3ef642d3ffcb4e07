import Foundation
import HoopoeJobs
import Testing

/// A directory where the SMS templates file should be: what a worker pod gets when its ConfigMap lacks the
/// `sms_templates.yaml` key (mounted with `subPath`, the missing key is an empty directory). The worker said
/// "The operation could not be completed. (NSCocoaErrorDomain error 256.)"; it says what the scheduler says for its
/// schedule in the same case.
@Suite struct SMSTemplatesDirectoryTests {
    @Test func aDirectoryIsNamedAsOne() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sms_templates.yaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect {
            _ = try DomainSettings(environment: EnvironmentReader(["SMS_TEMPLATES_FILE": folder.path]))
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == folder.path && error.message.contains("is a directory, not a file (a ConfigMap key missing?")
                && error.message.contains("SMS_TEMPLATES_FILE") && !error.message.contains("NSCocoaErrorDomain")
        }
    }
}
