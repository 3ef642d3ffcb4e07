<?php

declare(strict_types=1);

namespace Hoopoe;

use Hoopoe\Exception\AlreadyEnqueued;
use Hoopoe\Exception\BatchFailed;
use Hoopoe\Exception\Duplicate;
use Hoopoe\Exception\HoopoeException;
use Hoopoe\Exception\InvalidJob;
use Hoopoe\Exception\LibraryNotLoaded;
use Hoopoe\Exception\TooLarge;

/**
 * Enqueue jobs, wait for free credit's answer and read events over one phpredis connection (jobs/PROTOCOL.md).
 *
 * Options of enqueue() (all optional): queue (default: the type's queue, Jobs::QUEUES: "critical" for
 * freecredit.request, else "default"; as `hoopoe enqueue`), id, at (Unix seconds; milliseconds are refused),
 * in (seconds from now), unique_key / unique_for (refused with Duplicate while a job with the key is pending or
 * running; the lock lasts unique_for seconds at most, default the delay + 24 h), once_key / once_for (refused with
 * AlreadyEnqueued for once_for seconds, default 7 days), max_attempts, timeout (seconds), notify (true: the worker
 * pushes the job's final outcome for waitFor($enqueued); the Enqueued names the queue it went to). Any other name
 * throws InvalidJob (Client::OPTIONS), before anything is sent.
 *
 * The \Redis must be in phpredis's ATOMIC mode when a method is called: in MULTI or pipeline mode every method throws
 * InvalidJob (field "connection") before sending anything (atomicOnly). A command Redis refuses (OOM, NOPERM, READONLY,
 * MISCONF, NOREPLICAS, WRONGTYPE, ...) throws HoopoeException with Redis's error; a RedisException means no answer (a
 * read timeout, a lost connection: the call may have run), never a refusal (refusal()).
 */
final class Client
{
    public const DAY = 86400;
    public const ONCE_DEFAULT = 7 * 86400;
    private const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    /** The enqueue function of the library every hoopoe worker loads into Redis (jobs/PROTOCOL.md). */
    public const ENQUEUE_FUNCTION = 'hoopoe_enqueue';
    /**
     * The names enqueue()'s $options may have (a batch job also has type and payload). Any other is refused, not
     * skipped: ['delay' => 600] (Python's name for in), ['run_at' => ...] or ['uniqueKey' => ...] enqueued a job to
     * run now, with no lock.
     */
    public const OPTIONS = ['queue', 'id', 'at', 'in', 'unique_key', 'unique_for', 'once_key', 'once_for', 'max_attempts', 'timeout', 'notify'];
    /** How many notify jobs' queues a Client keeps for waitFor($id) without a queue (the oldest is forgotten first). */
    public const REMEMBERED = 10000;

    public readonly string $namespace;
    /** @var array<string, true> group + consumer pairs whose unacknowledged events this object has handed back */
    private array $drained = [];
    /** @var array<string, string> id => queue of the notify jobs this object enqueued, oldest first (remember()) */
    private array $notifyQueues = [];

    private readonly int $maxBytes;

    /**
     * @param \Redis $redis a connection without a key prefix, serializer or compression (phpredis's defaults)
     * @param string|null $namespace the key prefix the workers use; null or '' (Laravel's env() for `HOOPOE_NAMESPACE=`):
     *     HOOPOE_NAMESPACE, default "hoopoe"
     * @throws InvalidJob (field "namespace") for one the workers refuse: a brace, a space or a control character;
     *     (field "connection") for a $redis with OPT_PREFIX, OPT_SERIALIZER or OPT_COMPRESSION set (connectionProblem)
     */
    public function __construct(private readonly \Redis $redis, ?string $namespace = null, int $maxBytes = Envelope::MAX_BYTES)
    {
        // At most the workers' limit: they bury a larger envelope, and the enqueue function refuses it.
        $this->maxBytes = $maxBytes > 0 ? min($maxBytes, Envelope::MAX_BYTES) : Envelope::MAX_BYTES;
        $this->namespace = $namespace !== null && $namespace !== '' ? $namespace : self::defaultNamespace();
        if (($problem = Envelope::namespaceProblem($this->namespace)) !== null) {
            throw new InvalidJob('namespace', $problem);
        }
        if (($problem = self::connectionProblem($redis)) !== null) {
            throw new InvalidJob('connection', $problem);
        }
    }

    /**
     * Why $redis cannot carry the protocol's keys and values as they are, or null. phpredis applies a connection's key
     * prefix, serializer and compression to its own commands (the XADD of a plain job, GET, BLPOP, XREAD) and not to
     * rawCommand (the enqueue function): with Laravel's default prefix, plain jobs went to a key no worker reads and
     * Enqueued was returned, while later and once-only jobs ran. A \Redis not connected yet has no options to read.
     */
    private static function connectionProblem(\Redis $redis): ?string
    {
        try {
            $prefix = $redis->getOption(\Redis::OPT_PREFIX);
            $serializer = $redis->getOption(\Redis::OPT_SERIALIZER);
            $compression = defined('Redis::OPT_COMPRESSION') ? $redis->getOption(\Redis::OPT_COMPRESSION) : \Redis::COMPRESSION_NONE;
        } catch (\RedisException) {  // phpredis 5: "Redis server went away" before connect()
            return null;
        }
        $set = [];
        if (is_string($prefix) && $prefix !== '') {
            $set[] = 'a key prefix (OPT_PREFIX ' . json_encode($prefix, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES) . ')';
        }
        if ((int) $serializer !== \Redis::SERIALIZER_NONE) {
            $set[] = "a serializer (OPT_SERIALIZER $serializer)";
        }
        if ((int) $compression !== \Redis::COMPRESSION_NONE) {
            $set[] = "compression (OPT_COMPRESSION $compression)";
        }
        if ($set === []) {
            return null;
        }
        return 'the \\Redis connection given to Hoopoe\\Client has ' . implode(', ', $set) . ': phpredis applies a prefix, a '
            . 'serializer and compression to its own commands (the XADD of a plain job, GET, BLPOP, XREAD) but not to the enqueue '
            . 'function, so plain jobs would be written where no worker reads them. Give Hoopoe a connection of its own with '
            . "OPT_PREFIX '', OPT_SERIALIZER \\Redis::SERIALIZER_NONE and OPT_COMPRESSION \\Redis::COMPRESSION_NONE (Laravel: "
            . "'options' => ['prefix' => '', 'serializer' => \\Redis::SERIALIZER_NONE, 'compression' => \\Redis::COMPRESSION_NONE] "
            . 'on the hoopoe connection, LARAVEL.md)';
    }

    public static function defaultNamespace(): string
    {
        $env = getenv('HOOPOE_NAMESPACE');
        return is_string($env) && $env !== '' ? $env : 'hoopoe';
    }

    /** A 26-character time-ordered id like Hoopoe's own (48 bits of milliseconds, 80 random bits, Crockford base32). */
    public static function newId(?float $now = null): string
    {
        $ms = (int) (($now ?? microtime(true)) * 1000);
        $id = '';
        for ($i = 9; $i >= 0; $i--) {
            $id .= self::ALPHABET[($ms >> (5 * $i)) & 31];
        }
        for ($i = 0; $i < 16; $i++) {
            $id .= self::ALPHABET[random_int(0, 31)];
        }
        return $id;
    }

    /** "<namespace>:{<queue>}:<suffix>": every key of a queue carries the hash tag {queue} (one cluster slot). */
    public function key(string $queue, string $suffix): string
    {
        return "{$this->namespace}:{{$queue}}:$suffix";
    }

    /**
     * Enqueues one job.
     *
     * @param array<string, mixed>|object|null $payload an empty array is sent as {}
     * @param array<string, mixed> $options see the class comment
     * @throws Duplicate|AlreadyEnqueued|TooLarge|InvalidJob|LibraryNotLoaded
     * @throws HoopoeException when Redis refuses the XADD or FCALL (WRONGTYPE, OOM, READONLY, NOPERM, MISCONF,
     *     NOREPLICAS), with its error: not written
     * @throws \RedisException when no answer came (a read timeout, a lost connection): the job may be in
     */
    public function enqueue(string $type, array|object|null $payload = null, array $options = []): Enqueued
    {
        $this->atomicOnly();
        self::refuseUnknown($options, self::OPTIONS);
        $job = $this->prepare($type, $payload, $options);
        $this->remember($job);
        if ($job['keys'] === null) {
            $this->guarded('XADD', fn () => $this->redis->xAdd($this->key($job['queue'], 'stream'), '*', ['job' => $job['body']]));
            return new Enqueued('enqueued', $job['id'], $job['queue']);
        }
        $result = $this->result($this->fcall($job['keys'], $job['args']), $job);
        if ($result instanceof HoopoeException) {
            throw $result;
        }
        return $result;
    }

    /** Runs no earlier than $at (Unix seconds). */
    public function enqueueAt(string $type, array|object|null $payload, float|int $at, array $options = []): Enqueued
    {
        return $this->enqueue($type, $payload, ['at' => $at] + $options);
    }

    /** Runs no earlier than $seconds from now. */
    public function enqueueIn(string $type, array|object|null $payload, float|int $seconds, array $options = []): Enqueued
    {
        return $this->enqueue($type, $payload, ['in' => $seconds] + $options);
    }

    /** Refused (Duplicate) while a job with $uniqueKey is pending or running. */
    public function enqueueUnique(string $type, array|object|null $payload, string $uniqueKey, ?float $uniqueFor = null, array $options = []): Enqueued
    {
        return $this->enqueue($type, $payload, ['unique_key' => $uniqueKey, 'unique_for' => $uniqueFor] + $options);
    }

    /** Refused (AlreadyEnqueued) when $onceKey was used within $onceFor seconds. */
    public function enqueueOnce(string $type, array|object|null $payload, string $onceKey, float $onceFor = self::ONCE_DEFAULT, array $options = []): Enqueued
    {
        return $this->enqueue($type, $payload, ['once_key' => $onceKey, 'once_for' => $onceFor] + $options);
    }

    /**
     * Many jobs in one round trip: each ['type' => ..., 'payload' => ..., options...]. Returns, in order, an Enqueued
     * or the Duplicate/AlreadyEnqueued refusal of each.
     *
     * Before anything is sent, an invalid or too large job throws, and so does LibraryNotLoaded when a job needs the
     * function library (later, unique, once-only) and Redis lacks it (FCALL hoopoe_library_version 0 first). The jobs
     * are sent as one transaction (MULTI, the jobs, EXEC, in one pipeline), so that BatchFailed can say of each job
     * whether it was written:
     * - a refusal Redis makes before running a command (OOM, NOPERM, READONLY, MISCONF, NOREPLICAS) discards the whole
     *   transaction: nothing is written, and every result is a HoopoeException naming the refusal;
     * - a refusal while running (WRONGTYPE: the queue's key holds something else) is that job's alone: the others are
     *   written, and its result is its HoopoeException.
 * A MULTI Redis refuses (an ACL without `+multi +exec`, docs/operating.md) opens no transaction: the jobs after it
 * run one by one as they arrive, so the HoopoeException says "MULTI refused (…)" and that any job may be in.
     * Without the transaction, phpredis threw the first of the former as a RedisException and dropped every reply, and
     * the jobs before and after the refused one were written unreported. A RedisException from the pipeline (a lost
     * connection, a read timeout) means any of its jobs may be in.
     *
     * @param list<array<string, mixed>> $jobs
     * @return list<Enqueued|HoopoeException>
     * @throws InvalidJob|TooLarge|LibraryNotLoaded|BatchFailed
     */
    public function enqueueBatch(array $jobs): array
    {
        $this->atomicOnly();
        $prepared = [];
        foreach ($jobs as $job) {
            self::refuseUnknown($job, ['type', 'payload', ...self::OPTIONS]);
            $prepared[] = $this->prepare((string) ($job['type'] ?? ''), $job['payload'] ?? null, $job);
        }
        foreach ($prepared as $job) {
            $this->remember($job);
        }
        if ($prepared === []) {
            return [];
        }
        if (array_filter($prepared, static fn (array $job): bool => $job['keys'] !== null) !== []) {
            $this->checkLibrary();
        }
        $this->redis->clearLastError();
        $pipe = $this->redis->multi(\Redis::PIPELINE);
        $pipe->rawCommand('MULTI');
        foreach ($prepared as $job) {
            if ($job['keys'] === null) {
                $pipe->rawCommand('XADD', $this->key($job['queue'], 'stream'), '*', 'job', $job['body']);
            } else {
                $pipe->rawCommand('FCALL', self::ENQUEUE_FUNCTION, count($job['keys']), ...$job['keys'], ...$job['args']);
            }
        }
        $pipe->rawCommand('EXEC');
        try {
            $piped = $pipe->exec();
        } catch (\RedisException $e) {
            // No answer: refusal() reconnects and throws it on (any of the jobs may be in, as for one enqueue).
            $refusal = $this->refusal($e);
            $causes = [];
            for ($cause = $e; $cause !== null; $cause = $cause->getPrevious()) {
                $causes[] = $cause->getMessage();
            }
            // phpredis chains the pipeline's error replies, the first innermost: MULTI's own, when it was refused.
            if (self::refusesMulti((string) end($causes))) {
                throw self::multiRefused((string) end($causes), $e);
            }
            if (!str_starts_with($refusal, 'EXECABORT')) {
                // An error reply phpredis throws from inside EXEC's (the enqueue function's own "HOOPOE ..." check, which
                // this client's checks should have made first): the transaction ran, and phpredis dropped the replies.
                throw new HoopoeException("Redis ran the batch and refused a job of it ($refusal); phpredis drops every other reply "
                    . 'when it throws one, so which jobs were written is not known: any may be in', 0, $e);
            }
            // EXECABORT chains the refusals of the commands it discarded (the first is the innermost): name that one.
            return $this->noneWritten($prepared, 'Redis refused the batch before running it, and a batch is one transaction: '
                . (count($causes) > 1 ? end($causes) : $refusal));
        }
        // MULTI's and each job's QUEUED (true), then EXEC's reply: one per job, or none when EXEC found a key WATCHed on
        // this connection changed (phpredis gives its nil as []) and ran nothing. A MULTI refused without a throw is false.
        if (is_array($piped) && ($piped[0] ?? null) === false) {
            $lastError = (string) $this->redis->getLastError();
            $this->redis->clearLastError();
            throw self::multiRefused($lastError !== '' ? $lastError : 'an error reply', null);
        }
        $replies = is_array($piped) ? end($piped) : null;
        if (!is_array($replies) || count($replies) !== count($prepared)) {
            return $this->noneWritten($prepared, 'EXEC ran none of the batch (a key WATCHed on this connection changed): send it again');
        }
        $lastError = (string) $this->redis->getLastError();  // a pipeline keeps the last error reply's text only
        $this->redis->clearLastError();
        $results = [];
        $first = null;
        // A refusal comes back as false in EXEC's reply, and only the last one's text is kept. The call is not sent again
        // for its text: the script may have written before it failed (a once-key taken, then its XADD refused with
        // WRONGTYPE), and the second call read that key as this job's own and reported a job never written as enqueued.
        $refusals = count(array_filter($replies, static fn (mixed $reply): bool => $reply === false));
        $refusal = $refusals > 1 ? "$lastError (the last of $refusals refusals in this batch: phpredis keeps only its text)" : $lastError;
        foreach ($prepared as $i => $job) {
            $reply = $replies[$i] ?? false;
            if ($job['keys'] === null) {
                $result = $reply === false ? new HoopoeException('XADD failed: ' . $refusal) : new Enqueued('enqueued', $job['id'], $job['queue']);
            } else {
                try {
                    $result = $this->result($reply === false ? $refusal : $reply, $job);
                } catch (HoopoeException $e) {
                    $result = $e;
                }
            }
            if ($result instanceof HoopoeException && !$result instanceof Duplicate && !$result instanceof AlreadyEnqueued) {
                $first ??= $result;
            }
            $results[] = $result;
        }
        if ($first !== null) {
            throw new BatchFailed($results, $first);
        }
        return $results;
    }

    /** Whether $reply is Redis refusing MULTI itself (NOPERM names the command: "... to run the 'multi' command"). */
    private static function refusesMulti(string $reply): bool
    {
        return preg_match("/ the 'multi' command/i", $reply) === 1;
    }

    /**
     * The batch's MULTI was refused, so no transaction was opened: Redis ran each job as it arrived (the XADDs and FCALLs
     * are written, each on its own) and then refused EXEC. It cannot be undone, and sending the batch again doubles it.
     */
    private static function multiRefused(string $refusal, ?\Throwable $previous): HoopoeException
    {
        return new HoopoeException("MULTI refused ($refusal): the jobs ran one by one, any may be in (a batch is one transaction; "
            . "give this Redis user +multi +exec, docs/operating.md \"Redis ACL\"), so do not send it again as it is", 0, $previous);
    }

    /**
     * @param list<array<string, mixed>> $prepared
     * @throws BatchFailed whose every result is a HoopoeException saying $why (no job of the batch was written)
     */
    private function noneWritten(array $prepared, string $why): never
    {
        $results = array_map(static fn (): HoopoeException => new HoopoeException("not written: $why"), $prepared);
        throw new BatchFailed($results, $results[0]);
    }

    /**
     * @param array<array-key, mixed> $options
     * @param list<string> $known
     * @throws InvalidJob naming the first key not in $known, and listing $known
     */
    private static function refuseUnknown(array $options, array $known): void
    {
        foreach (array_keys($options) as $name) {
            if (!in_array($name, $known, true)) {
                throw new InvalidJob((string) $name, 'unknown option ' . json_encode((string) $name, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES)
                    . ': the names are ' . implode(', ', $known) . " ('in' is a delay in seconds, 'at' a time in Unix seconds)");
            }
        }
    }

    /**
     * Throws LibraryNotLoaded when Redis lacks hoopoe's function library (or functions: Redis < 7). Plain FCALL of the
     * read-only version function: the enqueuer's ACL (docs/operating.md) allows FCALL, not FCALL_RO.
     */
    private function checkLibrary(): void
    {
        $this->redis->clearLastError();
        try {
            $reply = $this->redis->rawCommand('FCALL', 'hoopoe_library_version', 0);
            $error = $reply === false ? (string) $this->redis->getLastError() : '';
        } catch (\RedisException $e) {  // phpredis throws some error replies, returns false for others
            [$reply, $error] = [false, $this->refusal($e)];
        }
        $this->redis->clearLastError();
        if ($reply === false) {
            throw LibraryNotLoaded::fromReply($error) ?? new HoopoeException('FCALL hoopoe_library_version failed: ' . $error);
        }
    }

    /**
     * @param array<string, mixed> $o
     * @return array{id: string, queue: string, body: string, keys: list<string>|null, args: list<string>, scheduled: bool, notify: bool}
     */
    private function prepare(string $type, array|object|null $payload, array $o): array
    {
        $now = microtime(true);
        $id = isset($o['id']) ? (string) $o['id'] : self::newId($now);
        // null is "not given": the type's queue, from the table Jobs' helpers use (jobs/PROTOCOL.md, "Which queue"), as
        // `hoopoe enqueue` picks it; "default" sent a freecredit.request where a worker serving `critical` only never
        // looked. '' is refused, as by the workers: it sent the job to "default".
        $queue = isset($o['queue']) ? (string) $o['queue'] : Jobs::QUEUES[$type] ?? 'default';
        if ($queue === '') {
            throw new InvalidJob('queue', "queue must be 1-64 characters from A-Z a-z 0-9 . _ -, not starting with . and without .. (got \"\")");
        }
        $runAt = null;
        if (isset($o['at'], $o['in'])) {
            throw new InvalidJob('run_at', 'give at (a time) or in (seconds from now), not both');
        }
        if (isset($o['at'])) {
            $runAt = $o['at'];
        } elseif (isset($o['in'])) {
            if (!is_int($o['in']) && !is_float($o['in']) || $o['in'] < 0) {
                throw new InvalidJob('run_at', 'a delay must be seconds >= 0');
            }
            $runAt = $now + $o['in'];
        }
        if ($runAt !== null) {
            if (($problem = Envelope::timeProblem('run_at', $runAt)) !== null) {
                throw new InvalidJob('run_at', $problem);
            }
            if ($runAt <= $now) {
                $runAt = null;
            }
        }
        $env = ['id' => $id, 'type' => $type, 'queue' => $queue, 'payload' => $payload ?? [], 'attempt' => 0, 'enqueued_at' => $now];
        if ($runAt !== null) {
            $env['run_at'] = (float) $runAt;
        }
        $uniqueKey = $o['unique_key'] ?? null;
        $onceKey = $o['once_key'] ?? null;
        if ($uniqueKey !== null) {
            $env['unique_key'] = $uniqueKey;
        }
        foreach (['unique_for', 'max_attempts', 'timeout'] as $field) {
            if (isset($o[$field])) {
                $env[$field] = $o[$field];
            }
        }
        if (!empty($o['notify'])) {
            $env['notify'] = true;
        }
        $body = Envelope::encodeChecked($env);
        $problem = Envelope::problemInText($body, PHP_INT_MAX) ?? Envelope::optionProblem($o, $runAt, $now);
        if ($problem !== null) {
            throw new InvalidJob($problem[0], $problem[1]);
        }
        if (strlen($body) > $this->maxBytes) {
            throw new TooLarge(strlen($body), $this->maxBytes);
        }
        $onceFor = $o['once_for'] ?? self::ONCE_DEFAULT;
        if ($runAt === null && $uniqueKey === null && $onceKey === null) {
            return ['id' => $id, 'queue' => $queue, 'body' => $body, 'keys' => null, 'args' => [], 'scheduled' => false,
                'notify' => isset($env['notify'])];
        }
        $uniqueSeconds = '';
        if ($uniqueKey !== null) {
            $lock = isset($o['unique_for']) ? (float) $o['unique_for'] : max(0.0, ($runAt ?? $now) - $now) + self::DAY;
            $uniqueSeconds = (string) (int) ceil($lock);
        }
        $keys = [
            $this->key($queue, 'stream'), $this->key($queue, 'scheduled'), $this->key($queue, 'scheduled:jobs'),
            $this->key($queue, 'unique:' . ($uniqueKey ?? '-')), $this->key($queue, 'once:' . ($onceKey ?? '-')),
        ];
        $args = [
            $body, $id, $runAt !== null ? sprintf('%.6F', $runAt) : '0', $uniqueSeconds,
            $onceKey !== null ? (string) (int) ceil((float) $onceFor) : '', (string) $this->maxBytes,
        ];
        return ['id' => $id, 'queue' => $queue, 'body' => $body, 'keys' => $keys, 'args' => $args, 'scheduled' => $runAt !== null,
            'notify' => isset($env['notify'])];
    }

    /**
     * FCALL hoopoe_enqueue 5 <keys> <args>: the script lives in Redis, in the library hoopoe loads, so this client
     * ships no copy of it. Returns the reply or the error text.
     */
    private function fcall(array $keys, array $args): mixed
    {
        $this->redis->clearLastError();
        try {
            $reply = $this->redis->rawCommand('FCALL', self::ENQUEUE_FUNCTION, count($keys), ...$keys, ...$args);
            $error = $reply === false ? (string) $this->redis->getLastError() : '';
        } catch (\RedisException $e) {  // phpredis throws some error replies, returns false for others
            // No answer (a read timeout, a lost connection): the job may be in, and refusal() throws it on, as the README
            // says; made a refusal ("the enqueue function failed"), a caller sent an enqueueIn job again and it ran twice.
            [$reply, $error] = [false, $this->refusal($e)];
        }
        $this->redis->clearLastError();
        return $reply !== false ? $reply : $error;
    }

    /**
     * After a call that got no answer, a fresh connection on the caller's database. phpredis 5 keeps the socket of a
     * rawCommand that timed out, and the late reply is read as the next command's: the caller's next GET returned the
     * FCALL's reply, and every reply after it was one behind. The socket is closed; phpredis opens a new one on the next
     * command, with the password but on database 0 (so is the one its own BLPOP and XREAD close on a read timeout), so
     * the database is selected again. A SELECT that cannot connect throws: the caller was about to learn it anyway.
     */
    private function reconnectAfterNoAnswer(): void
    {
        $db = (int) $this->redis->getDbNum();
        $this->redis->close();
        if ($db !== 0) {
            $this->redis->select($db);
        }
    }

    /**
     * Whether a blocking read ended at the connection's read timeout, not for a failure: phpredis says "read error on
     * connection" for its own commands and "socket error on read socket" for rawCommand's.
     */
    private static function isReadTimeout(\RedisException $e): bool
    {
        return preg_match('/read error on connection|socket error on read socket|timed out/i', $e->getMessage()) === 1;
    }

    /**
     * Runs one call of $command on the caller's connection. Redis's refusal throws HoopoeException ("$command failed:
     * <Redis's error>"), whether phpredis returned false for it (ERR, WRONGTYPE; NOPERM to BLPOP, XREAD) or threw it
     * (OOM, NOPERM, READONLY, MISCONF, NOREPLICAS: refusal()). A call that got no answer makes the connection usable
     * again (reconnectAfterNoAnswer) and its RedisException goes on to the caller.
     *
     * @throws HoopoeException|\RedisException
     */
    private function guarded(string $command, callable $call): mixed
    {
        $this->redis->clearLastError();
        try {
            $reply = $call();
        } catch (\RedisException $e) {
            throw new HoopoeException("$command failed: " . $this->refusal($e), 0, $e);
        }
        $error = $reply === false ? $this->redis->getLastError() : null;
        $this->redis->clearLastError();
        if (is_string($error) && $error !== '') {
            throw new HoopoeException("$command failed: $error");
        }
        return $reply;
    }

    /**
     * Redis's error reply that $e is, or, when $e is a call that got no answer, reconnects (reconnectAfterNoAnswer) and
     * throws $e on. phpredis 5 returns false for an error reply coded ERR, WRONGTYPE, NOSCRIPT, BUSYGROUP or NOGROUP and
     * throws any other (OOM, NOPERM, READONLY, MISCONF, NOREPLICAS, LOADING, EXECABORT) as a RedisException with the
     * reply as its message, the same class as a lost connection's. They are told apart by the connection's last error:
     * phpredis records an error reply there before throwing it, and records nothing for a read timeout or a lost
     * connection ("read error on connection", "socket error on read socket", "Connection lost", "Redis server went
     * away"). So a RedisException with the last error set (cleared before the call) is Redis's refusal, and the command
     * did not run; one without is no answer, and it may have. The message is checked too (isTransportFailure), so a last
     * error left by an earlier reply is never read as this one's.
     *
     * @throws \RedisException $e itself, when it is no answer
     */
    private function refusal(\RedisException $e): string
    {
        $recorded = $this->redis->getLastError();
        $this->redis->clearLastError();
        if (is_string($recorded) && $recorded !== '' && !self::isTransportFailure($e)) {
            return $e->getMessage();
        }
        $this->reconnectAfterNoAnswer();
        throw $e;
    }

    /**
     * Throws InvalidJob (field "connection") unless the caller's \Redis is in phpredis's ATOMIC mode, before anything is
     * sent. In MULTI or pipeline mode phpredis queues a command and returns the \Redis itself instead of Redis's reply:
     * read as a reply, an XADD never written (the caller's discard() or a failed exec() decides) was reported Enqueued,
     * and an enqueueIn threw "the enqueue function failed" though exec() then wrote it (a retry made two jobs).
     */
    private function atomicOnly(): void
    {
        try {
            $mode = $this->redis->getMode();
        } catch (\RedisException) {  // not connected: the command itself will say so
            return;
        }
        if ($mode !== \Redis::ATOMIC) {
            $name = match ($mode) {
                \Redis::MULTI => 'MULTI',
                \Redis::PIPELINE => 'pipeline',
                default => "mode $mode",
            };
            throw new InvalidJob('connection', "the \\Redis connection given to Hoopoe\\Client is in $name mode (getMode() $mode, "
                . 'not \\Redis::ATOMIC): phpredis would queue the command and return no reply, so nothing was sent. Call exec() or '
                . 'discard() first, or give Hoopoe a connection of its own');
        }
    }

    /** Whether phpredis threw for want of an answer (the call may have run), not for Redis's error reply. */
    private static function isTransportFailure(\RedisException $e): bool
    {
        return preg_match('/socket error|read error|went away|timed out|connection (lost|refused|closed|reset)/i', $e->getMessage()) === 1;
    }

    /** @param array{id: string, queue: string, scheduled: bool} $job the job the reply is for */
    private function result(mixed $reply, array $job): Enqueued|HoopoeException
    {
        if (!is_array($reply) || count($reply) !== 2) {
            $text = is_string($reply) ? $reply : (string) $this->redis->getLastError();
            if (str_contains($text, 'HOOPOE too large')) {
                return new TooLarge(-1, $this->maxBytes);
            }
            $missing = LibraryNotLoaded::fromReply($text);
            if ($missing !== null) {
                return $missing;
            }
            throw new HoopoeException('the enqueue function failed: ' . $text);
        }
        [$kind, $id] = [(string) $reply[0], (string) $reply[1]];
        if (($kind === 'duplicate' || $kind === 'once') && $id === $job['id']) {
            // The key is held by this very job: the same call sent again (the caller's retry after a lost reply).
            return new Enqueued($job['scheduled'] ? 'scheduled' : 'enqueued', $id, $job['queue']);
        }
        return match ($kind) {
            'duplicate' => new Duplicate($id),
            'once' => new AlreadyEnqueued($id),
            default => new Enqueued($kind, $id, $job['queue']),
        };
    }

    /**
     * The final outcome of a job enqueued with 'notify' => true: ['id', 'type', 'queue', 'outcome', 'attempt',
     * 'error'?] with outcome processed, discarded, deferred, dead or cancelled; null when none came within $timeout seconds. Kept an hour
     * after the job settled, and popped by the first waiter.
     *
     * @param Enqueued|string $id the Enqueued that enqueue() returned (it names the job's queue), or the job's id
     * @param string|null $queue the queue the job went to; null: the Enqueued's, or for an id the queue this Client sent it
     *     to (it keeps those of the last REMEMBERED notify jobs it enqueued)
     * @return array<string, mixed>|null
     * @throws InvalidJob (field "queue") before any wait, when the queue is not known (an id this Client did not enqueue
     *     with notify, and no $queue) or $queue is not the Enqueued's: the answer is under the job's queue, and "default"
     *     for every job waited the whole timeout for an answer that was in `critical` (freecredit.request's queue)
     */
    public function waitFor(Enqueued|string $id, ?string $queue = null, float $timeout = 10.0): ?array
    {
        $this->atomicOnly();
        [$id, $queue] = $this->answerQueue($id, $queue);
        $popped = $this->blPop($this->key($queue, "answer:$id"), $timeout);
        if ($popped === null) {
            return null;
        }
        unset($this->notifyQueues[$id]);  // answered: the first waiter pops it, no second wait finds it
        return json_decode($popped, true, 512, JSON_THROW_ON_ERROR);
    }

    /** Keeps the queue of a notify job for waitFor($id) without a queue; the oldest goes past REMEMBERED. */
    private function remember(array $job): void
    {
        if (!$job['notify']) {
            return;
        }
        unset($this->notifyQueues[$job['id']]);  // set again: the newest
        $this->notifyQueues[$job['id']] = $job['queue'];
        while (count($this->notifyQueues) > self::REMEMBERED) {
            unset($this->notifyQueues[array_key_first($this->notifyQueues)]);
        }
    }

    /**
     * The job id and queue of waitFor's arguments.
     *
     * @return array{0: string, 1: string}
     * @throws InvalidJob (field "queue") when the queue is not known
     */
    private function answerQueue(Enqueued|string $job, ?string $queue): array
    {
        $known = $job instanceof Enqueued ? $job->queue : null;
        $id = $job instanceof Enqueued ? $job->id : $job;
        if ($queue !== null) {
            if ($known !== null && $queue !== $known) {
                throw new InvalidJob('queue', "job $id went to queue \"$known\", not \"$queue\": pass the Enqueued alone");
            }
            if ($queue === '') {
                throw new InvalidJob('queue', 'queue must be 1-64 characters from A-Z a-z 0-9 . _ -, not starting with . and without .. (got "")');
            }
            return [$id, $queue];
        }
        $known ??= $this->notifyQueues[$id] ?? null;
        if ($known === null) {
            throw new InvalidJob('queue', "which queue job $id went to is not known: pass the Enqueued that enqueue() returned, or the "
                . "queue (a type's queue: Jobs::QUEUES, else 'default'); this Client keeps the queues of the last " . self::REMEMBERED
                . ' notify jobs it enqueued');
        }
        return [$id, $known];
    }

    /**
     * BLPOP in slices of at most a second until $timeout: a wait must not depend on the connection's read timeout
     * (a shorter one ends a long BLPOP with "read error on connection"). Returns the popped value or null.
     */
    private function blPop(string $key, float $timeout): ?string
    {
        $deadline = microtime(true) + max(0.0, $timeout);
        do {
            try {
                $popped = $this->guarded('BLPOP', fn () => $this->redis->blPop([$key], 1));  // phpredis 5 takes whole seconds
            } catch (\RedisException $e) {  // guarded() reconnected
                if (!self::isReadTimeout($e)) {
                    throw $e;
                }
                $popped = null;
            }
            if (is_array($popped) && count($popped) === 2) {
                return $popped[1];
            }
        } while (microtime(true) < $deadline);
        return null;
    }

    /**
     * The answer of a freecredit.request (status granted|rejected, ...), or null when none came within $timeout
     * seconds. BLPOPs the request's notify list, then reads the result key (someone else may have popped it). The keys
     * are the request id's alone: compare the answer's user_id with the user you asked for (an id another user's
     * request was decided under gives that user's answer here). Jobs::freeCredit does, and throws RequestIDReused.
     *
     * @return array<string, mixed>|null
     */
    public function waitFreeCredit(string $requestId, float $timeout = 10.0): ?array
    {
        $this->atomicOnly();
        $popped = $this->blPop("{$this->namespace}:{freecredit}:notify:$requestId", $timeout);
        if ($popped !== null) {
            return json_decode($popped, true, 512, JSON_THROW_ON_ERROR);
        }
        return $this->freeCreditAnswer($requestId);
    }

    /**
     * The answer already decided under $requestId (as waitFreeCredit's), or null when none is: one GET of the
     * request's result key, kept FREECREDIT_RESULT_TTL_SECONDS (7 days) after the decision. Jobs::freeCredit asks it
     * before enqueueing, so a request id already answered (for this user or another) is settled at once.
     *
     * @return array<string, mixed>|null
     */
    public function freeCreditAnswer(string $requestId): ?array
    {
        $this->atomicOnly();
        $stored = $this->guarded('GET', fn () => $this->redis->get("{$this->namespace}:{freecredit}:result:$requestId"));
        return is_string($stored) ? json_decode($stored, true, 512, JSON_THROW_ON_ERROR) : null;
    }

    public function eventsKey(): string
    {
        return "{$this->namespace}:events";
    }

    /**
     * Events after the stream id $after ("$" = only new ones; then pass the last Event's id back).
     *
     * @return list<Event>
     */
    public function readEvents(string $after = '0-0', int $count = 100, ?int $blockMs = null): array
    {
        $this->atomicOnly();
        if ($blockMs === null) {
            return self::events($this->guarded('XREAD', fn () => $this->redis->xRead([$this->eventsKey() => $after], $count)));
        }
        if ($after === '$') {  // waited for in slices: pin "now" to an id, or events between two slices would be missed
            $last = $this->guarded('XREVRANGE', fn () => $this->redis->xRevRange($this->eventsKey(), '+', '-', 1));
            $after = is_array($last) && $last !== [] ? (string) array_key_first($last) : '0-0';
        }
        return $this->sliced(fn (int $ms) => self::events($this->guarded('XREAD', fn () => $this->redis->xRead([$this->eventsKey() => $after], $count, $ms))), $blockMs);
    }

    /**
     * Creates a consumer group on the events stream (once, at deploy): from $start ("$" = new events only, "0" =
     * everything kept). Returns false when it exists already.
     */
    public function createEventsGroup(string $group, string $start = '$'): bool
    {
        $this->atomicOnly();
        $this->redis->clearLastError();
        try {
            $created = $this->redis->xGroup('CREATE', $this->eventsKey(), $group, $start, true);
            $error = (string) $this->redis->getLastError();
        } catch (\RedisException $e) {  // a refusal (NOPERM, READONLY, OOM); no answer is thrown on
            [$created, $error] = [false, $this->refusal($e)];
        }
        $this->redis->clearLastError();
        if ($created === false && !str_contains($error, 'BUSYGROUP')) {
            throw new HoopoeException("XGROUP CREATE failed: $error");
        }
        return $created !== false;
    }

    /**
     * New events for $consumer of $group (XREADGROUP ... >): a restart resumes where the group stopped. The first
     * reads of this object give back what $consumer read before but did not acknowledge (a reader that died between
     * reading and ackEvents()), so keep the consumer name stable (e.g. the host name). Acknowledge each handled one.
     *
     * @return list<Event>
     */
    public function readEventsGroup(string $group, string $consumer, int $count = 100, ?int $blockMs = null): array
    {
        $this->atomicOnly();
        $pair = "$group\0$consumer";
        if (!isset($this->drained[$pair])) {
            $after = '0';
            while (true) {
                $reply = $this->guarded('XREADGROUP', fn () => $this->redis->xReadGroup($group, $consumer, [$this->eventsKey() => $after], $count));
                $entries = is_array($reply) ? ($reply[$this->eventsKey()] ?? []) : [];
                if ($entries === []) {
                    break;
                }
                // Trimmed by MAXLEN while pending, an entry comes back without fields: nothing to deliver, so it is
                // acknowledged and the catch-up goes on past it. Skipped and left pending, a first batch of only those
                // ended the catch-up, and the unacknowledged events after them were never given back.
                $trimmed = array_map('strval', array_keys(array_filter($entries, static fn (mixed $fields): bool => !is_array($fields) || $fields === [])));
                if ($trimmed !== []) {
                    $this->guarded('XACK', fn () => $this->redis->xAck($this->eventsKey(), $group, $trimmed));
                }
                $pending = self::events($reply);
                if ($pending !== []) {
                    return $pending;
                }
                $after = (string) array_key_last($entries);
            }
            $this->drained[$pair] = true;
        }
        $streams = [$this->eventsKey() => '>'];
        if ($blockMs === null) {
            return self::events($this->guarded('XREADGROUP', fn () => $this->redis->xReadGroup($group, $consumer, $streams, $count)));
        }
        return $this->sliced(fn (int $ms) => self::events($this->guarded('XREADGROUP', fn () => $this->redis->xReadGroup($group, $consumer, $streams, $count, $ms))), $blockMs);
    }

    /**
     * Calls $read(ms) in slices of at most a second until it returns events or $blockMs passed: like blPop, a wait
     * must not depend on the connection's read timeout (Laravel's `read_timeout`; a shorter one ends a long
     * XREAD BLOCK with "read error on connection").
     *
     * @param callable(int): list<Event> $read
     * @return list<Event>
     */
    private function sliced(callable $read, int $blockMs): array
    {
        $deadline = microtime(true) + max(0, $blockMs) / 1000;
        do {
            $remaining = (int) ceil(($deadline - microtime(true)) * 1000);
            try {
                $found = $read(max(1, min(1000, $remaining)));
            } catch (\RedisException $e) {  // $read's guarded() reconnected
                if (!self::isReadTimeout($e)) {
                    throw $e;
                }
                $found = [];
            }
            if ($found !== [] || microtime(true) >= $deadline) {  // not "the last slice": a read timeout may cut it short
                return $found;
            }
        } while (true);
    }

    /** Marks events handled by $group (XACK); returns how many were pending. */
    public function ackEvents(string $group, string ...$ids): int
    {
        $this->atomicOnly();
        return $ids === [] ? 0 : (int) $this->guarded('XACK', fn () => $this->redis->xAck($this->eventsKey(), $group, $ids));
    }

    /** @return list<Event> */
    private static function events(mixed $reply): array
    {
        $events = [];
        foreach (is_array($reply) ? $reply : [] as $entries) {
            foreach ($entries as $id => $fields) {
                if (is_array($fields) && $fields !== []) {  // an entry trimmed by MAXLEN while pending has no fields
                    $events[] = Event::fromEntry((string) $id, $fields);
                }
            }
        }
        return $events;
    }
}
