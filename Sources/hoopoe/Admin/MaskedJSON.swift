import HoopoeJSON

extension JSONValue {
    /// Compact JSON text, keys sorted.
    var text: String { String(decoding: encoded(), as: UTF8.self) }
}

/// Prints a JSON document on one line (for `--json`: one document per run, easy to pipe into `jq`).
func printJSON(_ value: JSONValue) {
    print(value.text)
}
