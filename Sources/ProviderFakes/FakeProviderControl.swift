import Providers

/// The state of all three fakes, and the handle tests use to program them and read what they received.
///
/// Every request is recorded before it is answered. A fault queued for an endpoint applies to the next call to it
/// and is then consumed, so "fail the next call with 418" is `enqueue(.kavenegar(code: 418), for: .kavenegarLookup)`.
public actor FakeProviderControl {
    private var kavenegar: FakeKavenegarState
    private var ippanel: FakeIPPanelState
    var brevo: FakeBrevoState  // internal: the Brevo controls live in FakeProviderControl+Brevo.swift
    private var faults: [FakeEndpoint: [FakeFault]] = [:]
    private var recorded: [RecordedRequest] = []

    private let options: FakeProvidersOptions

    init(options: FakeProvidersOptions) {
        self.options = options
        kavenegar = FakeKavenegarState(
            apiKey: options.kavenegarAPIKey, templates: options.kavenegarTemplates, credit: options.kavenegarCredit)
        ippanel = FakeIPPanelState(apiKey: options.ippanelAPIKey)
        brevo = FakeBrevoState(apiKey: options.brevoAPIKey)
    }

    /// Back to the start: the accounts as the options describe them, no queued faults, no recorded requests.
    public func reset() {
        kavenegar = FakeKavenegarState(
            apiKey: options.kavenegarAPIKey, templates: options.kavenegarTemplates, credit: options.kavenegarCredit)
        ippanel = FakeIPPanelState(apiKey: options.ippanelAPIKey)
        brevo = FakeBrevoState(apiKey: options.brevoAPIKey)
        faults.removeAll()
        recorded.removeAll()
    }

    /// How many queued faults are still waiting, per endpoint.
    public func pendingFaults() -> [FakeEndpoint: Int] { faults.filter { !$0.value.isEmpty }.mapValues(\.count) }

    /// Drops every queued fault.
    public func clearFaults() { faults.removeAll() }

    // MARK: Faults and recording

    /// Queues a fault for the next call to `endpoint` (faults for one endpoint apply in order).
    public func enqueue(_ fault: FakeFault, for endpoint: FakeEndpoint) {
        faults[endpoint, default: []].append(fault)
    }

    /// Every request received so far, oldest first.
    public func requests() -> [RecordedRequest] { recorded }

    /// The requests received for one endpoint.
    public func requests(to endpoint: FakeEndpoint) -> [RecordedRequest] { recorded.filter { $0.endpoint == endpoint } }

    /// Forgets the recorded requests.
    public func clearRequests() { recorded.removeAll() }

    // MARK: Kavenegar

    /// Sets the remaining credit (Rial); below 120 sends fail with `418`.
    public func setKavenegarCredit(_ credit: Int64) { kavenegar.credit = credit }
    /// The remaining credit.
    public func kavenegarCredit() -> Int64 { kavenegar.credit }
    /// Defines (or removes) a template.
    public func setKavenegarTemplate(_ name: String, defined: Bool) {
        if defined { kavenegar.templates.insert(name) } else { kavenegar.templates.remove(name) }
    }
    /// Table 2 statuses new messages go through: the send reports the first, each `sms/status` read the next.
    public func setKavenegarLifecycle(_ statuses: [Int]) { kavenegar.lifecycle = statuses }
    /// Pins one message's status.
    public func setKavenegarStatus(messageID: Int64, status: Int) {
        kavenegar.messages[messageID]?.lifecycle = [status]
        kavenegar.messages[messageID]?.step = 0
    }
    /// Switches the account's link restriction: on, a link in a message or token is refused with `420`.
    public func setKavenegarLinksRestricted(_ restricted: Bool) { kavenegar.linksRestricted = restricted }
    /// Adds a dedicated line (short form, e.g. `30004505`); a `sender` outside the account's lines is `412`.
    public func addKavenegarLine(_ line: String) { kavenegar.lines.insert(FakeKavenegarState.shortLine(line)) }
    /// How many messages the fake Kavenegar has actually accepted (a `localid` repeat does not count).
    public func kavenegarMessageCount() -> Int { kavenegar.messages.count }

    // MARK: IPPanel

    /// `state_id`s new bulks go through, and the `message_status`es recipients go through once the bulk is final
    /// (one step per report read).
    public func setIPPanelLifecycle(bulkStates: [Int], recipientStatuses: [String]) {
        ippanel.bulkStates = bulkStates
        ippanel.recipientStatuses = recipientStatuses
    }
    /// Sets the credit `payment/credit/mine` reports.
    public func setIPPanelCredit(_ credit: Double) { ippanel.credit = credit }
    /// How many bulks the fake IPPanel has accepted.
    public func ippanelBulkCount() -> Int { ippanel.bulks.count }

    // MARK: Brevo

    /// Sets the reseller's credit pools; add-credits beyond them fails with `402 not_enough_credits`.
    public func setBrevoResellerCredits(sms: Double, email: Double) {
        brevo.resellerSMS = sms
        brevo.resellerEmail = email
    }
    /// How many `accountCreationStatus` reads answer false for each new child.
    public func setBrevoCreationPolls(_ count: Int) { brevo.creationPolls = count }
    /// Sets the rate-limit window: `remaining` more requests, then 429 until `reset` (seconds, as reported).
    public func setBrevoRateLimit(limit: Int, remaining: Int, reset: Int) {
        brevo.rateLimit = limit
        brevo.rateRemaining = remaining
        brevo.rateReset = reset
    }
    /// Emails of the children that exist.
    public func brevoChildEmails() -> [String] { brevo.children.map(\.email) }
    /// A child's credits (sms, email), by id.
    public func brevoChildCredits(id: Int64) -> (sms: Int64, email: Int64)? {
        brevo.children.first { $0.id == id }.map { ($0.smsCredits, $0.emailCredits) }
    }

    // MARK: Serving

    func record(_ request: RecordedRequest) -> FakeFault? {
        recorded.append(request)
        guard var queue = faults[request.endpoint], !queue.isEmpty else { return nil }
        let fault = queue.removeFirst()
        faults[request.endpoint] = queue
        return fault
    }

    func handle(_ request: RecordedRequest) -> FakeReply {
        switch request.endpoint {
        case .kavenegarLookup, .kavenegarSend, .kavenegarStatus, .kavenegarAccountInfo, .kavenegarSelectOutbox, .kavenegarLatestOutbox,
            .kavenegarOther:
            kavenegar.handle(request)
        case .ippanelSend, .ippanelRecipients, .ippanelByBulk, .ippanelNewList, .ippanelBulkStats, .ippanelCredit, .ippanelOther:
            ippanel.handle(request)
        case .brevoCreateChild, .brevoListChildren, .brevoGetChild, .brevoCreationStatus, .brevoAddCredits,
            .brevoAssociateIP, .brevoSendEmail, .brevoEmailEvents, .brevoOther:
            brevo.handle(request)
        case .unknown:
            .text(404, "not found")
        }
    }
}
