import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One connection to Redis, with its own thread.
///
/// Reads block: the connection's own socket (TCP, Unix, or TLS over TCP — `Transport/`) is read with a timeout, and
/// hiredis's reader turns the bytes into replies. Blocking on Swift's cooperative pool (one thread per core) would
/// let two slow replies stall every task of the process, so each connection owns one plain OS thread and callers
/// hand it work through a queue, then `await` (decision 0001).
///
/// The queue is also what makes the client fast: the thread takes *everything* queued since it last wrote, writes
/// all of it in one `send`, then reads the replies in large chunks. Concurrent callers are pipelined into shared
/// round trips without asking for it (auto-pipelining), and an explicit pipeline is one request.
///
/// A caller that is alone — no other request outstanding now or in the last 10 ms — and finds the connection idle
/// (nothing queued or awaiting replies, a plain socket, the thread parked) writes its request itself, unless it may
/// block in Redis (a blocking read, `WAIT`: measured slower for the worker's fetch loop), without waiting
/// (a non-blocking `send`; what does not fit is left to the thread): waking the thread for it would cost a thread
/// switch a round trip. It then reads its reply itself, on its own thread, waiting at most ``readBudget`` (a `poll`
/// of 1 ms), and returns without suspending: one wake-up a round trip (the reply's), as `redis-benchmark -c 1`. A reply
/// that takes longer (a slow command, a loaded server, a large reply) is handed back to the connection's thread, which
/// reads it as it reads any request, and the caller suspends as before; so does a read that fails, and the thread
/// meets the failure itself (decision 0046). Concurrent callers never write: each burst goes to the thread, whose one
/// `send` takes all of it (decision 0039).
///
/// What is on the wire is kept in order (``inFlight``), and replies are read strictly in that order. The thread writes
/// queued requests behind a caller-written request still awaiting its reply as soon as they wake it (decision 0039) —
/// once its caller has let go of the read (decision 0046: what comes while a caller reads waits at most its
/// ``readBudget``) — but behind its own batch only once that batch's replies are read: requests that come during its round trip then
/// leave in one `send`, as a burst does (written at once, they went out nearly one a `send`: decision 0042). A request
/// behind one whose reply never comes (or whose connection fails) fails as lost: its connection is closed.
///
/// Before each batch the thread checks that an idle socket has nothing to read: Redis never speaks
/// unasked, so readable means the server closed it (a restart, `CLIENT KILL`, a timeout) — under TLS after
/// reading any session tickets, which a TLS 1.3 server sends unasked. The thread then reconnects first, so the
/// first command after a Redis restart succeeds instead of failing. The thread skips the check when it saw the socket
/// open a moment before (``socketSeenOpenAt``, at most ``seenOpenFor`` ago): it has just read the last batch's replies,
/// or it woke from a wait that watched the socket for its closing.
///
/// - Note: `@unchecked Sendable` is sound because the mutable state has exactly two owners:
///   `queue`, `isClosed`, `dropRequested`, `leaving`, `liveSocket`, `liveTarget`, `parked`, `watchingSocket`, `direct`,
///   `inFlight`, `writeBusy`, `callerReads`, `lastConcurrent`, `holdStart` and `directEncoder` are only touched while
///   holding `lock`
///   (`outstanding` is atomic); `stream`, `reader`, the buffers and `endpoint` only on this connection's own thread
///   (a caller writes to the socket through `direct` only while the thread is parked with nothing in flight, holding
///   `lock`; the thread writes only while `writeBusy` keeps callers out) — with one exception: while `callerReads` is
///   set, the lone caller that set it owns the connection's reads (the socket's reads, `reader` and `readBuffer`), and
///   the thread touches neither the stream nor the reader (it neither reads, writes, connects nor disconnects: it
///   parks on its pipe only, and the caller signals it when it lets go, under `lock`). No C pointer leaves the thread
///   that owns the reads: replies are copied into ``RedisReply`` values, or read in place by a request's decoder
///   (``send(_:decoding:)``), and their memory is taken back there.
public final class RedisConnection: @unchecked Sendable {
    /// Work for the thread: commands and who to tell.
    private struct Request {
        let commands: [RedisCommand]
        /// A `WAIT` to run after the commands, its reply added last; shared by every request of the batch that asks
        /// for the same one (``send(_:thenWait:)``).
        var wait: RedisCommand? = nil
        let completion: @Sendable (Result<[RedisReply], RedisError>) -> Void

        /// It may wait in Redis (a blocking read, `WAIT`): never written by its caller (decision 0039).
        var mayBlock: Bool {
            if let wait, wait.blockingSeconds > 0 { return true }
            for command in commands where command.blockingSeconds > 0 { return true }
            return false
        }
    }

    /// Requests on the wire, their replies not read yet: a batch the thread wrote, or one request its caller wrote.
    private struct InFlight {
        let requests: [Request]
        /// The `WAIT` written once after all of them (``send(_:thenWait:)``).
        let sharedWait: RedisCommand?
        /// How long its first reply may take, as a read timeout: the command timeout, plus what its blocking commands
        /// may wait.
        let window: Double
        /// When its first reply is overdue.
        let deadline: ContinuousClock.Instant
        /// What the socket did not take at once from its caller: the thread writes it before reading.
        var unsent: [UInt8] = []
    }

    /// What the thread does next.
    private enum Work {
        /// Write these (after the requests in flight, or first connecting when none are).
        case write([Request], dropped: Bool)
        /// Read the replies of the oldest requests in flight: they have begun to arrive (or the socket closed), or
        /// they have bytes still to write, or the thread has just been busy; `overdue`: parked, nothing came, and its
        /// deadline has passed.
        case read(InFlight, overdue: Bool)
        /// The idle socket became readable with nothing asked: the server closed it, or ``dropConnection()``
        /// shut it down.
        case idleSocketClosed
        /// Run these tasks' jobs (they prefer ``executor``).
        case run([UnownedJob])
    }

    /// Bytes asked of the socket per read: a large batch's replies arrive in few reads.
    private static let readChunk = 64 * 1024

    /// The server and its options.
    public let configuration: RedisConfiguration
    /// Where to connect, asked on the connection's thread before every (re)connect (Sentinel's current primary,
    /// a cluster node); by default the configuration's endpoint.
    private let address: @Sendable () throws(RedisError) -> RedisConfiguration.Endpoint
    private let lock = AdaptiveLock()
    private let wakeup = ThreadWakeup()
    private var queue: [Request] = []  // guarded by lock
    /// Jobs of tasks that prefer ``executor``, for the thread to run before it writes or parks.
    private var tasks: [UnownedJob] = []  // guarded by lock
    /// The thread has ended: jobs for ``executor`` go to the global executor.
    private var threadEnded = false  // guarded by lock
    private var isClosed = false  // guarded by lock
    private var dropRequested = false  // guarded by lock
    /// A reply read on the live socket refused a write as not the primary's (``refusesAsNotPrimary(_:)``): the next
    /// batch is written on a fresh connection, once the replies already on the wire are read. Cleared with the socket.
    private var leaving = false  // guarded by lock
    private var liveSocket: Int32 = -1  // guarded by lock: the socket dropConnection() shuts down
    private var liveTarget: RedisConfiguration.Endpoint?  // guarded by lock: where liveSocket is connected
    /// Sentinel mode: a fresh connection checks `ROLE` and leaves a node that is not the primary. (A node that refuses
    /// a write because it is not the primary, `READONLY` or `MASTERDOWN`, is left by every connection:
    /// ``refusesAsNotPrimary(_:)``, ``leaving``; the next batch asks ``address`` where the primary is now.)
    private let leavesARefusingNode: Bool
    /// The thread waits in ``ThreadWakeup/wait(socket:watch:timeout:)`` with nothing to do; whoever gives it work
    /// signals (once: the signaller clears it).
    private var parked = false  // guarded by lock
    /// The parked thread watches the socket (for replies, or for its closing while idle); false while it waits on its
    /// pipe only, as it does while a caller reads.
    private var watchingSocket = false  // guarded by lock
    /// A lone caller is reading its own reply (the head of `inFlight`, the only request in flight): it owns the
    /// connection's reads, and the thread leaves the stream and the reader alone until the caller clears it
    /// (decision 0046).
    private var callerReads = false  // guarded by lock
    /// When the current run of lone requests completed by their callers without suspending began; nil after one that
    /// suspended. A run is cut after ``holdLimit`` so other tasks get the caller's pool thread (decision 0046).
    private var holdStart: ContinuousClock.Instant?  // guarded by lock
    /// The live stream when callers may write to it themselves (plain socket, connected, authenticated).
    private var direct: RedisStream?  // guarded by lock
    /// What is on the wire, in the order it went there: the thread reads the replies in this order.
    private var inFlight: [InFlight] = []  // guarded by lock
    /// A caller's write did not finish (the last of `inFlight` has bytes left), or the thread is writing a batch:
    /// nobody else writes until the thread has written them.
    private var writeBusy = false  // guarded by lock
    /// Requests handed in and not yet answered: a caller finding none is alone (it waited for the previous reply).
    private let outstanding = Atomic<Int>(0)
    /// Whether each connect asks the server for this connection's `CLIENT ID` (``clientID``).
    private let learnsClientID: Bool
    /// The server's `CLIENT ID` of the live socket; -1 while disconnected or unknown.
    private let liveClientID = Atomic<Int>(-1)

    /// The server's `CLIENT ID` for this connection as it is now (a connection made with `learnsClientID`), for a
    /// `CLIENT UNBLOCK` of a read it blocks in; nil while it is not connected or the server would not say. Read when
    /// needed, not kept: a reconnect no caller saw fail (the server closed it while idle) changes it, and the old id
    /// woke nothing, or on a restarted server another client.
    public var clientID: Int? {
        let id = liveClientID.load(ordering: .relaxed)
        return id < 0 ? nil : id
    }
    /// The last time a request came while another was outstanding (callers then hand theirs to the thread).
    private var lastConcurrent = ContinuousClock.Instant.now - .seconds(3600)  // guarded by lock
    /// How long no two requests may have been outstanding together before a caller writes its own: one caller
    /// at a time (a task's sequential calls) saves a thread switch a round trip by writing, while concurrent callers
    /// hand their requests to the thread, which writes each burst in one `send` (decision 0039).
    private static let aloneFor = Duration.milliseconds(10)
    /// How long a lone caller waits for its own reply before it hands the request back to the thread and suspends.
    /// A loopback round trip here takes 25–80 µs and a Redis command a few µs, so a reply that has not come within
    /// 1 ms is late (a slow command, a large reply, a descheduled server) and may take much longer: the pool thread,
    /// one of one a core, must not wait for it (decision 0001). `poll`'s resolution is the millisecond (Glibc's Swift
    /// module has no `ppoll`).
    private static let readBudget = Duration.milliseconds(1)
    /// How long a run of lone requests may complete without suspending before one goes through the thread: a task
    /// that loops on lone requests never suspends while its callers read their replies, so another task waiting for
    /// the same pool thread (a one-thread pool, or every pool thread so held) gets it within about this, plus one
    /// ``readBudget`` (decision 0046).
    private static let holdLimit = Duration.milliseconds(2)
    private var directEncoder = RESPEncoder()  // guarded by lock

    // Connection thread only.
    private var endpoint: String
    private var stream: RedisStream?
    private var reader: RESPReader?
    private var tlsContext: TLSContext?
    private var encoder = RESPEncoder()
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readChunk, alignment: 16)
    private var readTimeout: Double = -1
    /// When the thread last saw the socket open: it had just read every reply on the wire, or it had just woken (for
    /// work) from a wait that watched the idle socket for its closing, and nothing had come. A batch within
    /// ``seenOpenFor`` of that goes out without first asking `poll` whether the idle socket was closed: the server's
    /// closing could have come only since, as it could after that `poll` (decision 0058). A system call saved a batch.
    private var socketSeenOpenAt: ContinuousClock.Instant?
    /// How long ``socketSeenOpenAt`` vouches for the socket. A batch usually follows the replies it was queued behind
    /// within a few µs; a later one (the thread was descheduled, or a task it ran took its time) checks, because a
    /// caller may have seen those replies, restarted Redis and sent again meanwhile, and its command would be written
    /// onto the dead socket and fail as lost instead of reconnecting first (decision 0070).
    private static let seenOpenFor = Duration.microseconds(200)

    /// Runs tasks on this connection's own thread: a task that only awaits this connection's replies crosses no
    /// thread for them (``RedisConnectionExecutor``, decision 0061).
    public let executor = RedisConnectionExecutor()

    /// Starts the connection's thread. It connects on the first command, not here, so building a
    /// client never fails and a process can start before Redis does. The thread (and this object)
    /// lives until ``close()``.
    /// - Parameters:
    ///   - configuration: where and how to connect.
    ///   - name: the thread's name, seen in debuggers and `top -H` (its first 15 bytes: ``ThreadName``).
    ///   - leavesARefusingNode: Sentinel mode: a fresh connection checks `ROLE` and leaves a node that is not the
    ///     primary. (After a reply refusing a write because the node is not the primary, `READONLY` or `MASTERDOWN`,
    ///     any connection's next batch reconnects, asking `address` again. Decided where the refusal was read, for the
    ///     socket that read it, not by dropping every connection of the client: one may be on the new primary
    ///     already, with a write in flight, decision 0025.)
    ///   - learnsClientID: each connect asks the server for the connection's `CLIENT ID` (``clientID``): one round trip
    ///     a connect, for a connection whose blocking reads are woken with `CLIENT UNBLOCK`.
    ///   - address: where to connect, asked on the connection's thread before every connect and reconnect; its
    ///     error fails the batch (within the reconnect window, it is asked again with backoff).
    public init(
        configuration: RedisConfiguration, name: String = "hoopoe-redis", leavesARefusingNode: Bool = false, learnsClientID: Bool = false,
        address: (@Sendable () throws(RedisError) -> RedisConfiguration.Endpoint)? = nil
    ) {
        self.configuration = configuration
        self.leavesARefusingNode = leavesARefusingNode
        self.learnsClientID = learnsClientID
        self.endpoint = configuration.endpoint.description
        let fixed = configuration.endpoint
        self.address = address ?? { fixed }
        executor.connection = self
        let thread = Thread { [self] in
            ThreadName.set(name)
            self.runLoop()
        }
        thread.start()
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Sends commands in one round trip and returns their replies in order.
    ///
    /// Error replies (`-ERR ...`) come back in place as `.error`, so one failing command does not hide
    /// the others. A transport failure throws for the whole batch.
    /// - Throws: ``RedisError`` (`connectionFailed`, `connectionLost`, `timeout`, `closed`, ...).
    public func send(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await withUnsafeThrowingContinuation { continuation in
            enqueue(Request(commands: commands) { [self] in
                self.outstanding.subtract(1, ordering: .relaxed)
                continuation.resume(with: $0)
            })
        }
    }

    /// Sends commands, then `wait` (a `WAIT numreplicas timeout`), and returns their replies with `WAIT`'s last.
    ///
    /// Requests queued together that ask for the same `WAIT` share one, sent after all of the batch's commands: it
    /// counts the replicas that have every write before it, so each caller learns what its own `WAIT` would have
    /// told it, and a batch of concurrent durable calls waits for the replicas once, not once per call one after the
    /// other (decision 0034). Each caller's replies still come back only after the shared `WAIT`'s.
    /// - Throws: as ``send(_:)``.
    public func send(_ commands: [RedisCommand], thenWait wait: RedisCommand) async throws -> [RedisReply] {
        try await withUnsafeThrowingContinuation { continuation in
            enqueue(Request(commands: commands, wait: wait) { [self] in
                self.outstanding.subtract(1, ordering: .relaxed)
                continuation.resume(with: $0)
            })
        }
    }

    /// Sends one command and turns its reply into a value with `decode`, on the connection's thread, reading
    /// hiredis's reply in place (``RedisReplyView``) instead of copying it into a ``RedisReply`` first.
    ///
    /// For a hot reply of which the caller wants a few values out of a large structure (a fetch's `XREADGROUP`). What
    /// `decode` does, it does on the connection's thread while every other reply of the connection waits: it should
    /// copy out what it needs and return.
    ///
    /// Inlinable so that it is specialised in the caller's module: its value's box then costs no generic metadata
    /// lookup a call (which callgrind showed in the worker's fetch).
    /// - Throws: as ``send(_:)``; an error reply is thrown as ``RedisError/reply(_:endpoint:command:)`` (`decode` is
    ///   not called for it).
    @inlinable
    public func send<Value: Sendable>(_ command: RedisCommand, decoding decode: @escaping @Sendable (RedisReplyView) -> Value) async throws -> Value {
        let decoded = DecodedReply<Value>()
        var command = command
        command.replyDecoder = { decoded.value = decode($0) }
        let reply = try await send([command])[0]
        if let message = reply.errorMessage { throw RedisError.reply(message, endpoint: servedBy, command: command.name) }
        guard let value = decoded.value else {
            throw RedisError(.protocolError, endpoint: servedBy, command: command.name, message: "the reply was not decoded")
        }
        return value
    }

    /// The server an error reply came from: the address the socket is connected to (the primary the sentinels named,
    /// for a connection that follows them), else the configured endpoint (the first sentinel there, which a worker's
    /// fetch error named).
    @usableFromInline var servedBy: String {
        lock.lock()
        let target = liveTarget
        lock.unlock()
        // Not `endpoint`: the connection's thread writes it without the lock as it reconnects.
        return target?.description ?? configuration.endpoint.description
    }

    /// Stops the thread after the work already queued; later calls fail with `closed`.
    public func close() {
        lock.lock()
        isClosed = true
        let wake = claimWake()
        lock.unlock()
        if wake { wakeup.signal() }
    }

    /// Closes the connection so the next batch connects afresh, asking `address` again (a failover moved the
    /// primary). Thread-safe. A read in progress (a batch in flight, a blocking `XREADGROUP`) is interrupted: its
    /// commands fail with `connectionLost` (they may have run).
    /// - Parameter keeping: a connection already connected to this address is left alone: the primary a failover
    ///   moved to, which a connection that asked `address` itself may have reached before the move is reported.
    ///   Dropped, its commands in flight would fail as lost though the new primary ran them (session 36: a write
    ///   that ran reported failed). One still connecting is dropped: its address may have been asked before the move.
    public func dropConnection(keeping: RedisConfiguration.Endpoint? = nil) {
        lock.lock()
        if let keeping, liveSocket >= 0, liveTarget == keeping {
            lock.unlock()
            return
        }
        dropRequested = true
        if liveSocket >= 0 { _ = shutdown(liveSocket, Int32(SHUT_RDWR)) }
        lock.unlock()
    }

    private func enqueue(_ request: Request) {
        let alone = outstanding.add(1, ordering: .relaxed).oldValue == 0
        lock.lock()
        if !alone { lastConcurrent = .now }
        if isClosed {
            lock.unlock()
            request.completion(.failure(RedisError(.closed, endpoint: configuration.endpoint.description, command: request.commands.first?.name, message: "the client was closed")))
            return
        }
        if alone, mayWriteDirectly, !request.mayBlock, request.wait == nil, let direct {
            let now = ContinuousClock.now
            if now - lastConcurrent > Self.aloneFor {
                if let holdStart, now - holdStart > Self.holdLimit {
                    self.holdStart = nil  // this one suspends: the pool thread goes to whoever waits for it
                } else if writeDirectly(request, to: direct) {
                    guard callerReads else {
                        let wake = claimWake()
                        lock.unlock()  // the socket did not take all of it: the thread writes the rest and reads
                        if wake { wakeup.signal() }
                        return
                    }
                    if holdStart == nil { holdStart = now }
                    let reader = self.reader  // set with `direct` (``connect()``), cleared after it: the thread is parked
                    lock.unlock()
                    readOwnReplies(request, from: direct, with: reader)
                    return
                }
            }
        }
        holdStart = nil
        queue.append(request)
        let wake = !callerReads && claimWake()  // it writes the request behind any in flight; after a caller's read, that caller wakes it
        lock.unlock()
        if wake { wakeup.signal() }
    }

    /// A job of a task that prefers ``executor``: run by the thread before it writes or parks; woken for it if parked.
    func enqueueTask(_ job: UnownedJob) {
        lock.lock()
        if threadEnded {
            lock.unlock()
            globalConcurrentExecutor.enqueue(job)
            return
        }
        tasks.append(job)
        let wake = claimWake()
        lock.unlock()
        if wake { wakeup.signal() }
    }

    /// Whether a caller may write its request itself now (holding `lock`).
    private var mayWriteDirectly: Bool {
        parked && inFlight.isEmpty && queue.isEmpty && !writeBusy && !dropRequested && !leaving
    }

    /// Writes a request from the caller's thread (holding `lock`), without waiting. False when the socket takes
    /// nothing or the server closed it while idle: the request then queues and the thread reconnects first, as for
    /// any batch.
    private func writeDirectly(_ request: Request, to stream: RedisStream) -> Bool {
        guard stream.idleIsClean() else { return false }
        directEncoder.reset()
        var blocking = 0.0
        for command in request.commands {
            directEncoder.append(command)
            blocking = max(blocking, command.blockingSeconds)
        }
        if let wait = request.wait {
            directEncoder.append(wait)
            blocking = max(blocking, wait.blockingSeconds)
        }
        let written = directEncoder.withBytes { stream.sendWithoutWaiting($0) }
        guard written > 0 else { return false }
        let unsent = written < directEncoder.count ? directEncoder.bytes(from: written) : []
        let window = configuration.commandTimeout.seconds + blocking
        inFlight.append(InFlight(requests: [request], sharedWait: request.wait, window: window, deadline: .now + .seconds(window), unsent: unsent))
        if unsent.isEmpty {
            callerReads = true  // the caller reads the reply (``readOwnReplies``)
        } else {
            writeBusy = true  // the caller wakes the thread to write the rest (``enqueue(_:)``)
        }
        return true
    }

    /// A lone caller reads the replies to the request it has just written (``callerReads`` set: it owns the reads),
    /// waiting at most ``readBudget`` from now, then completes the request without suspending. Replies not all come by
    /// then (or the read fails: closed, reset, not RESP): the rest of the request is handed back to the thread, with
    /// the bytes already fed left in the reader and the replies already taken kept for the completion; the thread
    /// reads as it reads any written request (and meets a failure itself: a closed socket reads as closed again, a
    /// reader that met bad bytes keeps failing), and the caller's continuation is resumed from there.
    private func readOwnReplies(_ request: Request, from stream: RedisStream, with reader: RESPReader?) {
        let wanted = request.commands.count
        var replies: [RedisReply] = []
        replies.reserveCapacity(wanted)
        var anError = false  // only an error reply can refuse (``refusesAsNotPrimary(_:)``)
        let deadline = ContinuousClock.now + Self.readBudget
        reading: while let reader, replies.count < wanted {
            do throws(TransportFailure) {
                if let reply = try reader.next(decoding: request.commands[replies.count].replyDecoder) {
                    if case .error = reply { anError = true }
                    replies.append(reply)
                    continue
                }
            } catch {
                break reading
            }
            let left = (deadline - .now).seconds
            guard left > 0 else { break }
            let count = stream.receive(into: readBuffer, waitingAtMost: Int32((left * 1000).rounded(.up)))
            guard count > 0 else { break }
            do throws(TransportFailure) {
                try reader.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            } catch {
                break reading
            }
        }
        let refused = anError && refusesAsNotPrimary(replies)
        lock.lock()
        if refused { leaving = true }  // before the request completes and its caller resends them
        callerReads = false
        if replies.count == wanted {
            inFlight.removeFirst()  // it was alone on the wire: nobody writes while a caller reads
            let wake = parked && !(queue.isEmpty && inFlight.isEmpty && watchingSocket) && claimWake()
            lock.unlock()
            if wake { wakeup.signal() }
            request.completion(.success(replies))
            return
        }
        holdStart = nil
        if !replies.isEmpty {
            let head = inFlight[0]
            let done = request.completion
            let rest = Request(commands: Array(request.commands[replies.count...])) { [replies] result in
                done(result.map { replies + $0 })
            }
            inFlight[0] = InFlight(requests: [rest], sharedWait: nil, window: head.window, deadline: head.deadline)
        }
        let wake = claimWake()  // it reads the rest
        lock.unlock()
        if wake { wakeup.signal() }
    }

    /// Whether the caller is to wake the thread: true, once, when it is parked (holding `lock`). The caller signals
    /// after unlocking: the thread, woken, takes the lock first thing, and would otherwise block on it at once (a
    /// futex wait and wake, and a context switch, a request; session 11's futex profile). A signal that lands after the
    /// thread woke for something else only makes its next wait return at once, to find nothing new.
    private func claimWake() -> Bool {
        guard parked else { return false }
        parked = false
        return true
    }

    /// Whether `replies` refuse a write because this node is not the primary. Whoever read them then sets ``leaving``,
    /// under `lock`, before their request completes: in Sentinel mode its caller sends the refused commands again on
    /// this connection (``RedisClient``), and they must go where the sentinels name now. Any other connection leaves
    /// too: one server behind a name or a virtual IP that moved to the promoted replica (`REPLICAOF`, `FAILOVER`, a
    /// managed endpoint) is reached by connecting again, and Redis keeps a demoted node's client sockets open, so a
    /// connection that stayed was refused for good (the worker's fetch, settles and renewals, until a restart).
    /// Nothing is cut short: the socket is not shut, so the replies on the wire behind the refusal are read before the
    /// next batch is written elsewhere; and a socket made since cannot be the one left, as only the thread connects
    /// (and clears ``leaving`` when it disconnects), and it is the reader then or parked while a caller reads.
    /// Asked only of replies among which the reading loop saw an error, the only kind that refuses: scanning every
    /// batch's replies cost the worker ~33 instructions a job, the error check ~9 (callgrind, session 63), for a
    /// refusal seen in a failover.
    private func refusesAsNotPrimary(_ replies: [RedisReply]) -> Bool {
        replies.contains(where: \.refusesAsNotPrimary)
    }

    // MARK: - The connection's thread

    private func runLoop() {
        BrokenPipeSignal.blockOnThisThread()
        while let work = nextWork() {
            switch work {
            case .write(let batch, let dropped):
                if dropped { disconnect() }
                execute(batch)
            case .read(let requests, let overdue):
                finish(requests, overdue: overdue)
            case .idleSocketClosed:
                disconnect()
            case .run(let jobs):
                let executor = self.executor.asUnownedTaskExecutor()
                for job in jobs { job.runSynchronously(on: executor) }
            }
        }
        disconnect()
    }

    /// Waits for work: all that is queued at once (and whether ``dropConnection()`` asked for a fresh connection) when
    /// nothing is in flight or the thread was parked; else the replies of the oldest requests in flight; nil once
    /// closed and drained.
    ///
    /// Parked, the thread waits on the idle plain socket as well as for a signal: a caller's own write is answered
    /// there (and a readable idle socket with nothing in flight was closed by the server). The wait is bounded by the
    /// command timeout (by what is left of a written request's window once it knows of one), so a written request
    /// whose reply never comes still times out. Requests queued meanwhile signal the thread, which writes them behind
    /// it.
    private func nextWork() -> Work? {
        lock.lock()
        defer { lock.unlock() }
        var woke: ThreadWakeup.Readiness?  // nil: not parked yet, so whatever is in flight is read at once
        while true {
            // Tasks first: what they send then leaves in the batch written next.
            if !tasks.isEmpty {
                let jobs = tasks
                tasks.removeAll(keepingCapacity: true)
                return .run(jobs)
            }
            // Queued requests go out at once when nothing is in flight, or behind a caller-written request when the
            // thread was parked on its reply; behind the thread's own batch they wait until its replies are read, so
            // what comes meanwhile leaves together in one `send` (decision 0042).
            // While a caller reads its own reply, the thread leaves the stream alone: what comes meanwhile waits for
            // the caller to let go (decision 0046).
            // Leaving a node that refused a write: what is in flight is read first, then the batch goes out on a
            // fresh connection (``leaving``).
            if !queue.isEmpty && !writeBusy && !callerReads && (inFlight.isEmpty || (woke != nil && !leaving)) {
                let batch = queue
                queue.removeAll(keepingCapacity: true)
                let dropped = dropRequested || leaving
                dropRequested = false
                leaving = false
                writeBusy = true  // until written (``releaseWrites()``): a caller's bytes must not come between its own
                return .write(batch, dropped: dropped)
            }
            if !callerReads, let head = inFlight.first {
                let socketReady = woke?.socket ?? false
                let overdue = woke != nil && !socketReady && head.unsent.isEmpty && ContinuousClock.now >= head.deadline
                if woke == nil || socketReady || !head.unsent.isEmpty || overdue {
                    inFlight.removeFirst()  // writeBusy stays set while its rest is unwritten
                    return .read(head, overdue: overdue)
                }
            } else if inFlight.isEmpty && isClosed && queue.isEmpty {
                threadEnded = true
                return nil
            }
            // Parked: on the pipe only while a caller reads (it signals when it lets go); for the replies of what is
            // in flight, until the oldest's deadline; idle, for the socket's closing only, so that a lone caller's
            // reply, which the caller reads, does not wake the thread too.
            let socket = callerReads ? nil : direct?.fd
            let watch: ThreadWakeup.SocketWatch = inFlight.isEmpty ? .closing : .replies
            let timeout = callerReads ? nil : inFlight.first.map { max(0, ($0.deadline - .now).seconds) }
            parked = true
            watchingSocket = socket != nil
            lock.unlock()
            let readiness = wakeup.wait(socket: socket, watch: watch, timeout: timeout)
            socketSeenOpenAt = socket != nil && watch == .closing && !readiness.socket && !readiness.interrupted ? .now : nil
            lock.lock()
            parked = false
            watchingSocket = false
            woke = readiness
            if readiness.socket && inFlight.isEmpty && queue.isEmpty {
                dropRequested = false
                leaving = false
                direct = nil  // no caller writes to it before the thread has closed it
                return .idleSocketClosed
            }
        }
    }

    /// Reads the replies of the oldest requests in flight (after writing what the socket did not take from their
    /// caller at once), or fails them as timed out when none came within their window.
    private func finish(_ sent: InFlight, overdue: Bool) {
        let name = sent.requests[0].commands.first?.name ?? "WAIT"
        guard let stream else {
            if !sent.unsent.isEmpty { releaseWrites() }
            fail(sent.requests, RedisError(.connectionLost, endpoint: endpoint, command: name, message: "no connection"))
            return
        }
        setReadTimeout(sent.window)
        if overdue {
            let failure = redisError(TransportFailure("timed out", kind: .timedOut), command: name)
            disconnect()
            fail(sent.requests, failure)
            return
        }
        if !sent.unsent.isEmpty {
            do throws(TransportFailure) {
                try stream.write(sent.unsent)
            } catch {
                let failure = redisError(error, command: name)
                disconnect()
                releaseWrites()
                fail(sent.requests, failure)
                return
            }
            releaseWrites()
        }
        receive(sent.requests, sharedWait: sent.sharedWait)
    }

    private func fail(_ requests: [Request], _ failure: RedisError) {
        for request in requests { request.completion(.failure(failure.naming(request.commands.first?.name))) }
    }

    /// Writes a batch: behind the requests in flight, or, when none are, on a connection checked (and made) first.
    /// Its replies are read when it reaches the head of ``inFlight``.
    private func execute(_ batch: [Request]) {
        lock.lock()
        let idle = inFlight.isEmpty  // stable: callers write only while writeBusy is clear
        lock.unlock()
        if idle, !socketRecentlySeenOpen, let stream, !stream.idleIsClean() { disconnect() }
        socketSeenOpenAt = nil
        if stream == nil {
            do {
                try connectWithBackoff()
            } catch {
                releaseWrites()
                for request in batch { request.completion(.failure(error.naming(request.commands.first?.name))) }
                return
            }
        }
        guard let stream else {
            releaseWrites()
            return
        }
        // The batch's shared WAIT: the first request's, for every request asking for the same one; a request asking
        // for another (a different count or timeout) keeps its own, right after its commands.
        // (Loops, not `lazy` chains: this runs for every batch of a worker's hot path and must allocate nothing.)
        var sharedWait: RedisCommand?
        var blocking = 0.0
        for request in batch {
            for command in request.commands { blocking = max(blocking, command.blockingSeconds) }
            if let wait = request.wait {
                blocking = max(blocking, wait.blockingSeconds)
                if sharedWait == nil { sharedWait = wait }
            }
        }
        encoder.reset()
        for request in batch {
            for command in request.commands { encoder.append(command) }
            if let wait = request.wait, !Self.shares(request, sharedWait) { encoder.append(wait) }
        }
        if let sharedWait { encoder.append(sharedWait) }
        do throws(TransportFailure) {
            try encoder.write(to: stream)
        } catch {
            let failure = redisError(error, command: batch[0].commands.first?.name ?? "WAIT")
            disconnect()
            releaseWrites()
            for request in batch { request.completion(.failure(failure.naming(request.commands.first?.name))) }
            return
        }
        let window = configuration.commandTimeout.seconds + blocking
        lock.lock()
        inFlight.append(InFlight(requests: batch, sharedWait: sharedWait, window: window, deadline: .now + .seconds(window)))
        writeBusy = false
        lock.unlock()
    }

    /// Whether the thread saw the socket open within ``seenOpenFor`` (connection thread only).
    private var socketRecentlySeenOpen: Bool {
        guard let seen = socketSeenOpenAt else { return false }
        return ContinuousClock.now - seen < Self.seenOpenFor
    }

    /// Lets callers write again once the thread has written what it had to (a batch, or the rest of a caller's
    /// request): what they write now goes after it on the wire, and its replies are read after it.
    private func releaseWrites() {
        lock.lock()
        writeBusy = false
        lock.unlock()
    }

    /// Whether `request` waits for the batch's shared `WAIT` rather than sending its own.
    private static func shares(_ request: Request, _ sharedWait: RedisCommand?) -> Bool {
        guard let wait = request.wait, let sharedWait else { return false }
        return wait.isSame(sharedWait)
    }

    /// Reads a written batch's replies in order and completes each request (those sharing the `WAIT` after it).
    private func receive(_ batch: [Request], sharedWait: RedisCommand?) {
        var waiting: [(request: Request, replies: [RedisReply])] = []  // their replies wait for the shared WAIT's
        for (position, request) in batch.enumerated() {
            let shared = Self.shares(request, sharedWait)
            let own = request.wait != nil && !shared ? request.commands + [request.wait!] : request.commands
            var replies: [RedisReply] = []
            replies.reserveCapacity(own.count + 1)
            var anError = false  // only an error reply can refuse (``refusesAsNotPrimary(_:)``)
            for command in own {
                do throws(TransportFailure) {
                    let reply = try nextReply(decoding: command.replyDecoder)
                    if case .error = reply { anError = true }
                    replies.append(reply)
                } catch {
                    let failure = redisError(error, command: command.name)
                    disconnect()
                    request.completion(.failure(failure))
                    for rest in batch[(position + 1)...] { rest.completion(.failure(failure.naming(rest.commands.first?.name))) }
                    for held in waiting { held.request.completion(.failure(failure.naming(held.request.commands.first?.name))) }
                    return
                }
            }
            if anError && refusesAsNotPrimary(replies) {
                lock.lock()
                leaving = true
                lock.unlock()
            }
            if shared {
                waiting.append((request, replies))
            } else {
                request.completion(.success(replies))
            }
        }
        guard !waiting.isEmpty else {
            socketSeenOpenAt = .now
            return
        }
        do throws(TransportFailure) {
            let waitReply = try nextReply()
            socketSeenOpenAt = .now
            for held in waiting { held.request.completion(.success(held.replies + [waitReply])) }
        } catch {
            let failure = redisError(error, command: "WAIT")
            disconnect()
            for held in waiting { held.request.completion(.failure(failure.naming(held.request.commands.first?.name))) }
        }
    }

    /// The next reply: from what the reader holds, else after reading more (in ``readChunk`` pieces); read in place by
    /// `decoder` when there is one (``send(_:decoding:)``).
    private func nextReply(decoding decoder: (@Sendable (RedisReplyView) -> Void)? = nil) throws(TransportFailure) -> RedisReply {
        guard let stream, let reader else { throw TransportFailure("no connection", kind: .closed) }
        while true {
            if let reply = try reader.next(decoding: decoder) { return reply }
            let count = try stream.read(into: readBuffer)
            try reader.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        }
    }

    private func connectWithBackoff() throws(RedisError) {
        let deadline = ContinuousClock.now + configuration.reconnectWindow
        var delay = Duration.milliseconds(25)
        var reconnectedPastDeadline = false
        while true {
            do {
                try connect()
                // A drop asked for while connecting (a failover seen meanwhile) may mean `address` answered with the
                // old primary: connect once more rather than send the batch there — past the window too, once: a
                // sentinel lookup that waited on unreachable sentinels (a second each) often ends past it, and the
                // connection then stayed on the demoted primary, its writes lost when it became a replica.
                lock.lock()
                let droppedMeanwhile = dropRequested
                dropRequested = false
                lock.unlock()
                if droppedMeanwhile && (ContinuousClock.now < deadline || !reconnectedPastDeadline) {
                    if ContinuousClock.now >= deadline { reconnectedPastDeadline = true }
                    disconnect()
                    continue
                }
                return
            } catch where error.code == .authenticationFailed || error.code == .badDatabase || connectFailureIsFinal {
                throw error  // retrying cannot help
            } catch {
                if ContinuousClock.now + delay > deadline { throw error }
                Thread.sleep(forTimeInterval: delay.seconds)
                delay = min(delay * 2, .milliseconds(500))
            }
        }
    }

    /// Set by ``connect()`` when its failure cannot be mended by retrying: the server's certificate is not trusted
    /// (a wrong CA, another host's certificate), or a TLS file cannot be used. Connection thread only.
    private var connectFailureIsFinal = false

    private func connect() throws(RedisError) {
        connectFailureIsFinal = false
        let target = try address()
        endpoint = target.description
        var context: TLSContext?
        if let settings = configuration.tls {
            do throws(TransportFailure) {
                if tlsContext == nil { tlsContext = try TLSContext(settings) }
                context = tlsContext
            } catch {
                connectFailureIsFinal = true
                throw RedisError(.connectionFailed, endpoint: endpoint, message: error.reason, isFinal: true)
            }
        }
        let made: RedisStream
        do throws(TransportFailure) {
            made = try RedisStream(target, connectTimeout: configuration.connectTimeout, tls: context)
            reader = try RESPReader()
        } catch {
            connectFailureIsFinal = error.kind == .tlsVerification
            let prefix = error.reason.hasPrefix("TLS") ? "" : "cannot connect: "
            throw RedisError(.connectionFailed, endpoint: endpoint, message: prefix + error.reason, isFinal: connectFailureIsFinal)
        }
        stream = made
        lock.lock()
        liveSocket = made.fd
        liveTarget = target
        lock.unlock()
        readTimeout = -1
        setReadTimeout(configuration.commandTimeout.seconds)
        if let password = configuration.password {
            var auth = RedisCommand("AUTH")
            if let username = configuration.username { auth.append(username) }
            auth.append(password)
            let who = "user '\(configuration.username ?? "default")'"
            try handshake(auth, refused: "authentication as \(who) failed")
        }
        if configuration.database != 0 {
            try handshake(
                RedisCommand("SELECT", String(configuration.database)), refused: "database \(configuration.database) (from the URL) does not exist on this server",
                code: .badDatabase)
        }
        if leavesARefusingNode { try checkPrimaryRole() }
        if learnsClientID {
            switch try handshakeReply(RedisCommand("CLIENT", "ID")) {
            case .integer(let id): liveClientID.store(Int(id), ordering: .relaxed)
            case .error(let reason): try leaveIfRefused(reason, command: "CLIENT")
            default: break
            }
        } else if !leavesARefusingNode && configuration.password == nil && configuration.database == 0 {
            // One round trip before the first request, so a server refusing the connection (`maxclients`) is told
            // apart from an answer to it: its refusal would have been the first command's reply, and the others lost.
            if case .error(let reason) = try handshakeReply(RedisCommand("PING")) { try leaveIfRefused(reason, command: "PING") }
        }
        if made.isPlain {
            lock.lock()
            direct = made
            lock.unlock()
        }
    }

    /// One command on a fresh connection, during connect. A refusal closes the connection and throws `code`
    /// (`authenticationFailed` for AUTH, `badDatabase` for SELECT) with `refused` and the server's reason (which
    /// never echoes the password).
    private func handshake(_ command: RedisCommand, refused: String, code: RedisError.Code = .authenticationFailed) throws(RedisError) {
        if case .error(let reason) = try handshakeReply(command) {
            try leaveIfRefused(reason, command: command.name)
            disconnect()
            throw RedisError(code, endpoint: endpoint, command: command.name, message: "\(refused): \(reason)")
        }
    }

    /// A server at `maxclients` writes its refusal as soon as it accepts a connection, and closes it: whatever was sent
    /// first gets it as its reply. Not a verdict on the password or the database, and nothing ran: the connection is
    /// closed and the connect fails as `connectionFailed`, which the reconnect loop tries again (a final
    /// `authenticationFailed` before, and without a handshake the first request took the refusal for its answer).
    ///
    /// `NOAUTH` (a server that needs a password, asked by a URL without one) is a refused login, final as a wrong
    /// password's `WRONGPASS`: it was a `SELECT` "refused" as a database that does not exist, a `PING` answered with
    /// an error (`ping` exit 1, `health-check --liveness` failing the probe), and a worker waiting for good.
    private func leaveIfRefused(_ reason: String, command: String) throws(RedisError) {
        if reason.hasPrefix("NOAUTH") {
            disconnect()
            throw RedisError(.authenticationFailed, endpoint: endpoint, command: command, message: "Redis requires a password; the URL gives none")
        }
        guard Self.refusesTheConnection(reason) else { return }
        disconnect()
        throw RedisError(.connectionFailed, endpoint: endpoint, command: command, message: "the server refused the connection: \(reason)")
    }

    /// Whether an error reply is the server refusing the connection itself (`ERR max number of clients reached`), or
    /// refusing for now what it will do later: `BUSY` (a script running past `busy-reply-threshold`, when `SELECT` and
    /// `AUTH` are not allowed). A `SELECT` refused so was reported as a database that "does not exist", a final verdict.
    static func refusesTheConnection(_ reason: String) -> Bool {
        reason.hasPrefix("ERR max number of clients reached") || reason.hasPrefix("BUSY ")
    }

    /// One command on a fresh connection, during connect, and its reply; a failed round trip closes the connection.
    private func handshakeReply(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        guard let stream else { throw RedisError(.connectionFailed, endpoint: endpoint, message: "no connection") }
        do throws(TransportFailure) {
            encoder.reset()
            encoder.append(command)
            try encoder.write(to: stream)
            return try nextReply()
        } catch {
            let failure = redisError(error, command: command.name)
            disconnect()
            throw RedisError(.connectionFailed, endpoint: endpoint, command: command.name, message: failure.message + askingForTLS(error))
        }
    }

    /// A hint for a plain connection dropped at its first command: a TLS-only port reads the command as a broken TLS
    /// handshake and resets the connection, and "Connection reset by peer" alone pointed nowhere (the reverse, TLS at
    /// a plain port, has its hint in ``TLSSession``).
    private func askingForTLS(_ failure: TransportFailure) -> String {
        guard configuration.tls == nil, failure.kind == .closed || failure.kind == .failed, case .tcp = configuration.endpoint else { return "" }
        return " (does this port want TLS? then rediss://)"
    }

    /// Sentinel mode: the node the sentinels named must say it is the primary (`ROLE`). A demoted primary not yet
    /// converted, or a lagging sentinel's answer, is left at once (`connectionFailed`, so the reconnect loop asks the
    /// sentinels again with backoff within the window) instead of serving stale reads and refusing every write. A user
    /// without `+role` skips the check (`READONLY` and `+switch-master` still move the connection; decision 0025).
    private func checkPrimaryRole() throws(RedisError) {
        let reply = try handshakeReply(RedisCommand("ROLE"))
        if case .error(let reason) = reply {
            try leaveIfRefused(reason, command: "ROLE")
            return
        }
        let role = reply.array?.first?.string ?? "unknown"
        guard role != "master" else { return }
        disconnect()
        throw RedisError(.connectionFailed, endpoint: endpoint, command: "ROLE", message: "the node the sentinels named is a \(role), not the primary")
    }

    private func setReadTimeout(_ seconds: Double) {
        guard let stream, seconds != readTimeout else { return }
        readTimeout = seconds
        stream.setTimeout(seconds)
    }

    /// The ``RedisError`` for a transport failure: `timeout` (no reply within the read timeout), `protocolError`
    /// (bytes that are not RESP), else `connectionLost` — the command may have run.
    private func redisError(_ failure: TransportFailure, command: String) -> RedisError {
        switch failure.kind {
        case .timedOut: RedisError(.timeout, endpoint: endpoint, command: command, message: "no reply within \(readTimeout) s")
        case .protocolError: RedisError(.protocolError, endpoint: endpoint, command: command, message: failure.reason)
        case .closed, .failed, .tlsVerification: RedisError(.connectionLost, endpoint: endpoint, command: command, message: failure.reason)
        }
    }

    /// Closes the connection. Requests their callers wrote after the one whose failure closes it fail as lost:
    /// their replies, if any, went with the socket (the commands may have run).
    private func disconnect() {
        guard let made = stream else { return }
        liveClientID.store(-1, ordering: .relaxed)
        lock.lock()
        liveSocket = -1
        liveTarget = nil
        leaving = false  // it was this socket's node that refused
        direct = nil
        let orphans = inFlight
        inFlight.removeAll()
        if orphans.last.map({ !$0.unsent.isEmpty }) ?? false { writeBusy = false }  // nobody will finish that write
        lock.unlock()
        made.close()
        stream = nil
        reader = nil
        for orphan in orphans {
            let name = orphan.requests[0].commands.first?.name ?? "WAIT"
            fail(orphan.requests, RedisError(.connectionLost, endpoint: endpoint, command: name, message: "the connection was closed before the reply came (a request written before it failed)"))
        }
    }
}

extension RedisError {
    /// The same failure, reported against another command of the same batch.
    fileprivate func naming(_ other: String?) -> RedisError {
        RedisError(code, endpoint: endpoint, command: other ?? command, message: message, isFinal: isFinal)
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

/// Where ``RedisConnection/send(_:decoding:)``'s decoder leaves its value for the caller.
///
/// - Note: `@unchecked Sendable` is sound because `value` is written once, by the decoder on the connection's thread,
///   before the request's completion resumes the caller, and read only by the caller after it resumed (the
///   continuation's resume orders the two).
@usableFromInline
final class DecodedReply<Value>: @unchecked Sendable {
    @usableFromInline var value: Value?

    @usableFromInline init() {}
}
