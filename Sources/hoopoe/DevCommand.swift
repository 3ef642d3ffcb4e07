import ArgumentParser
import Foundation
import Logging
import ProviderFakes

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
            Prints the base URLs to put in KAVENEGAR_BASE_URL, IPPANEL_BASE_URL and BREVO_BASE_URL. The fakes accept \
            the API keys printed with them and answer with the providers' own error codes for bad input.
            """
    )

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port: Int = 8787

    func run() async throws {
        LogSetup.bootstrap()
        // The Kavenegar templates jobs/sms_templates.yaml names, so the domain jobs' SMS go through under `make run`.
        let options = FakeProvidersOptions(kavenegarTemplates: ["verify", "expiration-reminder", "low-credit", "gift-reminder"])
        let fakes = try await FakeProviders.start(host: host, port: port, options: options, logger: LogSetup.logger("hoopoe.fake-providers"))
        let lines = [
            "KAVENEGAR_BASE_URL=\(fakes.kavenegarBaseURL)", "IPPANEL_BASE_URL=\(fakes.ippanelBaseURL)", "BREVO_BASE_URL=\(fakes.brevoBaseURL)",
            "KAVENEGAR_API_KEY=\(options.kavenegarAPIKey)", "IPPANEL_API_KEY=\(options.ippanelAPIKey)", "BREVO_API_KEY=\(options.brevoAPIKey)",
        ]
        // Written at once and unbuffered, so a script reading the pipe sees the URLs before the server blocks.
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        await fakes.wait()
    }
}
