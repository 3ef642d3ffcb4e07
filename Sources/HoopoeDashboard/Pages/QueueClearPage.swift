import Foundation
import HoopoeCore
import HTTPTypes
import Hummingbird

extension Dashboard {
    /// `/queues/clear?queue=Q`: what a clear of the queue would remove, and the form that starts it (a type to keep
    /// to, the scheduled jobs too), behind a confirmation. As `hoopoe queue clear` (decision 0092).
    func queueClearPage(_ query: FormFields) async throws -> Page {
        guard let queue = query["queue"], EnvelopeRules.queueProblem(queue) == nil, try await queueNames().contains(queue) else {
            return Page(title: "Clear a queue", path: "/queues", readOnly: configuration.readOnly, body: "<p>No such queue.</p><p><a href=\"/queues\">Queues</a></p>")
        }
        // Its keys refused (its stream key of another type): said, with no form; "Redis did not answer" was untrue.
        let reads = try await QueueReads.reading([queue]) { try await jobs.info(queue: $0) }
        guard let info = reads.values.first?.value else {
            return Page(
                title: "Clear \(queue)", path: "/queues", readOnly: configuration.readOnly,
                body: "\(Self.unreadableNotes(reads.unreadable))<p><a href=\"/queues\">Queues</a></p>")
        }
        let paused = try await jobs.pausedQueues()[queue] != nil
        let warning: HTML =
            paused
            ? "<p>The queue is paused: no worker fetches from it while it is cleared.</p>"
            : "<p class=\"warning not-paused\">The queue is not paused: its workers keep fetching (and running) its jobs while it is cleared. Pause it first on the <a href=\"/queues\">Queues</a> page.</p>"
        // The types this build runs, offered as the field is typed; another is taken only with its box ticked.
        let typeList: HTML =
            configuration.jobTypes.isEmpty
            ? "" : "<datalist id=\"job-types\">\(configuration.jobTypes.map { "<option value=\"\($0)\">" as HTML })</datalist>"
        let unknownTypeBox: HTML =
            configuration.jobTypes.isEmpty
            ? "" : "<label><input type=\"checkbox\" name=\"unknown_type\" value=\"1\"> a type this build does not run</label> "
        let form: HTML =
            configuration.readOnly
            ? "<p class=\"muted\">Read-only: no action.</p>"
            : """
                <form class="clear-queue" method="post" action="/queues/clear">\(csrf.field)<input type="hidden" name="queue" value="\(queue)">\
                <label>Only jobs of type <input name="type" list="job-types" placeholder="sms.send (empty: every type)"></label>\
                \(typeList) <label><input type="checkbox" name="scheduled" value="1"> also delayed jobs and retries</label> \
                \(unknownTypeBox)\
                <button class="danger" data-confirm="Remove the waiting jobs of \(queue)? They cannot be brought back.">Clear</button></form>
                """
        let body: HTML = """
            <p>Queue <strong>\(queue)</strong> holds <span class="ready-count">\(info.ready)</span> ready job(s), \
            <span class="scheduled-count">\(info.scheduled)</span> delayed or retrying, \(info.inFlight) held by workers.</p>
            \(warning)
            <p class="muted">A clear removes the jobs waiting when it starts, each as a cancel does (its unique lock released, a caller \
            waiting on <code>notify</code> told "cancelled"); jobs workers hold run on, dead jobs stay. Cleared jobs are not kept in \
            job history. <code>hoopoe queue clear</code> does the same.</p>
            \(form)
            """
        return Page(title: "Clear \(queue)", path: "/queues", readOnly: configuration.readOnly, body: body)
    }

    /// `POST /queues/clear` (queue, type, scheduled): starts the clear and shows its progress.
    func queueClearAction(_ form: FormFields) async throws -> Response {
        guard let queue = form["queue"], EnvelopeRules.queueProblem(queue) == nil else { return Page.plain(.badRequest, "a queue name is required\n") }
        guard try await queueNames().contains(queue) else { return Page.plain(.notFound, "no queue named \(queue)\n") }
        let type = form["type"]?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        if let type, let problem = EnvelopeRules.typeProblem(type) { return Page.plain(.badRequest, "type: job type \(problem)\n") }
        if let type, let refusal = unknownTypeRefusal(type, allowed: form["unknown_type"] != nil) { return Page.plain(.badRequest, refusal) }
        let scheduled = form["scheduled"] != nil
        let info = try await jobs.info(queue: queue)
        let (run, started) = await clearRuns.start(
            queue: queue, type: type, scheduled: scheduled, total: info.ready + (scheduled ? info.scheduled : 0), jobs: jobs)
        let location = "/queues/clear/progress" + QueryString.make([("run", String(run.id))])
        return started ? Page.see(location) : Page.after(location, notice: "A clear of \(queue) is already running: this is its progress.")
    }

    /// Why a clear of `type` is refused: a type this build does not run, not `allowed` (the form's box), said with the
    /// closest one it runs, as `hoopoe queue clear --type` says it. Nil when it is taken, or no types are known.
    func unknownTypeRefusal(_ type: String, allowed: Bool) -> String? {
        let types = configuration.jobTypes
        guard !allowed, !types.isEmpty, !types.contains(type) else { return nil }
        let hint = EditDistance.suggestion(for: type, among: types).map { "; did you mean \($0)?" } ?? ""
        return PersonalDataMask.mask(
            "type: unknown job type '\(PrintableText.oneLine(type))'\(hint) (known: \(types.joined(separator: ", "))); nothing was removed "
                + "(tick \"a type this build does not run\" to clear jobs of another build's type or a client's misspelt one)\n")
    }

    /// `/queues/clear/progress?run=N`: how far a clear has got; it reloads itself each second while it runs.
    func queueClearProgressPage(_ query: FormFields) async throws -> Page {
        guard let id = query["run"].flatMap(Int.init), let run = await clearRuns.progress(of: id) else {
            return Page(
                title: "Clear a queue", path: "/queues", readOnly: configuration.readOnly,
                body: "<p class=\"muted\">No such clear in this dashboard process (kept until it restarts, the last \(QueueClearRuns.kept) finished ones).</p><p><a href=\"/queues\">Queues</a></p>")
        }
        let now = run.current
        let what: HTML = "Clear the \(run.scheduled ? "ready, delayed and retrying" : "ready") jobs of \(run.queue)\(run.type.map { " of type \($0)" } ?? "")"
        let state = BulkState.html(startedAt: run.startedAt, finishedAt: now.finishedAt, failure: now.failure)
        let looked = now.result.cleared + now.result.fetched + now.result.otherTypes
        let body: HTML = """
            <p>\(what): \(state).</p>
            <progress value="\(min(looked, max(run.total, 1)))" max="\(max(run.total, 1))"></progress>
            <dl class="fields bulk-progress"><dt>Cleared</dt><dd class="done">\(now.result.cleared) of \(run.total) waiting when it started</dd>\
            <dt>Left to run</dt><dd class="fetched">\(now.result.fetched) (fetched by workers meanwhile)</dd>\
            <dt>Of other types</dt><dd class="other-types">\(now.result.otherTypes) (left)</dd></dl>
            <p><a href="/queues">Back to the queues</a></p>
            """
        var page = Page(title: "Clear \(run.queue)", path: "/queues", readOnly: configuration.readOnly, body: body)
        page.refreshSeconds = run.isRunning ? 1 : nil
        return page
    }
}

extension String {
    /// Nil for an empty string.
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
