import Foundation

/// Secrets to look for in output, in every spelling they could leak in: as written, hex (AsyncHTTPClient logs
/// body bytes that way at `trace`), hex with spaces, Base64 and percent-encoded.
struct SecretNeedles {
    /// What each secret is, for the failure message, and its spellings.
    private(set) var needles: [(label: String, spellings: [String])] = []

    /// Adds a secret.
    mutating func add(_ label: String, _ secret: String) {
        let bytes = Array(secret.utf8)
        let hex = bytes.map { String(format: "%02x", $0) }
        let percent = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret
        let spellings = [secret, hex.joined(), hex.joined().uppercased(), hex.joined(separator: " "), Data(bytes).base64EncodedString(), percent]
        needles.append((label, Array(Set(spellings))))
    }

    /// Every needle found in `text`, as `label (spelling)`.
    func found(in text: String) -> [String] {
        let lowered = text.lowercased()
        var hits: [String] = []
        for (label, spellings) in needles {
            for spelling in spellings where lowered.contains(spelling.lowercased()) {
                hits.append("\(label) (\(spelling))")
            }
        }
        return hits
    }
}
