import Foundation

/// A file read at start-up that a deployment mounts (the schedule, the SMS templates): what to say when the path holds
/// something else. One check for both, so the scheduler and the worker say the same thing for the same mistake.
public enum MountedFile {
    /// Why `path` cannot be read as a file when it is a directory, else nil.
    ///
    /// Foundation's own message for reading a directory is "The operation could not be completed. (NSCocoaErrorDomain
    /// error 256.)". A directory stands where the file should when a Kubernetes ConfigMap mounted with `subPath` lacks
    /// the key: the kubelet makes an empty directory of the mount point.
    public static func directoryProblem(atPath path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        return "is a directory, not a file (a ConfigMap key missing? Mounted with subPath, a missing key leaves an empty directory)"
    }
}
