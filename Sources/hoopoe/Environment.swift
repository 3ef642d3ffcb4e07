#if canImport(Glibc)
import Glibc
#endif

/// Reads process environment variables; an empty value counts as unset.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }
}
