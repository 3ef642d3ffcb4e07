/// The old name of the engine's enqueue script, kept only while `FunctionLibrary` still calls it so. Every engine
/// script lives in `Store/Lua/` and is run by ``JobStore``; new code names ``JobStore/enqueueScript``.
enum QueueScripts {
    static let enqueue = JobStore.enqueueScript
}
