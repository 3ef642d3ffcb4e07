/// The personal data every output masks: phone numbers (``PhoneNumberMask``), then email addresses
/// (``EmailAddressMask``). The one call each output path makes, so a kind of data added here reaches all of them.
public enum PersonalDataMask {
    /// `text` with its phone numbers and email addresses masked.
    public static func mask(_ text: String) -> String {
        EmailAddressMask.mask(PhoneNumberMask.mask(text))
    }
}
