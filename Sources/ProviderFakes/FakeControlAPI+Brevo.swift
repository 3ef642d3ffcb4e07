import HoopoeJSON

/// `POST /_control/brevo`: the fake Brevo's account as a black-box test programs it. Every field is optional; the
/// answer is the account afterwards, so `{}` reads it.
///
/// | field | sets |
/// | --- | --- |
/// | `reseller_credits` `{sms, email}` | the reseller's pools (add-credits beyond them: `402 not_enough_credits`) |
/// | `creation_polls` | how many `accountCreationStatus` reads answer false for each new child |
/// | `rate_limit` `{limit, remaining, reset}` | the reseller routes' window (`remaining: 0`: the next call is a 429) |
/// | `email_rate_limit` `{limit, remaining, reset}` | the transactional email routes' own window |
/// | `email_templates` `[first, last]` | the active template ids (a `templateId` outside: `400 invalid_parameter`) |
/// | `child_credits` `{id, sms?, email?}` | one child's balance, as if its owner had spent some |
///
/// Answer: `children` (`id`, `email`, `sms_credits`, `email_credits`), `emails` (transactional emails accepted)
/// and `email_templates`.
extension FakeControlAPI {
    func brevo(_ json: JSONValue) async -> FakeReply {
        if let pools = json["reseller_credits"] {
            guard let sms = pools["sms"]?.doubleValue, let email = pools["email"]?.doubleValue else {
                return Self.problem(400, "`reseller_credits` takes sms and email")
            }
            await control.setBrevoResellerCredits(sms: sms, email: email)
        }
        if let polls = json["creation_polls"] {
            guard let count = polls.int64Value.flatMap({ Int(exactly: $0) }), count >= 0 else {
                return Self.problem(400, "`creation_polls` must be an integer ≥ 0")
            }
            await control.setBrevoCreationPolls(count)
        }
        for name in ["rate_limit", "email_rate_limit"] {
            guard let window = json[name] else { continue }
            guard let limit = window["limit"]?.int64Value.flatMap({ Int(exactly: $0) }),
                let remaining = window["remaining"]?.int64Value.flatMap({ Int(exactly: $0) }),
                let reset = window["reset"]?.int64Value.flatMap({ Int(exactly: $0) })
            else { return Self.problem(400, "`\(name)` takes limit, remaining and reset (integers)") }
            if name == "rate_limit" {
                await control.setBrevoRateLimit(limit: limit, remaining: remaining, reset: reset)
            } else {
                await control.setBrevoEmailRateLimit(limit: limit, remaining: remaining, reset: reset)
            }
        }
        if let templates = json["email_templates"] {
            guard let bounds = templates.arrayValue?.compactMap(\.int64Value), bounds.count == 2, bounds[0] <= bounds[1] else {
                return Self.problem(400, "`email_templates` takes [first, last] template ids")
            }
            await control.setBrevoEmailTemplates(bounds[0]...bounds[1])
        }
        if let credits = json["child_credits"] {
            guard let id = credits["id"]?.int64Value else { return Self.problem(400, "`child_credits` takes id, sms and/or email") }
            guard await control.setBrevoChildCredits(id: id, sms: credits["sms"]?.int64Value, email: credits["email"]?.int64Value) else {
                return Self.problem(404, "no Brevo child with id \(id)")
            }
        }
        let children = await control.brevoChildren().map { child -> JSONValue in
            ["id": .integer(child.id), "email": .string(child.email), "sms_credits": .integer(child.sms), "email_credits": .integer(child.emailCredits)]
        }
        let templates = await control.brevoEmailTemplates()
        return .json(200, [
            "children": .array(children), "emails": .integer(Int64(await control.brevoEmailCount())),
            "email_templates": [.integer(templates.lowerBound), .integer(templates.upperBound)],
        ])
    }
}
