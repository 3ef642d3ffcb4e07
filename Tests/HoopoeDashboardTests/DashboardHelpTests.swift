import Foundation
import TestSupport
import Testing

@testable import HoopoeDashboard

/// `hoopoe dashboard --help` names every page of the navigation bar, so a page added to the bar is added to the help.
@Suite struct DashboardHelpTests {
    @Test func theHelpNamesEveryPageOfTheNavigation() async throws {
        let process = try ChildProcess(BuiltProducts.hoopoe, ["dashboard", "--help"])
        #expect(await process.wait(timeout: .seconds(20)) == 0, "\(process.output)")
        let help = process.output.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for (_, label) in Page.navigation {
            #expect(help.contains(label.lowercased()), "\(label) is not in the help: \(process.output)")
        }
    }
}
