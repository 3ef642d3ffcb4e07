import ArgumentParser
import Foundation
import Logging
import ProviderFakes
import UnixSignals

/// `hoopoe dev`: tools for local development.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Tools for local development.",
        subcommands: [FakeProvidersCommand.self]
    )
}

/// `hoopoe dev fake-providers`: local Kavenegar, IPPanel and Brevo servers speaking their documented
/// protocols (codes, envelopes, the delivery-status lifecycle), so `make run` and manual tests exercise
/// the real HTTP path with no internet and no credit spent.
struct FakeProvidersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-providers",
        abstract: "Serve fake Kavenegar, IPPanel and Brevo APIs locally until interrupted.",
        discussion: """
            Prints the base URLs to put in KAVENEGAR_BASE_URL, IPPANEL_BASE_URL and BREVO_BASE_URL (and, with \
            --control, FAKE_CONTROL_URL). The fakes accept the API keys printed with them and answer with the \
            providers' own error codes for bad input, as strict as the providers' documents. SIGTERM or SIGINT stops \
            them cleanly (exit 0).

            --control also serves an HTTP control API under /_control, to loopback \
            callers only (--host must then be a loopback address). JSON in and out:
              GET    /_control/endpoints       names, e.g. "kavenegar verify/lookup"
              POST   /_control/faults          {"endpoint", "fault", "times"}
              GET    /_control/faults          faults still queued
              DELETE /_control/faults          drop queued faults
              GET    /_control/requests        recorded requests (?endpoint=NAME)
              DELETE /_control/requests        forget recorded requests
              POST   /_control/reset           fresh accounts, no faults, no requests
              POST   /_control/kavenegar       {"links_restricted", "credit",
                                                "lifecycle", "lines", "templates",
                                                "message_status": {messageid, status}}
              POST   /_control/ippanel         {"bulk_states", "recipient_statuses",
                                                "credit"}
              POST   /_control/brevo           {"reseller_credits": {sms, email},
                                                "creation_polls", "rate_limit",
                                                "email_rate_limit": {limit,
                                                remaining, reset},
                                                "email_templates": [first, last],
                                                "child_credits": {id, sms, email}}
                                                answers children, emails accepted
            A fault is one of:
              {"kind": "status", "status": 418}   the provider's own error
                                                  (IPPanel: "message_code";
                                                  Brevo: "code")
              {"kind": "reply", "status": 502, "body": "…", "headers": {…}}
              {"kind": "delay", "seconds": 2}     wait, then answer
              {"kind": "answer_late", "seconds": 4}
                                                  do the work, answer late
              {"kind": "drop"}                    do the work, close the
                                                  connection unanswered
              {"kind": "slow_body", "seconds": 1} the head at once, then the
                                                  body a byte a `seconds`
              {"kind": "oversized_body", "bytes": 5242880}
                                                  the body padded to `bytes`,
                                                  sent without a length
            "times": N queues it N times: the N+1th call succeeds.
            More: docs/fake-providers.md.
            """
    )

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port: Int = 8787

    @Flag(help: "Serve the HTTP control API under /_control (loopback only).")
    var control = false

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        if control && !["127.0.0.1", "localhost", "::1"].contains(host) && !host.hasPrefix("127.") {
            throw ValidationError("--control needs a loopback --host (127.0.0.1, ::1 or localhost): the control API reprograms the fakes")
        }
    }

    func run() async throws {
        try LogSetup.bootstrap()
        // The Kavenegar templates jobs/sms_templates.yaml names, so the domain jobs' SMS go through under `make run`.
        let options = FakeProvidersOptions(
            kavenegarTemplates: ["verify", "expiration-reminder", "expiration-reminder-nolink", "low-credit", "gift-reminder"])
        let fakes = try await FakeProviders.start(
            host: host, port: port, options: options, controlAPI: control, shutdownSignals: [.sigterm, .sigint],
            logger: LogSetup.logger("hoopoe.fake-providers"))
        var lines = [
            "KAVENEGAR_BASE_URL=\(fakes.kavenegarBaseURL)", "IPPANEL_BASE_URL=\(fakes.ippanelBaseURL)", "BREVO_BASE_URL=\(fakes.brevoBaseURL)",
            "KAVENEGAR_API_KEY=\(options.kavenegarAPIKey)", "IPPANEL_API_KEY=\(options.ippanelAPIKey)", "BREVO_API_KEY=\(options.brevoAPIKey)",
        ]
        if control { lines.append("FAKE_CONTROL_URL=\(fakes.controlURL)") }
        // Written at once and unbuffered, so a script reading the pipe sees the URLs before the server blocks.
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        await fakes.wait()
    }
}
