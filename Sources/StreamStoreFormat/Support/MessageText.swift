/// User-supplied text (a topic, group or projection name, a path, a header value) as an error
/// message quotes it: whole when short, else its first ``Limits/maxQuotedCharacters``
/// characters and "…". Names are quoted before they are known to be valid, and an invalid one of
/// a megabyte must not make a megabyte-long message.
package func quoted(_ text: some StringProtocol) -> String {
    guard let cut = text.index(text.startIndex, offsetBy: Limits.maxQuotedCharacters, limitedBy: text.endIndex), cut < text.endIndex else {
        return String(text)
    }
    return String(text[..<cut]) + "…"
}
