import Foundation
import HoopoeCore
import Yams

/// The SMS templates file (default `jobs/sms_templates.yaml`, env `SMS_TEMPLATES_FILE`), read once at start-up.
///
/// Strict on purpose: a missing file, invalid YAML, an unknown key (a typo such as `kavenegr:`) or a template
/// without its Kavenegar name stops the worker with a ``ConfigurationError`` that names the file and the key, so a
/// mistake shows at deploy time rather than as dead `sms.send` jobs at 08:00.
public struct SMSTemplates: Sendable, Equatable {
    /// Templates by logical name.
    public var templates: [String: SMSTemplate]

    /// Kavenegar `verify/lookup` token names (docs/providers.md §2.4.5).
    public static let tokenNames: Set<String> = ["token", "token2", "token3", "token10", "token20"]

    /// The templates Hoopoe's own jobs send, with the tokens each fills (`ExpirationRelease`, `LowCreditReminderJob`,
    /// `GiftFollowUps`). A file without one of them, or with other tokens, was accepted at start-up, and every such
    /// reminder then died at send time (`sms.failed`), its message id spent for 30 days.
    public static let builtIn: [String: Set<String>] = [
        "expiration_reminder": ["token10", "token", "token2", "token3"],
        "low_credit": ["token10", "token", "token2"],
        "gift_reminder": ["token", "token20"],
    ]

    public init(_ templates: [SMSTemplate] = []) {
        self.templates = Dictionary(templates.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    }

    /// The template with this logical name.
    public subscript(name: String) -> SMSTemplate? { templates[name] }

    /// Reads and checks the file at `path` (relative paths are relative to the working directory).
    /// - Throws: ``ConfigurationError`` whose key is `<path>` or `<path>: templates.<name>.<key>`.
    public static func load(path: String) throws(ConfigurationError) -> SMSTemplates {
        // As the scheduler says it for its schedule: a worker pod whose ConfigMap lacks `sms_templates.yaml` gets an
        // empty directory at the mount, and Foundation's error for reading it names neither the cause nor the file.
        if let problem = MountedFile.directoryProblem(atPath: path) {
            throw ConfigurationError(key: path, message: "\(problem); set SMS_TEMPLATES_FILE to the templates file")
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(key: path, message: "cannot read the SMS templates file (set SMS_TEMPLATES_FILE): \(error.localizedDescription)")
        }
        return try parse(text, file: path, requiringBuiltIn: true)
    }

    /// Parses the file's text; `file` names it in errors. `requiringBuiltIn`: the templates of ``builtIn`` must be
    /// there, with their tokens (a file the worker loads).
    public static func parse(_ yaml: String, file: String, requiringBuiltIn: Bool = false) throws(ConfigurationError) -> SMSTemplates {
        func fail(_ key: String?, _ message: String) -> ConfigurationError {
            ConfigurationError(key: key.map { "\(file): \($0)" } ?? file, message: message)
        }
        let root: Node?
        do {
            // `.basic`: every scalar stays a string (all this file holds). Yams' default resolver compiles seven
            // NSRegularExpressions (ICU) to tag booleans, numbers and dates: ~1 MiB of a worker's idle RSS for nothing.
            root = try Yams.compose(yaml: yaml, .basic)
        } catch {
            // Yams quotes the line at fault: masked, as every message that reaches a log.
            throw fail(nil, "not valid YAML: \(PersonalDataMask.mask("\(error)"))")
        }
        guard let mapping = root?.mapping else { throw fail(nil, "expected a mapping with a `templates:` key") }
        var list: Node.Mapping?
        for (key, value) in mapping {
            guard key.string == "templates" else { throw fail(key.string ?? "?", "unknown top-level key (the file has only `templates:`)") }
            guard let templates = value.mapping else { throw fail("templates", "expected a mapping of template name → definition") }
            list = templates
        }
        guard let list, !list.isEmpty else { throw fail("templates", "no templates defined") }
        var result: [SMSTemplate] = []
        for (nameNode, node) in list {
            guard let name = nameNode.string, !name.isEmpty else { throw fail("templates", "a template name is empty") }
            result.append(try template(name, node, fail: fail))
        }
        let byName = Dictionary(result.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        for (name, tokens) in builtIn.sorted(by: { $0.key < $1.key }) where requiringBuiltIn {
            guard let template = byName[name] else {
                throw fail("templates.\(name)", "missing: Hoopoe's own jobs send it, with tokens \(tokens.sorted().joined(separator: ", "))")
            }
            let have = Set(template.tokens.keys)
            guard have == tokens else {
                throw fail(
                    "templates.\(name).tokens",
                    "Hoopoe's jobs fill exactly \(tokens.sorted().joined(separator: ", ")), got \(have.sorted().joined(separator: ", "))")
            }
        }
        for template in result {
            guard let other = template.withoutLinks else { continue }
            let at = "templates.\(template.name).without_links"
            guard let fallback = byName[other], other != template.name else {
                throw fail(at, "names \(other), which is not another template in this file")
            }
            if let extra = fallback.tokens.keys.sorted().first(where: { template.tokens[$0] == nil }) {
                throw fail(at, "\(other) takes \(extra), which \(template.name) does not carry")
            }
        }
        return SMSTemplates(result)
    }

    private static func template(_ name: String, _ node: Node, fail: (String?, String) -> ConfigurationError) throws(ConfigurationError) -> SMSTemplate {
        let at = "templates.\(name)"
        guard let mapping = node.mapping else { throw fail(at, "expected a mapping with kavenegar, tokens and (optionally) ippanel") }
        var kavenegar: String?
        var tokens: [String: String]?
        var ippanel: SMSTemplate.IPPanelPattern?
        var withoutLinks: String?
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? "?"
            switch key {
            case "kavenegar":
                guard let text = value.string, !text.isEmpty else { throw fail("\(at).kavenegar", "expected the Kavenegar template name") }
                kavenegar = text
            case "tokens":
                guard let map = value.mapping, !map.isEmpty else { throw fail("\(at).tokens", "expected a mapping of token name → what it holds") }
                var read: [String: String] = [:]
                for (tokenNode, description) in map {
                    let token = tokenNode.string ?? "?"
                    guard tokenNames.contains(token) else {
                        throw fail("\(at).tokens.\(token)", "not a Kavenegar token (use \(tokenNames.sorted().joined(separator: ", ")))")
                    }
                    read[token] = description.string ?? ""
                }
                guard read["token"] != nil else { throw fail("\(at).tokens", "verify/lookup requires `token`") }
                tokens = read
            case "ippanel":
                ippanel = try pattern(value, at: "\(at).ippanel", fail: fail)
            case "without_links":
                guard let text = value.string, !text.isEmpty else { throw fail("\(at).without_links", "expected the name of a link-free template") }
                withoutLinks = text
            default:
                throw fail("\(at).\(key)", "unknown key (a template has kavenegar, tokens, ippanel, without_links)")
            }
        }
        guard let kavenegar else { throw fail("\(at).kavenegar", "missing: the Kavenegar template name") }
        guard let tokens else { throw fail("\(at).tokens", "missing: the tokens the template takes") }
        if let ippanel, let unknown = ippanel.parameters.first(where: { tokens[$0.value] == nil }) {
            throw fail("\(at).ippanel.params.\(unknown.key)", "maps to \(unknown.value), which is not one of this template's tokens")
        }
        return SMSTemplate(name: name, kavenegar: kavenegar, tokens: tokens, ippanel: ippanel, withoutLinks: withoutLinks)
    }

    private static func pattern(_ node: Node, at: String, fail: (String?, String) -> ConfigurationError) throws(ConfigurationError) -> SMSTemplate.IPPanelPattern {
        guard let mapping = node.mapping else { throw fail(at, "expected a mapping with pattern and params") }
        var code: String?
        var parameters: [String: String] = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? "?"
            switch key {
            case "pattern":
                guard let text = value.string, !text.isEmpty else { throw fail("\(at).pattern", "expected the IPPanel pattern code") }
                code = text
            case "params":
                guard let map = value.mapping else { throw fail("\(at).params", "expected a mapping of pattern placeholder → Kavenegar token") }
                for (placeholder, token) in map {
                    guard let name = placeholder.string, !name.isEmpty, let token = token.string, !token.isEmpty else {
                        throw fail("\(at).params", "expected placeholder: token pairs")
                    }
                    parameters[name] = token
                }
            default:
                throw fail("\(at).\(key)", "unknown key (ippanel has pattern and params)")
            }
        }
        guard let code else { throw fail("\(at).pattern", "missing: the IPPanel pattern code") }
        return SMSTemplate.IPPanelPattern(code: code, parameters: parameters)
    }
}
