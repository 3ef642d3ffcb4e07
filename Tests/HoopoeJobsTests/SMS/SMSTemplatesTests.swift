import Foundation
import HoopoeJobs
import TestSupport
import Testing

/// The templates file: the shipped one maps each logical template as issue 6 asks; a broken one stops start-up
/// naming the file and the key.
@Suite struct SMSTemplatesTests {
    let shipped = BuiltProducts.projectRoot.appendingPathComponent("jobs/sms_templates.yaml").path

    @Test func shippedFileDefinesTheThreeTemplatesAndTheLinkFreeReminder() throws {
        let templates = try SMSTemplates.load(path: shipped)
        #expect(Set(templates.templates.keys) == ["expiration_reminder", "expiration_reminder_nolink", "low_credit", "gift_reminder"])
        #expect(templates["expiration_reminder"]?.withoutLinks == "expiration_reminder_nolink")
        #expect(Set(templates["expiration_reminder_nolink"]?.tokens.keys ?? [:].keys) == ["token10", "token", "token2"])
        let expiration = try #require(templates["expiration_reminder"])
        #expect(expiration.kavenegar == "expiration-reminder")
        #expect(Set(expiration.tokens.keys) == ["token10", "token", "token2", "token3"])
        #expect(expiration.ippanel?.values(from: ["token10": "Sara", "token": "3", "token2": "1403/10/12", "token3": "L"])
            == ["name": "Sara", "days": "3", "date": "1403/10/12", "link": "L"])
        let low = try #require(templates["low_credit"])
        #expect(low.kavenegar == "low-credit")
        #expect(Set(low.tokens.keys) == ["token10", "token", "token2"])
        let gift = try #require(templates["gift_reminder"])
        #expect(gift.kavenegar == "gift-reminder")
        #expect(Set(gift.tokens.keys) == ["token", "token20"])
        #expect(gift.ippanel?.parameters == ["hours": "token", "service": "token20"])
    }

    /// Every scalar is read as the text written: names and pattern codes that YAML would type as a boolean, a
    /// number, a date or null (`yes`, `0012`, `2024-01-01`, `~`) keep their exact spelling.
    @Test func scalarsAreTheTextWritten() throws {
        let yaml = "templates:\n  yes:\n    kavenegar: 0012\n    tokens: {token: ~}\n    ippanel: {pattern: 2024-01-01, params: {on: token}}\n"
        let template = try #require(try SMSTemplates.parse(yaml, file: "f.yaml")["yes"])
        #expect(template.kavenegar == "0012")
        #expect(template.tokens == ["token": "~"])
        #expect(template.ippanel?.code == "2024-01-01")
        #expect(template.ippanel?.parameters == ["on": "token"])
    }

    @Test(arguments: [
        ("templates:\n  a:\n    kavenegr: x\n    tokens: {token: t}\n", "f.yaml: templates.a.kavenegr"),
        ("templates:\n  a:\n    tokens: {token: t}\n", "f.yaml: templates.a.kavenegar"),
        ("templates:\n  a:\n    kavenegar: x\n    tokens: {token5: t}\n", "f.yaml: templates.a.tokens.token5"),
        ("templates:\n  a:\n    kavenegar: x\n    tokens: {token: t}\n    ippanel: {pattern: p, params: {n: token2}}\n", "f.yaml: templates.a.ippanel.params.n"),
        ("templates:\n  a:\n    kavenegar: x\n    tokens: {token: t}\n    ippanel: {pattern: p, parms: {}}\n", "f.yaml: templates.a.ippanel.parms"),
        ("template:\n  a: {}\n", "f.yaml: template"),
        ("templates: [\n", "f.yaml"),
    ])
    func brokenFileNamesFileAndKey(yaml: String, key: String) {
        #expect {
            _ = try SMSTemplates.parse(yaml, file: "f.yaml")
        } throws: { error in
            (error as? ConfigurationError)?.key == key
        }
    }

    /// Hoopoe's own jobs send three templates with set tokens: a file the worker loads without one, or with other
    /// tokens, stops start-up naming the key. It was accepted, and every such reminder died at send time.
    @Test(arguments: [
        ("gift_reminder", nil, "f.yaml: templates.gift_reminder"),
        ("low_credit", "    tokens:\n      token10: n\n      token: balance\n      token2: threshold\n      token3: extra\n", "f.yaml: templates.low_credit.tokens"),
        ("expiration_reminder", "    tokens:\n      token10: n\n      token: d\n      token2: e\n      token3: l\n      token20: extra\n", "f.yaml: templates.expiration_reminder.tokens"),
    ])
    func aBuiltInTemplateMissingOrWithOtherTokensStopsStartUp(name: String, tokens: String?, key: String) throws {
        let shippedText = try String(contentsOfFile: shipped, encoding: .utf8)
        // The shipped file, with `name`'s entry removed or its tokens replaced.
        var lines: [String] = []
        var inTemplate = false, inTokens = false
        for line in shippedText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("  ") && !line.hasPrefix("   ") { inTemplate = line == "  \(name):"; inTokens = false }
            if inTemplate && tokens == nil { continue }
            if inTemplate && line == "    tokens:" { inTokens = true; lines.append(contentsOf: tokens!.split(separator: "\n").map(String.init)); continue }
            if inTokens && line.hasPrefix("      ") { continue }
            inTokens = false
            lines.append(line)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("f.yaml-\(UUID().uuidString)")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: Never.self) { try SMSTemplates.parse(shippedText, file: "f.yaml", requiringBuiltIn: true) }
        do {
            _ = try SMSTemplates.load(path: file.path)
            Issue.record("accepted without \(name)'s tokens")
        } catch {
            #expect(error.key == key.replacingOccurrences(of: "f.yaml", with: file.path), "\(error.key): \(error.message)")
        }
    }

    @Test func missingFileNamesIt() {
        let env = EnvironmentReader(["SMS_TEMPLATES_FILE": "/nonexistent/sms_templates.yaml"])
        #expect {
            _ = try DomainSettings(environment: env)
        } throws: { error in
            (error as? ConfigurationError)?.key == "/nonexistent/sms_templates.yaml"
        }
    }

    @Test func settingsDefaultsAndBadValuesNameTheirVariable() throws {
        let settings = try SMSSettings(environment: EnvironmentReader(["SMS_TEMPLATES_FILE": shipped]))
        #expect(settings.providers == [.kavenegar, .ippanel])
        #expect(settings.quietHours == .default)
        let quietOff = try SMSSettings(environment: EnvironmentReader(["SMS_TEMPLATES_FILE": shipped, "SMS_QUIET_HOURS": "off"]))
        let lateEvening = Date(timeIntervalSince1970: 1_733_083_200)  // 2024-12-01 23:30 Tehran
        #expect(settings.quietHours.contains(lateEvening, in: .tehran) && !quietOff.quietHours.contains(lateEvening, in: .tehran))
        #expect(settings.dailyCap == 5)
        #expect(settings.creditFloor == 100_000)
        let ordered = try SMSSettings(environment: EnvironmentReader(["SMS_TEMPLATES_FILE": shipped, "SMS_PROVIDERS": "ippanel, kavenegar"]))
        #expect(ordered.providers == [.ippanel, .kavenegar])
        for (variable, value) in [("SMS_PROVIDERS", "kavenegar,twilio"), ("SMS_QUIET_HOURS", "22"), ("SMS_QUIET_HOURS", "22:30-07:30"), ("SMS_DAILY_CAP", "-1"),
                                  ("KAVENEGAR_CREDIT_FLOOR", "lots"), ("SMS_CREDIT_CHECK_MINUTES", "x"),
                                  ("SMS_UNKNOWN_OUTCOME_RETRY_SECONDS", "-5"), ("SMS_UNKNOWN_OUTCOME_RETRY_SECONDS", "1e300")] {
            #expect {
                _ = try SMSSettings(environment: EnvironmentReader(["SMS_TEMPLATES_FILE": shipped, variable: value]))
            } throws: { error in
                (error as? ConfigurationError)?.key == variable
            }
        }
    }

    /// The worker refuses to start with a broken templates file: exit 78, the file and key in its message.
    @Test func workerExits78OnABrokenTemplatesFile() async throws {
        // The UUID without its last group: those 12 hex digits may be a run of 10 digits starting with 0 or 9, which
        // every log line masks as a phone number (`PhoneNumberMask`), path or not (this test failed so once, session 36).
        let unique = UUID().uuidString.prefix(23)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sms-templates-\(unique).yaml").path
        try "templates:\n  low_credit:\n    kavenegar: low-credit\n    tokenz: {token: x}\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let harness = try await DomainHarness()
        let process = try ChildProcess(BuiltProducts.hoopoe, ["worker"], environment: try harness.baseEnvironment.merging(["SMS_TEMPLATES_FILE": path]) { $1 })
        let status = await process.wait(timeout: .seconds(30))
        #expect(status == 78, "\(process.output)")
        #expect(process.output.contains("\(path): templates.low_credit.tokenz"), "\(process.output)")
    }
}

@Suite struct SMSPayloadCheckTests {
    let templates = try! SMSTemplates.load(path: BuiltProducts.projectRoot.appendingPathComponent("jobs/sms_templates.yaml").path)

    func payload(phone: String = "09121234567", template: String = "gift_reminder", tokens: [String: String]) -> SMSSendPayload {
        SMSSendPayload(messageID: "m1", phone: phone, template: template, tokens: tokens)
    }

    @Test func acceptsGoodPayloadsAndNormalizesThePhone() throws {
        // Persian and Arabic-Indic digits, as a Persian keyboard types them into a form, too.
        for phone in ["09121234567", "+989121234567", "00989121234567", "989121234567", "9121234567", "۰۹۱۲۱۲۳۴۵۶۷", "+۹۸۹۱۲۱۲۳۴۵۶۷", "٠٩١٢١٢٣٤٥٦٧"] {
            let checked = try SMSPayloadCheck.check(payload(phone: phone, tokens: ["token": "12", "token20": "Instagram followers"]), templates: templates).get()
            #expect(checked.nationalPhone == "09121234567")
            #expect(checked.internationalPhone == "+989121234567")
        }
    }

    @Test(arguments: [
        (["token": "1 2", "token20": "x"], "token has 1 space(s)"),
        (["token": "12", "token20": "a b c d e f g h i j"], "token20 has 9 space(s)"),
        (["token": "12"], "token20 (service name) is missing"),
        (["token": "12", "token20": "x", "token2": "y"], "token token2 is not used"),
        (["token": "a_b", "token20": "x"], "underscore"),
        (["token": "a\nb", "token20": "x"], "newline"),
        (["token": "a,b", "token20": "x"], "separator"),
        (["token": String(repeating: "9", count: 101), "token20": "x"], "longer than 100"),
        (["token": "", "token20": "x"], "token is empty"),
    ])
    func refusesBadTokensWithTheReason(tokens: [String: String], reason: String) {
        guard case .failure(let problem) = SMSPayloadCheck.check(payload(tokens: tokens), templates: templates) else {
            Issue.record("accepted \(tokens)")
            return
        }
        #expect(problem.message.contains(reason), "\(problem.message)")
    }

    @Test func refusesUnknownTemplatesAndNonMobilePhonesWithoutShowingTheNumber() {
        guard case .failure(let unknown) = SMSPayloadCheck.check(payload(template: "welcome", tokens: ["token": "1"]), templates: templates) else {
            Issue.record("accepted an unknown template")
            return
        }
        #expect(unknown.message.contains("unknown template welcome"))
        guard case .failure(let landline) = SMSPayloadCheck.check(payload(phone: "02188776655", tokens: ["token": "1", "token20": "x"]), templates: templates) else {
            Issue.record("accepted a landline")
            return
        }
        #expect(!landline.message.contains("02188776655"))
    }

    /// Every sample in jobs/samples decodes with the handler's payload type and passes the payload check.
    @Test func samplesDecodeWithThePayloadTypes() throws {
        let root = BuiltProducts.projectRoot.appendingPathComponent("jobs/samples")
        let send = try JSONDecoder().decode(SMSSendPayload.self, from: Data(contentsOf: root.appendingPathComponent("sms.send.json")))
        #expect(throws: Never.self) { try SMSPayloadCheck.check(send, templates: templates).get() }
        let poll = try JSONDecoder().decode(SMSDeliveryPollJob.Payload.self, from: Data(contentsOf: root.appendingPathComponent("sms.delivery_poll.json")))
        #expect(poll.tick == 1_735_689_600)
        // The scheduler's tick with extra keys is accepted.
        _ = try JSONDecoder().decode(SMSDeliveryPollJob.Payload.self, from: Data(#"{"tick": 1, "task": "sms-poll"}"#.utf8))
        _ = try JSONDecoder().decode(SMSDeliveryPollJob.Payload.self, from: Data("{}".utf8))
    }
}
