import Foundation
import HTTPTypes
import HoopoeDashboard
import TestSupport
import Testing

/// Bidirectional embeddings, overrides and isolates from Redis (a type holding U+202E, sent by a plain `XADD`) reached
/// the pages as they were and reordered what followed them: the dead page's type cell, the job page's `<title>`. They
/// are shown as visible escapes, as the CLI shows them.
@Suite struct BidiControlsTests {
    static let controls: [Unicode.Scalar] = ["\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}", "\u{202E}", "\u{2066}", "\u{2067}", "\u{2068}", "\u{2069}"]

    @Test func escapingShowsEachBidiControlAsAnEscape() {
        for control in Self.controls {
            let text = "evil" + String(control) + "gpj.exe"
            let cell: HTML = "<td>\(text)</td>"
            #expect(!cell.markup.unicodeScalars.contains(control), "\(cell.markup)")
            #expect(cell.markup == "<td>evil\\u{\(String(control.value, radix: 16, uppercase: true))}gpj.exe</td>")
        }
        // Persian, its zero-width non-joiner and the direction marks are text, left as they are.
        let persian = "پیامک\u{200C}ها \u{200F}ارسال شد\u{200E}"
        #expect(HTML.escape(persian) == persian)
    }

    @Test func theDeadAndJobPagesShowAnOverriddenTypeAsEscapes() async throws {
        let harness = try DashboardHarness()
        let id = try await harness.bury(type: "report\u{202E}exe.txt", reason: "unknown type \u{2066}x\u{2069}")
        for uri in ["/dead", "/job?queue=default&id=\(id)"] {
            let page = try await harness.get(uri)
            #expect(page.status == .ok, "\(uri): \(page.text)")
            #expect(!page.text.unicodeScalars.contains { Self.controls.contains($0) }, "\(uri) holds a bidi control")
            #expect(page.text.contains("report\\u{202E}exe.txt"), "\(uri): \(page.text)")
        }
        // An id asked for in the URL, echoed by the page (its title, when found), is escaped too.
        let asked = try await harness.get("/job?queue=default&id=ab%E2%80%AEcd")
        #expect(!asked.text.unicodeScalars.contains("\u{202E}"), "\(asked.text)")
    }
}
