import HoopoeDashboard
import Testing

@Suite struct HTMLTests {
    @Test func interpolatedTextIsEscapedAndHTMLIsNot() {
        let payload = "<script>alert('x')</script> & \"quoted\""
        let cell: HTML = "<td>\(payload)</td>"
        #expect(cell.markup == "<td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;</td>")
        let row: HTML = "<tr>\(cell)</tr>"
        #expect(row.markup == "<tr>" + cell.markup + "</tr>")
    }

    @Test func attributeValuesCannotBeClosed() {
        let value = "\" onmouseover=\"alert(1)"
        let input: HTML = "<input value=\"\(value)\">"
        #expect(!input.markup.contains("\" onmouseover"))
    }
}
