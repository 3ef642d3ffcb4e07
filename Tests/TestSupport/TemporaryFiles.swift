import Foundation
import Synchronization

/// Files a test hands to a process by path (a schedule for `hoopoe scheduler`, for a health check), removed when the
/// test process exits: such a file must outlive the test's own scope (the process reads it later), and written to the
/// temporary folder and left there, each run left dozens behind.
public enum TemporaryFiles {
    private static let made = Mutex<[String]?>(nil)

    /// Writes `text` to a new file in the temporary folder, named `prefix`, a UUID and `suffix`; returns its path.
    public static func write(_ text: String, prefix: String, suffix: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)\(UUID().uuidString)\(suffix)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let first = made.withLock { made in
            defer { made = (made ?? []) + [path] }
            return made == nil
        }
        if first { atexit { TemporaryFiles.removeAll() } }
        return path
    }

    private static func removeAll() {
        for path in made.withLock({ $0 ?? [] }) { try? FileManager.default.removeItem(atPath: path) }
    }
}
