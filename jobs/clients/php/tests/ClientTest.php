<?php

declare(strict_types=1);

namespace Hoopoe\Tests;

use Hoopoe\Client;
use Hoopoe\Enqueued;
use Hoopoe\Exception\AlreadyEnqueued;
use Hoopoe\Exception\BatchFailed;
use Hoopoe\Exception\HoopoeException;
use Hoopoe\Exception\InvalidJob;
use Hoopoe\Exception\RequestIDReused;
use Hoopoe\Exception\TooLarge;
use Hoopoe\Jobs;

/** The client's own behaviour against REDIS_URL's Redis (with the function library a worker loaded). */
final class ClientTest
{
    private \Redis $redis;

    public function __construct()
    {
        $this->redis = Check::redis();
    }

    private function client(string $name): Client
    {
        return new Client($this->redis, "$name-php-" . bin2hex(random_bytes(4)));
    }

    /** Pushes the answer the worker would push for $id on $queue (jobs/PROTOCOL.md, "Answers"). */
    private function answer(Client $c, string $id, string $queue): void
    {
        $this->redis->rPush($c->key($queue, "answer:$id"), json_encode(['id' => $id, 'type' => 'freecredit.request', 'queue' => $queue,
            'outcome' => 'processed', 'attempt' => 1]));
    }

    /**
     * waitFor finds the job's queue: the Enqueued names it, and the Client remembers the queues of the notify jobs it
     * enqueued. It waited on "default" for every job: a freecredit.request (queue critical) enqueued with notify and
     * waited for without a queue waited its whole timeout, its answer in critical's key. An id whose queue is not known
     * is refused before any wait; a queue given is waited on, as before. No worker serves this namespace: the answers
     * are pushed here as the worker pushes them (WorkerTest waits for a real worker's).
     */
    public function testWaitForFindsTheJobsQueue(): void
    {
        $c = $this->client('wait');
        $fc = fn (string $r, array $options = []) => $c->enqueue('freecredit.request', ['user_id' => 'u', 'request_id' => $r], $options);
        Check::equal(['critical', 'low', 'critical'], [$fc('r0')->queue, $fc('r1', ['queue' => 'low'])->queue, $fc('r2', ['in' => 600])->queue], 'Enqueued->queue');
        $batch = $c->enqueueBatch([['type' => 'freecredit.request', 'payload' => ['user_id' => 'u', 'request_id' => 'r3']],
            ['type' => 'diag.record', 'payload' => [], 'unique_key' => 'u1']]);
        Check::equal(['critical', 'default'], [$batch[0]->queue, $batch[1]->queue], 'a batch\'s queues');

        $job = $fc('r4', ['notify' => true]);
        $this->answer($c, $job->id, 'critical');
        $started = microtime(true);
        Check::equal($job->id, $c->waitFor($job->id, timeout: 3)['id'] ?? null, 'the id alone: this Client sent it to critical');
        Check::that(microtime(true) - $started < 2, 'not after a wait on another queue');
        $second = $fc('r5', ['notify' => true]);
        $this->answer($c, $second->id, 'critical');
        Check::equal($second->id, (new Client($this->redis, $c->namespace))->waitFor($second, timeout: 3)['id'] ?? null, 'the Enqueued, another Client');
        $third = $fc('r6', ['notify' => true]);
        $this->answer($c, $third->id, 'critical');
        Check::equal($third->id, $c->waitFor($third, 'critical', 3)['id'] ?? null, 'the Enqueued and its queue');
        $this->answer($c, 'by-hand', 'low');
        Check::equal('by-hand', $c->waitFor('by-hand', 'low', 3)['id'] ?? null, 'a queue given');

        $started = microtime(true);
        $refusals = [
            'an id never enqueued here' => fn () => $c->waitFor('never-here', timeout: 5),
            'a job without notify' => fn () => $c->waitFor($fc('r7')->id, timeout: 5),
            'another Client, the id alone' => fn () => (new Client($this->redis, $c->namespace))->waitFor($fc('r8', ['notify' => true])->id, timeout: 5),
            'not the Enqueued\'s queue' => fn () => $c->waitFor($fc('r9', ['notify' => true]), 'default', 5),
            'an empty queue' => fn () => $c->waitFor('x', '', 5),
        ];
        foreach ($refusals as $what => $call) {
            $e = self::thrown($what, $call);
            Check::that($e instanceof InvalidJob && $e->field() === 'queue', "$what: InvalidJob (queue), got " . get_class($e) . ': ' . $e->getMessage());
        }
        Check::that(microtime(true) - $started < 1, 'refused before waiting');
    }

    /**
     * A duplicate or once reply that names the id this call sent is the call's own job, enqueued before (the same call
     * sent again after a lost reply): Enqueued, not a refusal. Another job's call is still refused.
     */
    public function testTheSameCallSentTwiceIsItsOwnJob(): void
    {
        $c = $this->client('again');
        $payload = ['key' => 'k', 'member' => 'm'];
        foreach ([['unique_key' => 'again-u', 'id' => 'again-1'], ['once_key' => 'again-o', 'id' => 'again-2']] as $options) {
            $first = $c->enqueue('diag.record', $payload, $options);
            Check::equal(new Enqueued('enqueued', $options['id'], 'default'), $first, 'the first call');
            Check::equal($first, $c->enqueue('diag.record', $payload, $options), 'the same call again');
        }
        $later = ['unique_key' => 'again-later', 'in' => 600, 'id' => 'again-3'];
        Check::equal(new Enqueued('scheduled', 'again-3', 'default'), $c->enqueue('diag.record', $payload, $later), 'a later one');
        Check::equal(new Enqueued('scheduled', 'again-3', 'default'), $c->enqueue('diag.record', $payload, $later), 'a later one again');
        $results = $c->enqueueBatch([
            ['type' => 'diag.record', 'payload' => $payload, 'once_key' => 'again-o', 'id' => 'again-2'],
            ['type' => 'diag.record', 'payload' => $payload, 'once_key' => 'again-o', 'id' => 'other'],
        ]);
        Check::equal(new Enqueued('enqueued', 'again-2', 'default'), $results[0], 'in a batch');
        Check::that($results[1] instanceof AlreadyEnqueued && $results[1]->existingId === 'again-2', 'another job is refused');
    }

    /**
     * The names of $options are Client::OPTIONS (a batch job's also type and payload): Python's `delay`, the envelope's
     * `run_at` or a camel-case `uniqueKey` throw InvalidJob naming it, before anything is sent. They were skipped, and
     * the job enqueued to run now, with no lock.
     */
    public function testAnUnknownOptionIsRefused(): void
    {
        $c = $this->client('unknown');
        $payload = ['key' => 'k', 'member' => 'm'];
        foreach (['delay' => 600, 'run_at' => 4102444800, 'uniqueKey' => 'u', 'type' => 'diag.record'] as $name => $value) {
            $calls = ['enqueue' => fn () => $c->enqueue('diag.record', $payload, [$name => $value])];
            if ($name !== 'type') {  // a batch job's own name
                $calls['enqueueBatch'] = fn () => $c->enqueueBatch([['type' => 'diag.record', 'payload' => $payload, 'id' => 'u-plain'],
                    ['type' => 'diag.record', 'payload' => $payload, $name => $value]]);
            }
            foreach ($calls as $call => $send) {
                $thrown = null;
                try {
                    $returned = $send();
                } catch (HoopoeException $e) {
                    $thrown = $e;
                }
                Check::that($thrown instanceof InvalidJob, "$call $name: InvalidJob, got " . ($thrown === null ? json_encode($returned ?? null) : get_class($thrown)));
                Check::equal($name, $thrown->field(), "$call $name: the field");
                Check::that(str_contains($thrown->getMessage(), "\"$name\"") && str_contains($thrown->getMessage(), 'unique_key'),
                    "$call $name: names it and the known names: " . $thrown->getMessage());
            }
        }
        Check::equal(0, $this->redis->exists($c->key('default', 'stream'), $c->key('default', 'scheduled')), 'nothing written');
    }

    /** An XADD that Redis refuses (here WRONGTYPE: the stream's key holds a string) throws, naming Redis's error. */
    public function testARefusedXaddThrows(): void
    {
        $c = $this->client('wrongtype');
        $this->redis->set($c->key('default', 'stream'), 'not a stream');
        foreach (['enqueue' => fn () => $c->enqueue('diag.record', ['key' => 'k', 'member' => 'm']),
                  'enqueueBatch' => fn () => $c->enqueueBatch([['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => 'm']]])] as $call => $send) {
            $thrown = null;
            try {
                $returned = $send();
            } catch (HoopoeException $e) {
                $thrown = $e;
            }
            Check::that($thrown !== null, "$call: no exception, it returned " . json_encode($returned ?? null));
            Check::that(str_contains($thrown->getMessage(), 'WRONGTYPE'), "$call: " . $thrown->getMessage());
        }
        Check::equal('not a stream', $this->redis->get($c->key('default', 'stream')), 'the key is left as it was');
    }

    /**
     * Redis runs each job of a batch's pipeline on its own: one it refuses (WRONGTYPE) does not undo the others, and
     * the exception says which were written.
     */
    public function testAnErrorAfterABatchWasSentComesWithEveryJobsResult(): void
    {
        $c = $this->client('partial');
        $this->redis->set($c->key('broken', 'stream'), 'not a stream');
        $thrown = null;
        try {
            $c->enqueueBatch([
                ['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => '1'], 'id' => 'p-1'],
                ['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => '2'], 'id' => 'p-2', 'queue' => 'broken'],
                ['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => '3'], 'id' => 'p-3', 'once_key' => 'p'],
                ['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => '4'], 'id' => 'p-4', 'once_key' => 'p'],
            ]);
        } catch (HoopoeException $e) {
            $thrown = $e;
        }
        Check::that($thrown instanceof BatchFailed, 'BatchFailed, got ' . ($thrown === null ? 'nothing' : get_class($thrown) . ': ' . $thrown->getMessage()));
        Check::that(str_contains($thrown->getMessage(), 'WRONGTYPE'), $thrown->getMessage());
        $results = $thrown->results;
        Check::equal(new Enqueued('enqueued', 'p-1', 'default'), $results[0], 'written');
        Check::that($results[1] instanceof HoopoeException && $results[1] === $thrown->getPrevious(), 'the refused one');
        Check::equal(new Enqueued('enqueued', 'p-3', 'default'), $results[2], 'written after it');
        Check::that($results[3] instanceof AlreadyEnqueued, 'refused as before');
        Check::equal(2, $this->redis->xLen($c->key('default', 'stream')), 'p-1 and p-3 in the stream');
    }

    /**
     * A call with no answer (here a read timeout while Redis holds writes) may have run: it is the RedisException the
     * README promises ("may be in"), not a refusal, which said "not written" of a job that was.
     */
    public function testAnEnqueueWithNoAnswerIsARedisExceptionNotARefusal(): void
    {
        $url = parse_url(getenv('REDIS_URL') ?: 'redis://127.0.0.1:6379/0');
        $slow = new \Redis();
        $slow->connect($url['host'] ?? '127.0.0.1', $url['port'] ?? 6379, 2.0, null, 0, 0.5);
        // A database of its own, not 0: the connection phpredis opens again after a read timeout is on 0.
        $db = (int) ltrim($url['path'] ?? '/0', '/') === 7 ? 8 : 7;
        $slow->select($db);
        $marker = 'no-answer-php-marker-' . bin2hex(random_bytes(4));
        $slow->set($marker, 'this database', ['EX' => 60]);
        $c = new Client($slow, 'no-answer-php-' . bin2hex(random_bytes(4)));
        foreach (['a plain job' => fn () => $c->enqueue('diag.record', ['key' => 'k', 'member' => 'p']),
                  'one job' => fn () => $c->enqueueIn('diag.record', ['key' => 'k', 'member' => 'm'], 60),
                  'a batch' => fn () => $c->enqueueBatch([['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => 'b'], 'in' => 60]])] as $call => $send) {
            $this->redis->rawCommand('CLIENT', 'PAUSE', '1500', 'WRITE');
            $thrown = null;
            try {
                $send();
            } catch (\Throwable $e) {
                $thrown = $e;
            }
            usleep(1_600_000);
            Check::that($thrown instanceof \RedisException, "$call: RedisException, got " . ($thrown === null ? 'nothing' : get_class($thrown) . ': ' . $thrown->getMessage()));
            // The connection is still the caller's: its next command gets its own reply (not the late FCALL's), on its database.
            Check::equal('next', $slow->echo('next'), "$call: the next command's own reply");
            Check::equal('this database', $slow->get($marker), "$call: the caller's database");
        }
        $slow->del($marker);
    }

    /** A limit above the workers' 512 KiB is theirs: they bury a larger envelope, so it is refused before sending. */
    public function testALimitAboveTheWorkersIsTheWorkers(): void
    {
        $c = new Client($this->redis, 'limit-php-' . bin2hex(random_bytes(4)), 600_000);
        $thrown = null;
        try {
            $c->enqueue('diag.record', ['key' => 'k', 'member' => str_repeat('x', 550_000)]);
        } catch (TooLarge $e) {
            $thrown = $e;
        }
        Check::that($thrown instanceof TooLarge && str_contains($thrown->getMessage(), '524288'), $thrown === null ? 'written' : $thrown->getMessage());
    }

    /**
     * An empty plan (or credit) is a JSON object, as the handler reads it: PHP's [] went as an array, and the job died.
     */
    public function testAnEmptyRegistrationPlanIsSentAsAnObject(): void
    {
        $c = $this->client('empty-plan');
        $jobs = new Jobs($c, 'default');
        $jobs->sendinblueRegister(7, 's@example.com', 'A', 'B', 'C', 'pw', []);
        $jobs->sendinblueRegister(8, 's@example.com', 'A', 'B', 'C', 'pw', ['id' => '3', 'credit' => []]);
        $bodies = array_map(static fn (array $fields): string => $fields['job'], array_values($this->redis->xRange($c->key('default', 'stream'), '-', '+')));
        Check::equal(2, count($bodies), 'two jobs');
        Check::that(str_contains($bodies[0], '"plan":{}'), $bodies[0]);
        Check::that(str_contains($bodies[1], '"credit":{}'), $bodies[1]);
    }

    /**
     * A refused enqueue function in a batch is not sent again for its error's text: it took its once-key before its
     * XADD failed, and the second call read the key as this job's own and reported a job never written as enqueued.
     */
    public function testARefusedCallInABatchIsReportedRefusedNotSentAgain(): void
    {
        $c = $this->client('partial-once');
        $this->redis->set($c->key('broken', 'stream'), 'not a stream');
        $thrown = null;
        try {
            $c->enqueueBatch([
                ['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => '1'], 'id' => 'o-1'],
                ['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => '2'], 'id' => 'o-2', 'queue' => 'broken', 'once_key' => 'b'],
            ]);
        } catch (HoopoeException $e) {
            $thrown = $e;
        }
        Check::that($thrown instanceof BatchFailed, 'BatchFailed, got ' . ($thrown === null ? 'nothing' : get_class($thrown) . ': ' . $thrown->getMessage()));
        Check::that(str_contains($thrown->getMessage(), 'WRONGTYPE'), $thrown->getMessage());
        Check::equal(new Enqueued('enqueued', 'o-1', 'default'), $thrown->results[0], 'written');
        Check::that($thrown->results[1] instanceof HoopoeException, 'the refused one is reported refused');
    }

    /**
     * '' is unset, as the worker takes an empty HOOPOE_NAMESPACE (Laravel's env() gives '' for `HOOPOE_NAMESPACE=`):
     * the namespace is the default, and a Jobs queue of '' is each type's own queue.
     */
    public function testAnEmptyNamespaceOrQueueIsUnset(): void
    {
        Check::equal(Client::defaultNamespace(), (new Client($this->redis, ''))->namespace, "namespace ''");
        $saved = getenv('HOOPOE_NAMESPACE');
        putenv('HOOPOE_NAMESPACE=');
        try {
            Check::equal('hoopoe', (new Client($this->redis, ''))->namespace, "HOOPOE_NAMESPACE= and namespace ''");
        } finally {
            putenv($saved === false ? 'HOOPOE_NAMESPACE' : "HOOPOE_NAMESPACE=$saved");
        }
        $c = $this->client('unset-queue');
        $done = (new Jobs($c, ''))->requestFreeCredit('176', 'unset-queue-1');
        Check::equal(1, $this->redis->xLen($c->key('critical', 'stream')), 'freecredit.request on its queue, critical');
        Check::equal(0, $this->redis->exists($c->key('', 'stream')), "a queue named ''");
        Check::that($done->status === 'enqueued', 'enqueued');
    }

    /**
     * The worker refuses a namespace with a brace (its queues' keys carry {queue} as their hash tag), a space or a
     * control character (Sources/hoopoe/GlobalOptions.swift, namespaceProblem): so does the client.
     */
    public function testANamespaceTheWorkerRefusesIsRefused(): void
    {
        foreach (['{hoopoe}', 'hoo}poe', 'my app', "tab\there", "new\nline", "nbsp\u{a0}", "ideographic\u{3000}space", "del\x7f", "nul\x00"] as $bad) {
            $thrown = null;
            try {
                new Client($this->redis, $bad);
            } catch (InvalidJob $e) {
                $thrown = $e;
            }
            Check::that($thrown !== null && $thrown->field() === 'namespace' && str_contains($thrown->getMessage(), 'brace'),
                json_encode($bad) . ': ' . ($thrown?->getMessage() ?? 'accepted'));
        }
        foreach (['hoopoe', 'clients-123', 'a:b.c_d', 'هدهد'] as $good) {
            Check::equal($good, (new Client($this->redis, $good))->namespace, $good);
        }
    }

    /**
     * A value JSON cannot carry (NaN, Infinity, text that is not UTF-8: a Persian word cut mid-character) throws
     * InvalidJob naming its field, inside the HoopoeException family the README promises, not a JsonException.
     */
    public function testAPayloadJsonCannotCarryIsAnInvalidJob(): void
    {
        $c = $this->client('not-json');
        $cut = substr('سلام', 0, 3);  // one and a half characters: the second one's first byte alone
        foreach ([['x' => NAN], ['x' => [INF]], ['name' => $cut]] as $payload) {
            $thrown = null;
            try {
                $c->enqueue('diag.record', $payload);
            } catch (\Throwable $e) {
                $thrown = $e;
            }
            Check::that($thrown instanceof InvalidJob && $thrown->field() === 'payload' && str_contains($thrown->getMessage(), 'JSON'),
                'InvalidJob payload, got ' . ($thrown === null ? 'nothing' : get_class($thrown) . ': ' . $thrown->getMessage()));
        }
        $thrown = null;
        try {
            $c->enqueue('diag.record', [], ['unique_key' => "report:$cut"]);
        } catch (\Throwable $e) {
            $thrown = $e;
        }
        Check::that($thrown instanceof InvalidJob && $thrown->field() === 'unique_key', 'unique_key: ' . ($thrown === null ? 'accepted' : get_class($thrown)));
        Check::equal(0, $this->redis->xLen($c->key('default', 'stream')), 'nothing sent');
    }

    /**
     * With serialize_precision raised (an application's php.ini), json_encode writes a float's every digit: 1.2e-300 at
     * 100 takes 107 characters, which the worker refuses (a number is at most 100: Foundation's decoder traps on some
     * longer ones). InvalidJob naming "number", nothing sent; the default precision's shortest form passes.
     */
    public function testANumberWrittenInMoreThan100CharactersIsAnInvalidJob(): void
    {
        $c = $this->client('long-number');
        $before = ini_get('serialize_precision');
        ini_set('serialize_precision', '100');
        try {
            $thrown = null;
            try {
                $c->enqueue('diag.record', ['key' => 'k', 'member' => 'm', 'n' => 1.2e-300]);
            } catch (\Throwable $e) {
                $thrown = $e;
            }
        } finally {
            ini_set('serialize_precision', (string) $before);
        }
        Check::that($thrown instanceof InvalidJob && $thrown->field() === 'number'
            && str_contains($thrown->getMessage(), 'a number is written in more than 100 characters'),
            'InvalidJob number, got ' . ($thrown === null ? 'nothing' : get_class($thrown) . ': ' . $thrown->getMessage()));
        Check::equal(0, $this->redis->xLen($c->key('default', 'stream')), 'nothing sent');
        $c->enqueue('diag.record', ['key' => 'k', 'member' => 'm', 'n' => 1.2e-300, 'digits' => str_repeat('9', 500)]);
        Check::equal(1, $this->redis->xLen($c->key('default', 'stream')), 'the shortest form and digits in a string are sent');
        $this->redis->del($c->key('default', 'stream'));
    }

    /**
     * freecredit.request's user_id and request_id go into Redis keys: its handler takes 1-100 characters of
     * A-Z a-z 0-9 . _ : - (KeySafe, Sources/HoopoeJobs/Support/DomainID.swift) and buries anything else, while the caller
     * waits out its timeout. The helpers refuse them first.
     */
    /** The gift helpers' ids go into Redis keys too (gift.granted, gift.used, gift.expire): the same rule, refused first. */
    public function testGiftIdsTheHandlerRefusesAreRefusedBeforeSending(): void
    {
        $jobs = new Jobs($this->client('gift-ids'));
        foreach ([['user 176', 'g-1', 'payload.user_id'], [176, 'g/1', 'payload.user_gift_id'], ['176', '', 'payload.user_gift_id']] as [$user, $gift, $field]) {
            foreach (['giftGranted' => fn () => $jobs->giftGranted($user, $gift, 1795400000), 'giftUsed' => fn () => $jobs->giftUsed($user, $gift),
                      'giftExpire' => fn () => $jobs->giftExpire($user, $gift)] as $name => $call) {
                $thrown = null;
                try {
                    $call();
                } catch (InvalidJob $e) {
                    $thrown = $e;
                }
                Check::that($thrown !== null && $thrown->field() === $field, "$name(" . json_encode($user) . ', ' . json_encode($gift) . '): ' . ($thrown?->getMessage() ?? 'accepted'));
            }
        }
    }

    /** An amount outside 1...1e9 buried the job while the caller waited for its answer. */
    public function testFreeCreditAmountsTheHandlerRefusesAreRefusedBeforeSending(): void
    {
        $jobs = new Jobs($this->client('amounts'));
        foreach ([0, -5, 1_000_000_001] as $amount) {
            $thrown = null;
            try {
                $jobs->requestFreeCredit('176', 'r-1', $amount);
            } catch (InvalidJob $e) {
                $thrown = $e;
            }
            Check::equal('payload.amount', $thrown?->field(), "amount $amount refused");
        }
    }

    public function testFreeCreditIdsTheHandlerRefusesAreRefusedBeforeSending(): void
    {
        $c = $this->client('ids');
        $jobs = new Jobs($c);
        foreach ([['user 176', 'r-1', 'payload.user_id'], [176, 'r/1', 'payload.request_id'], ['176', 'سلام', 'payload.request_id'],
                  ['176', str_repeat('r', 101), 'payload.request_id'], ['', 'r-1', 'payload.user_id'], ['176', '', 'payload.request_id']] as [$user, $request, $field]) {
            $calls = ['requestFreeCredit' => fn () => $jobs->requestFreeCredit($user, $request)];
            if ($request !== '') {  // freeCredit makes a request id when given none ('' included)
                $calls['freeCredit'] = fn () => $jobs->freeCredit($user, $request, null, 30);
            }
            foreach ($calls as $name => $call) {
                $thrown = null;
                $started = microtime(true);
                try {
                    $call();
                } catch (InvalidJob $e) {
                    $thrown = $e;
                }
                Check::that($thrown !== null && $thrown->field() === $field && str_contains($thrown->getMessage(), 'A-Z a-z 0-9 . _ : -'),
                    "$name(" . json_encode($user) . ', ' . json_encode($request) . '): ' . ($thrown?->getMessage() ?? 'accepted'));
                Check::that(microtime(true) - $started < 5, "$name did not wait");
            }
        }
        Check::equal(0, $this->redis->xLen($c->key('critical', 'stream')), 'nothing sent');
    }

    /**
     * The answer is kept under the request id alone: user B asking with the id user A was answered under got A's
     * answer ("granted, 93"), from the notify list or, after waiting, from the result key (the worker buries B's job).
     * Refused with RequestIDReused, naming neither A nor the amount; no worker reads this namespace.
     */
    public function testAnotherUsersAnswerIsRefusedNotReturned(): void
    {
        $c = $this->client('reused');
        $jobs = new Jobs($c);
        $theirs = json_encode(['status' => 'granted', 'amount' => 93, 'month_used' => 1, 'user_id' => 'user-a-176', 'request_id' => 'r-1', 'at' => 1.5]);
        $base = "{$c->namespace}:{freecredit}";
        foreach (['the result key, after the wait' => "$base:result:r-1", 'the notify list' => "$base:notify:r-1"] as $where => $key) {
            $this->redis->del("$base:result:r-1", "$base:notify:r-1");
            if (str_contains($key, ':notify:')) {
                $this->redis->lPush($key, $theirs);
            } else {
                $this->redis->set($key, $theirs);
            }
            $thrown = null;
            $before = $this->redis->xLen($c->key('critical', 'stream'));
            try {
                $returned = $jobs->freeCredit('user-b-177', 'r-1', null, 1);
            } catch (RequestIDReused $e) {
                $thrown = $e;
            }
            Check::that($thrown !== null, "$where: RequestIDReused, it returned " . json_encode($returned ?? null));
            if (str_contains($key, ':result:')) {  // the kept answer settles it: no job (it waited the whole timeout)
                Check::equal($before, $this->redis->xLen($c->key('critical', 'stream')), "$where: no job enqueued");
            }
            Check::equal('r-1', $thrown->requestId, "$where: the request id");
            Check::that(!str_contains($thrown->getMessage(), 'user-a-176') && !str_contains($thrown->getMessage(), '93'), "$where: " . $thrown->getMessage());
        }
        $this->redis->set("$base:result:r-2", str_replace(['user-a-176', 'r-1'], ['176', 'r-2'], $theirs));
        $before = $this->redis->xLen($c->key('critical', 'stream'));
        Check::equal('granted', $jobs->freeCredit(176, 'r-2', null, 1)['status'] ?? null, 'its own user (an int id) gets it');
        Check::equal($before, $this->redis->xLen($c->key('critical', 'stream')), 'its own user: no job for a kept answer');
    }

    /**
     * sms.send's tokens and email.send's params are string-to-string maps to the worker: an int token
     * ('token' => $balance) buried the job, and its 30-day once-key then refused the corrected resend. Ints and floats
     * are sent as their decimal text; any other value is refused before anything is written.
     */
    public function testTokensAndParamsAreSentAsText(): void
    {
        $c = $this->client('texts');
        $jobs = new Jobs($c);
        $values = ['token10' => 'Sara', 'token' => 320, 'token2' => 2.5, 'token3' => 320.0, 'big' => 1e20, 'small' => 1e-7, 'neg' => -7];
        $want = ['token10' => 'Sara', 'token' => '320', 'token2' => '2.5', 'token3' => '320', 'big' => '100000000000000000000',
                 'small' => '0.0000001', 'neg' => '-7'];
        foreach ([true, false, null, [1], ['a' => 'b'], new \stdClass(), NAN, INF] as $bad) {
            foreach (['tokens' => fn () => $jobs->smsSend('m-1', '09121234567', 'low_credit', ['token10' => 'Sara', 'token' => $bad]),
                      'params' => fn () => $jobs->emailSend('m-2', 's@example.com', 17, ['first_name' => 'Sara', 'token' => $bad])] as $field => $call) {
                $thrown = null;
                try {
                    $call();
                } catch (InvalidJob $e) {
                    $thrown = $e;
                }
                Check::equal("payload.$field.token", $thrown?->field(), "$field with " . get_debug_type($bad) . ': ' . ($thrown?->getMessage() ?? 'accepted'));
            }
        }
        Check::equal(0, $this->redis->xLen($c->key('default', 'stream')), 'nothing written');
        $jobs->smsSend('m-1', '09121234567', 'low_credit', $values);  // the once-keys were not taken by the refused calls
        $jobs->emailSend('m-2', 's@example.com', 17, $values);
        $sent = array_map(static fn (array $fields): array => json_decode($fields['job'], true)['payload'],
            array_values($this->redis->xRange($c->key('default', 'stream'), '-', '+')));
        Check::equal([$want, $want], [$sent[0]['tokens'] ?? null, $sent[1]['params'] ?? null], 'tokens and params');
    }

    /**
     * subscription.upsert's optional email: the worker stores what each upsert sends, so a renewal through a helper that
     * could not send it erased the stored address.
     */
    public function testTheSubscriptionEmailIsSentWhenGiven(): void
    {
        $c = $this->client('sub-email');
        $jobs = new Jobs($c);
        $jobs->subscriptionUpsert(176, '09121234567', 'Sara', 1795400000, 'r1', 2, 'sara@example.com');
        $jobs->subscriptionUpsert(176, '09121234567', 'Sara', 1795400000, 'r1', email: 'sara@example.com');
        $jobs->subscriptionUpsert(176, '09121234567', 'Sara', 1795400000, 'r1');
        $sent = array_map(static fn (array $fields): array => json_decode($fields['job'], true)['payload'],
            array_values($this->redis->xRange($c->key('default', 'stream'), '-', '+')));
        Check::equal(['sara@example.com', 'sara@example.com', null], array_map(static fn (array $p) => $p['email'] ?? null, $sent), 'email');
        Check::that(!array_key_exists('email', $sent[2]), 'not sent when not given');
    }

    /**
     * phpredis applies a connection's key prefix, serializer and compression to its own XADD (a plain job) but not to
     * rawCommand (the enqueue function): with a prefix, plain jobs went to a key no worker reads and Enqueued was
     * returned. Such a connection is refused when the client is made, saying how to fix it.
     */
    public function testAConnectionWithAPrefixSerializerOrCompressionIsRefused(): void
    {
        $options = [[\Redis::OPT_PREFIX, 'laravel_database_', 'OPT_PREFIX'], [\Redis::OPT_SERIALIZER, \Redis::SERIALIZER_PHP, 'OPT_SERIALIZER']];
        if (defined('Redis::OPT_COMPRESSION') && defined('Redis::COMPRESSION_LZF')) {
            $options[] = [\Redis::OPT_COMPRESSION, \Redis::COMPRESSION_LZF, 'OPT_COMPRESSION'];
        }
        foreach ($options as [$option, $value, $name]) {
            $redis = Check::redis();
            $redis->setOption($option, $value);
            $thrown = null;
            try {
                new Client($redis, 'options-php');
            } catch (InvalidJob $e) {
                $thrown = $e;
            }
            Check::that($thrown !== null && $thrown->field() === 'connection' && str_contains($thrown->getMessage(), $name)
                && str_contains($thrown->getMessage(), "'prefix' => ''") && str_contains($thrown->getMessage(), 'SERIALIZER_NONE')
                && str_contains($thrown->getMessage(), 'COMPRESSION_NONE'), "$name: " . ($thrown?->getMessage() ?? 'accepted'));
            $redis->close();
        }
        $redis = Check::redis();  // set back to none, as LARAVEL.md's connection does: accepted
        $redis->setOption(\Redis::OPT_PREFIX, '');
        $redis->setOption(\Redis::OPT_SERIALIZER, \Redis::SERIALIZER_NONE);
        if (defined('Redis::OPT_COMPRESSION')) {
            $redis->setOption(\Redis::OPT_COMPRESSION, \Redis::COMPRESSION_NONE);
        }
        Check::equal('options-php', (new Client($redis, 'options-php'))->namespace, 'a connection without them');
        Check::equal('options-php', (new Client(new \Redis(), 'options-php'))->namespace, 'a \\Redis not connected yet (no options to read)');
    }

    /**
     * What $send threw, or a failure naming what it returned: it must throw.
     */
    private static function thrown(string $what, callable $send): \Throwable
    {
        try {
            $returned = $send();
        } catch (\Throwable $e) {
            return $e;
        }
        throw new \RuntimeException("$what: no exception, it returned " . (is_object($returned) ? get_class($returned) : json_encode($returned)));
    }

    /**
     * In MULTI or pipeline mode phpredis queues a command and returns the \Redis, not a reply: an enqueue was reported
     * Enqueued for a job discard() then dropped, and an enqueueIn threw though exec() wrote its job. Every method
     * refuses such a connection (InvalidJob, field connection, naming the mode) and queues nothing.
     */
    public function testAConnectionInMultiOrPipelineModeIsRefusedBeforeSending(): void
    {
        $c = $this->client('mode');
        $payload = ['key' => 'k', 'member' => 'm'];
        $calls = [
            'enqueue' => fn () => $c->enqueue('diag.record', $payload),
            'enqueueIn' => fn () => $c->enqueueIn('diag.record', $payload, 600),
            'enqueueBatch' => fn () => $c->enqueueBatch([['type' => 'diag.record', 'payload' => $payload]]),
            'waitFor' => fn () => $c->waitFor('x', 'default', 1),
            'waitFor (an Enqueued)' => fn () => $c->waitFor(new Enqueued('enqueued', 'x', 'critical'), null, 1),
            'waitFreeCredit' => fn () => $c->waitFreeCredit('x', 1),
            'freeCreditAnswer' => fn () => $c->freeCreditAnswer('x'),
            'readEvents' => fn () => $c->readEvents(),
            'createEventsGroup' => fn () => $c->createEventsGroup('g'),
            'readEventsGroup' => fn () => $c->readEventsGroup('g', 'c'),
            'ackEvents' => fn () => $c->ackEvents('g', '1-1'),
            'Jobs::freeCredit' => fn () => (new Jobs($c))->freeCredit(1, 'mode-r', timeout: 1),
        ];
        foreach (['MULTI' => \Redis::MULTI, 'pipeline' => \Redis::PIPELINE] as $name => $mode) {
            foreach ($calls as $call => $send) {
                $this->redis->multi($mode);
                try {
                    $thrown = self::thrown("$name $call", $send);
                } finally {
                    $queued = $this->redis->exec();  // what the call queued, run now
                }
                Check::that($thrown instanceof InvalidJob && $thrown->field() === 'connection' && str_contains($thrown->getMessage(), "in $name mode"),
                    "$name $call: InvalidJob (connection) naming the mode, got " . get_class($thrown) . ': ' . $thrown->getMessage());
                Check::equal([], $queued, "$name $call: nothing queued");
            }
        }
        Check::equal(0, $this->redis->exists($c->key('default', 'stream'), $c->key('default', 'scheduled'), $c->eventsKey()), 'nothing written');
        Check::equal(new Enqueued('enqueued', 'mode-after', 'default'), $c->enqueue('diag.record', $payload, ['id' => 'mode-after']), 'atomic again: sent');
    }

    /**
     * Redis refusing writes for want of memory (OOM: maxmemory with noeviction) is a HoopoeException naming it, for a
     * plain job, a later one and a batch (every job of which says it was not written): phpredis throws OOM as a
     * RedisException, which the README says means "no answer, the job may be in", and the batch lost its results.
     */
    public function testAWriteRedisRefusesForMemoryIsAHoopoeException(): void
    {
        $c = $this->client('oom');
        $payload = ['key' => 'k', 'member' => 'm'];
        $was = [$this->redis->config('GET', 'maxmemory')['maxmemory'], $this->redis->config('GET', 'maxmemory-policy')['maxmemory-policy']];
        $this->redis->config('SET', 'maxmemory-policy', 'noeviction');
        $this->redis->config('SET', 'maxmemory', '1');
        try {
            $thrown = [
                'enqueue' => self::thrown('enqueue', fn () => $c->enqueue('diag.record', $payload)),
                'enqueueIn' => self::thrown('enqueueIn', fn () => $c->enqueueIn('diag.record', $payload, 600)),
                'enqueueBatch' => self::thrown('enqueueBatch', fn () => $c->enqueueBatch([
                    ['type' => 'diag.record', 'payload' => $payload, 'id' => 'oom-1'],
                    ['type' => 'diag.record', 'payload' => $payload, 'id' => 'oom-2', 'once_key' => 'oom'],
                ])),
            ];
        } finally {
            $this->redis->config('SET', 'maxmemory', $was[0]);
            $this->redis->config('SET', 'maxmemory-policy', $was[1]);
        }
        foreach ($thrown as $call => $e) {
            Check::that($e instanceof HoopoeException && str_contains($e->getMessage(), 'OOM'), "$call: a HoopoeException naming OOM, got "
                . get_class($e) . ': ' . $e->getMessage());
        }
        Check::that($thrown['enqueueBatch'] instanceof BatchFailed, 'the batch: BatchFailed');
        foreach ($thrown['enqueueBatch']->results as $i => $result) {
            Check::that($result instanceof HoopoeException && str_contains($result->getMessage(), 'not written') && str_contains($result->getMessage(), 'OOM'),
                "batch job $i: not written, naming OOM: " . (is_object($result) ? get_class($result) . ' ' . ($result->getMessage() ?? '') : ''));
        }
        Check::equal(0, $this->redis->exists($c->key('default', 'stream'), $c->key('default', 'scheduled'), $c->key('default', 'once:oom')), 'nothing written');
    }

    /**
     * An ACL user allowed one queue's keys only: a job for another queue is refused with a HoopoeException naming
     * NOPERM (phpredis threw a raw RedisException), and a batch mixing the two queues says of each job that it was not
     * written (phpredis threw and dropped every result, though the allowed queue's jobs were written).
     */
    public function testAWriteTheAclRefusesIsAHoopoeExceptionAndABatchSaysWhatWasWritten(): void
    {
        $ns = 'noperm-php-' . bin2hex(random_bytes(4));
        $user = "hoopoe-test-$ns";
        $password = bin2hex(random_bytes(16));
        $this->redis->rawCommand('ACL', 'SETUSER', $user, 'reset', 'on', ">$password", "~$ns:{allowed}:*", '+@all');
        try {
            $url = parse_url(getenv('REDIS_URL') ?: 'redis://127.0.0.1:6379/0');
            $limited = new \Redis();
            $limited->connect($url['host'] ?? '127.0.0.1', $url['port'] ?? 6379);
            $limited->auth([$user, $password]);
            $db = (int) ltrim($url['path'] ?? '/0', '/');
            if ($db !== 0) {
                $limited->select($db);
            }
            $c = new Client($limited, $ns);
            $payload = ['key' => 'k', 'member' => 'm'];
            Check::equal(new Enqueued('enqueued', 'np-ok', 'allowed'), $c->enqueue('diag.record', $payload, ['queue' => 'allowed', 'id' => 'np-ok']), 'its own queue');
            foreach (['enqueue' => fn () => $c->enqueue('diag.record', $payload),
                      'enqueueIn' => fn () => $c->enqueueIn('diag.record', $payload, 600),
                      'freeCreditAnswer' => fn () => $c->freeCreditAnswer('np-r')] as $call => $send) {
                $e = self::thrown($call, $send);
                Check::that($e instanceof HoopoeException && str_contains($e->getMessage(), 'NOPERM'), "$call: a HoopoeException naming NOPERM, got "
                    . get_class($e) . ': ' . $e->getMessage());
            }
            $e = self::thrown('enqueueBatch', fn () => $c->enqueueBatch([
                ['type' => 'diag.record', 'payload' => $payload, 'queue' => 'allowed', 'id' => 'np-1'],
                ['type' => 'diag.record', 'payload' => $payload, 'id' => 'np-2'],
                ['type' => 'diag.record', 'payload' => $payload, 'queue' => 'allowed', 'id' => 'np-3', 'once_key' => 'np'],
            ]));
            Check::that($e instanceof BatchFailed, 'the batch: BatchFailed, got ' . get_class($e) . ': ' . $e->getMessage());
            Check::equal(3, count($e->results), 'one result a job');
            foreach ($e->results as $i => $result) {
                Check::that($result instanceof HoopoeException && str_contains($result->getMessage(), 'not written') && str_contains($result->getMessage(), 'NOPERM'),
                    "batch job $i: not written, naming NOPERM: " . (is_object($result) ? get_class($result) . ' ' . $result->getMessage() : json_encode($result)));
            }
            Check::equal(1, $this->redis->xLen($c->key('allowed', 'stream')), 'only np-ok in the allowed queue: the batch wrote nothing, as it says');
            Check::equal(0, $this->redis->exists($c->key('allowed', 'once:np')), 'no once-key taken');
            Check::equal('in step', $limited->echo('in step'), 'the connection answers in step after the refusals');
            $limited->close();
        } finally {
            $this->redis->rawCommand('ACL', 'DELUSER', $user);
        }
    }
}
