import Foundation
import HoopoeJobs
import Redis
import Testing

/// Every setting of seconds takes decimal only (``DecimalNumber``), as the whole-number settings do. Before,
/// `SMS_UNKNOWN_OUTCOME_RETRY_SECONDS=0x10` and `REGISTRATION_STATUS_POLL_SECONDS=0x10` started the worker with 16 s
/// (`Double("0x10")` is 16), and `REDIS_URL=…?timeout=0x10` gave a 16 s reply timeout, while `SMS_DAILY_CAP=0x10`
/// stopped it with exit 78.
@Suite struct DecimalDurationSettingsTests {
    static let notDecimal = ["0x10", "0X10", "0x1p4", "1e3", "1E3", "+5", "-0", "inf", "nan", ".5", "5.", "1.2.3", "1_000", "٣", "1 5"]

    @Test(arguments: notDecimal)
    func aSecondsSettingRefusesWhatIsNotDecimal(text: String) {
        for key in ["SMS_UNKNOWN_OUTCOME_RETRY_SECONDS", "REGISTRATION_STATUS_POLL_SECONDS"] {
            #expect {
                _ = try DomainSettings(environment: EnvironmentReader([key: text]))
            } throws: { error in
                let error = error as? ConfigurationError
                return error?.key == key && error?.message.contains("decimal") == true
            }
        }
    }

    @Test func decimalSecondsAreTaken() throws {
        let reader = EnvironmentReader(["A": "90", "B": "1.5", "C": "0", "D": "007", "E": " 2.25 "])
        #expect(try reader.seconds("A", default: 1) == 90)
        #expect(try reader.seconds("B", default: 1) == 1.5)
        #expect(try reader.seconds("C", default: 1) == 0)
        #expect(try reader.seconds("D", default: 1) == 7)
        #expect(try reader.seconds("E", default: 1) == 2.25, "the spaces around a value are dropped, as for every setting")
        let settings = try DomainSettings(environment: EnvironmentReader(["SMS_UNKNOWN_OUTCOME_RETRY_SECONDS": "16", "REGISTRATION_STATUS_POLL_SECONDS": "0.5"]))
        #expect(settings.sms.unknownOutcomeRetry == 16)
        #expect(settings.registration.statusPollInterval == 0.5)
    }

    /// The Redis URL's `timeout=` (README: `?timeout=SECONDS`) reads its value with the same parser.
    @Test(arguments: notDecimal)
    func theRedisURLsTimeoutRefusesWhatIsNotDecimal(text: String) {
        let query = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ".-_"))) ?? text
        #expect {
            try RedisConfiguration(url: "redis://h/0?timeout=\(query)")
        } throws: { error in
            (error as? RedisError)?.code == .invalidURL
        }
    }

    @Test func theRedisURLsDecimalTimeoutIsTaken() throws {
        #expect(try RedisConfiguration(url: "redis://h/0?timeout=16").commandTimeout == .seconds(16))
        #expect(try RedisConfiguration(url: "redis://h/0?timeout=1.5").commandTimeout == .milliseconds(1500))
    }
}
