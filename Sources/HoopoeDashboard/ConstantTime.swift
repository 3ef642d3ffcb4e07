/// Comparison whose time does not depend on where two secrets first differ.
enum ConstantTime {
    /// True when `a` and `b` are the same bytes. Every byte of the longer input is looked at whatever the
    /// inputs are, so the time tells an attacker the length at most, never how much of a guess was right.
    static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let left = Array(a)
        let right = Array(b)
        var difference = UInt8(truncatingIfNeeded: left.count ^ right.count)
        if left.count != right.count { difference |= 1 }
        let length = max(left.count, right.count)
        for index in 0..<length {
            let x = index < left.count ? left[index] : 0
            let y = index < right.count ? right[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
