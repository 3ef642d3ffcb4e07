import HoopoeJSON

/// Kavenegar's return codes with the messages the service sends for them (seed 002, Table 1), and the error body
/// byte for byte.
///
/// A client under test must cope with the service's own text and its own key order, not a tidy test double's, so the
/// fake writes the error envelope by hand: `{"return":{"status":N,"message":"…"},"entries":null}` — `return` first,
/// `entries` null (the seed's `{ null }` is not JSON; the service sends `null`), the code mirrored into the HTTP status.
enum FakeKavenegarCodes {
    /// Table 1's message for a code; a neutral text for codes the table does not list.
    static func message(_ code: Int) -> String {
        switch code {
        case 200: "تایید شد"
        case 400: "پارامترها ناقص هستند"
        case 401: "حساب کاربری غیرفعال شده است"
        case 402: "عملیات ناموفق بود"
        case 403: "کد شناسائی API-Key معتبر نمیباشد"
        case 404: "متد نامشخص است"
        case 405: "متد Get/Post اشتباه است"
        case 406: "پارامترهای اجباری خالی ارسال شده اند"
        case 407: "دسترسی به اطلاعات مورد نظر برای شما امکان پذیر نیست"
        case 409: "سرور قادر به پاسخگوئی نیست بعدا تلاش کنید"
        case 411: "دریافت کننده نامعتبر است"
        case 412: "ارسال کننده نامعتبر است"
        case 413: "پیام خالی است و یا طول پیام بیش از حد مجاز میباشد. حداکثر طول کل متن پیامک 900 کاراکتر می باشد"
        case 414: "حجم درخواست بیشتر از حد مجاز است"
        case 415: "اندیس شروع بزرگ تر از کل تعداد شماره های مورد نظر است"
        case 416: "IP سرویس مبدا با تنظیمات مطابقت ندارد"
        case 417: "تاریخ ارسال اشتباه است و فرمت آن صحیح نمی باشد."
        case 418: "اعتبار شما کافی نمیباشد"
        case 419: "طول آرایه متن و گیرنده و فرستنده هم اندازه نیست"
        case 420: "استفاده از لینک در متن پیام برای شما محدود شده است"
        case 422: "داده ها به دلیل وجود کاراکتر نامناسب قابل پردازش نیست"
        case 424: "الگوی مورد نظر پیدا نشد"
        case 426: "استفاده از این متد نیازمند سرویس پیشرفته میباشد"
        case 427: "استفاده از این خط نیازمند ایجاد سطح دسترسی می باشد"
        case 428: "ارسال کد از طریق تماس تلفنی امکان پذیر نیست"
        case 429: "IP محدود شده است"
        case 431: "ساختار کد صحیح نمیباشد"
        case 432: "پارامتر کد در متن پیام پیدا نشد"
        case 451: "فراخوانی بیش از حد در بازه زمانی مشخص IP محدود شده"
        case 501: "فقط امکان ارسال پیام تست به شماره صاحب حساب کاربری وجود دارد"
        case 607: "نام تگ انتخابی اشتباه است."  // the endpoints' own tables, not Table 1
        default: "خطا"
        }
    }

    /// The error envelope exactly as Kavenegar writes it, with the code as the HTTP status.
    static func errorReply(code: Int, message: String? = nil) -> FakeReply {
        let text = JSONValue.string(message ?? Self.message(code)).encoded()
        let body = Array("{\"return\":{\"status\":\(code),\"message\":".utf8) + text + Array("},\"entries\":null}".utf8)
        return FakeReply(status: code, headers: [FakeHeader("Content-Type", "application/json")], body: body)
    }
}
