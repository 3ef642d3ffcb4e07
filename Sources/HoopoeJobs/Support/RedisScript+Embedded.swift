import Redis

extension RedisScript {
    /// A script from a `.lua` file beside its store, compiled into the binary (`resources: [.embedInCode(…)]` in
    /// Package.swift generates `PackageResources.<file>_lua`): one copy of every script, readable as Lua, and the
    /// file services `EVAL` themselves is that same file.
    init(name: String, embedded bytes: [UInt8]) {
        self.init(name: name, source: String(decoding: bytes, as: UTF8.self))
    }
}
