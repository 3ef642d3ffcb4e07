import Foundation

/// The state line of a background action's progress page (a dead set's "retry all", a queue's clear): stopped with
/// why, finished in how long, or running since when. One wording for both pages, and one class the tests and the
/// browser look for (`bulk-state running|finished|failed`).
enum BulkState {
    static func html(startedAt: Date, finishedAt: Date?, failure: String?) -> HTML {
        if let failure {
            "<strong class=\"bulk-state failed\">stopped</strong>: \(failure)"
        } else if let finishedAt {
            "<strong class=\"bulk-state finished\">finished</strong> in \(Clock.span(finishedAt.timeIntervalSince(startedAt)))"
        } else {
            "<strong class=\"bulk-state running\">running</strong> since \(Clock.relative(startedAt.timeIntervalSince1970)) (this page reloads each second)"
        }
    }
}
