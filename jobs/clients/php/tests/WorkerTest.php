<?php

declare(strict_types=1);

namespace Hoopoe\Tests;

use Hoopoe\Client;
use Hoopoe\Exception\AlreadyEnqueued;
use Hoopoe\Exception\Duplicate;
use Hoopoe\Exception\LibraryNotLoaded;
use Hoopoe\Exception\RequestIDReused;
use Hoopoe\Jobs;

/**
 * This client against a real `hoopoe worker` (scripts/test-clients.sh starts one, with the fake providers, on
 * HOOPOE_NAMESPACE; HOOPOE_CLOCK_KEY holds the domain clock at noon in Tehran): every job kind enqueued from PHP runs,
 * free credit is answered through waitFreeCredit, and the events the jobs write conform to jobs/conformance/events.json.
 */
final class WorkerTest
{
    private \Redis $redis;
    private Client $client;
    private Jobs $jobs;
    private float $now;
    private string $run;

    public function __construct()
    {
        $this->redis = Check::redis();
        $this->client = new Client($this->redis);  // the namespace from HOOPOE_NAMESPACE, as a service would
        $this->jobs = new Jobs($this->client);
        $this->now = (float) $this->redis->get((string) getenv('HOOPOE_CLOCK_KEY'));
        $this->run = 'php' . bin2hex(random_bytes(4));
    }

    private function state(string $id): string
    {
        $c = $this->client;
        if ($this->redis->hExists($c->key('default', 'dead:jobs'), $id)) {
            return 'dead: ' . (json_decode((string) $this->redis->hGet($c->key('default', 'dead:jobs'), $id), true)['dead_reason'] ?? '?');
        }
        if ($this->redis->hExists($c->key('default', 'scheduled:jobs'), $id)) {
            return 'scheduled';
        }
        foreach ($this->redis->xRange($c->key('default', 'stream'), '-', '+') as $fields) {
            if ((json_decode($fields['job'], true)['id'] ?? null) === $id) {
                return 'ready';
            }
        }
        return 'done';
    }

    /** @param list<string> $ids */
    private function waitDone(array $ids, int $timeout = 60): void
    {
        $deadline = microtime(true) + $timeout;
        do {
            $pending = [];
            foreach ($ids as $id) {
                $state = $this->state($id);
                if ($state !== 'done') {
                    $pending[$id] = $state;
                }
            }
            $settled = array_filter($pending, static fn ($s) => !str_starts_with($s, 'dead')) === [];
            if ($settled) {
                break;
            }
            usleep(100000);
        } while (microtime(true) < $deadline);
        Check::equal([], $pending, 'jobs not done');
    }

    /** @param list<string> $wanted @return list<\Hoopoe\Event> */
    private function waitEvents(array $wanted, int $timeout = 60): array
    {
        $deadline = microtime(true) + $timeout;
        do {
            $mine = array_values(array_filter($this->client->readEvents('0-0', 100000), function ($e): bool {
                foreach (['user_id', 'message_id', 'request_id', 'job_id'] as $k) {
                    if (str_starts_with((string) ($e->data[$k] ?? ''), $this->run)) {
                        return true;
                    }
                }
                return false;
            }));
            $missing = array_diff($wanted, array_map(static fn ($e) => $e->type, $mine));
            if ($missing === []) {
                return $mine;
            }
            usleep(200000);
        } while (microtime(true) < $deadline);
        throw new \RuntimeException('events missing: ' . implode(', ', $missing));
    }

    /**
     * Without the function library (a Redis restarted without persistence forgets it) an enqueue that needs
     * hoopoe_enqueue throws LibraryNotLoaded saying what to do; `hoopoe functions load` brings it back. On the lone
     * Redis (Check::loneRedis): on the worker's, its keeper could load the library between the DELETE and the enqueue.
     */
    public function testAMissingFunctionLibraryIsAClearErrorUntilItIsLoaded(): void
    {
        $lone = Check::loneRedis();
        $client = new Client($lone, "{$this->run}-nolib");
        $lone->rawCommand('FUNCTION', 'DELETE', 'hoopoe');
        $thrown = null;
        try {
            $client->enqueueIn('diag.record', ['key' => "{$this->run}:nolib", 'member' => 'later'], 3600);
        } catch (LibraryNotLoaded $e) {
            $thrown = $e;
        }
        Check::that($thrown !== null && str_contains($thrown->getMessage(), 'hoopoe functions load'), 'LibraryNotLoaded: ' . ($thrown?->getMessage() ?? 'none'));
        $thrown = null;
        try {
            $client->enqueueBatch([['type' => 'diag.record', 'payload' => ['key' => "{$this->run}:nolib"], 'unique_key' => "{$this->run}:nolib"]]);
        } catch (LibraryNotLoaded $e) {
            $thrown = $e;
        }
        Check::that($thrown !== null, 'a batch throws LibraryNotLoaded too');
        Check::loadFunctions();
        $done = $client->enqueueIn('diag.record', ['key' => "{$this->run}:nolib", 'member' => 'later'], 3600);
        Check::equal('scheduled', $done->status, 'after hoopoe functions load');
        $lone->zRem($client->key('default', 'scheduled'), $done->id);
    }

    /**
     * A batch with a job that needs the function library throws LibraryNotLoaded before anything is sent, so the
     * documented remedy (load the library, send the batch again) does not enqueue its plain jobs twice. On the lone
     * Redis, as above: a library loaded by the worker's keeper before the batch sent it, and "sent again" twice.
     */
    public function testABatchWithoutTheFunctionLibrarySendsNothing(): void
    {
        $lone = Check::loneRedis();
        $client = new Client($lone, "{$this->run}-nolib-batch");
        $batch = [['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => '1'], 'id' => 'nolib-plain'],
                  ['type' => 'diag.record', 'payload' => ['key' => 'k', 'member' => '2'], 'id' => 'nolib-unique', 'unique_key' => 'nolib']];
        $lone->rawCommand('FUNCTION', 'DELETE', 'hoopoe');
        $thrown = null;
        try {
            $client->enqueueBatch($batch);
        } catch (LibraryNotLoaded $e) {
            $thrown = $e;
        }
        Check::that($thrown !== null, 'LibraryNotLoaded');
        Check::equal(0, $lone->xLen($client->key('default', 'stream')), 'jobs written before the error');
        Check::loadFunctions();
        Check::equal(2, count($client->enqueueBatch($batch)), 'sent again');
        Check::equal(2, $lone->xLen($client->key('default', 'stream')), 'each job once');
    }

    /**
     * A freecredit.request enqueued with notify goes to critical (its type's queue), and the worker pushes its answer
     * there: waitFor without a queue waited on "default" for the whole timeout and returned null. The id this Client
     * enqueued is known, and so is the Enqueued's queue, whichever Client waits.
     */
    public function testANotifyJobIsWaitedForOnItsTypesQueue(): void
    {
        $u = "wq-{$this->run}";  // not prefixed by the run: testEveryJobKind counts those events as its own
        $job = $this->client->enqueue('freecredit.request', ['user_id' => "$u-1", 'request_id' => "$u-r1"], ['notify' => true]);
        $answer = $this->client->waitFor($job->id, timeout: 20);
        Check::equal([$job->id, 'critical', 'processed'], [$answer['id'] ?? null, $answer['queue'] ?? null, $answer['outcome'] ?? null], 'the answer, by id');
        $second = $this->client->enqueue('freecredit.request', ['user_id' => "$u-2", 'request_id' => "$u-r2"], ['notify' => true]);
        $answer = (new Client($this->redis))->waitFor($second, timeout: 20);
        Check::equal([$second->id, 'critical', 'processed'], [$answer['id'] ?? null, $answer['queue'] ?? null, $answer['outcome'] ?? null], 'the answer, by Enqueued');
    }

    /** A wait longer than the connection's read timeout ends in null, not an exception. */
    public function testWaitsLongerThanTheReadTimeout(): void
    {
        $redis = Check::redis();
        $redis->setOption(\Redis::OPT_READ_TIMEOUT, 1);
        $client = new Client($redis);
        $started = microtime(true);
        Check::equal(null, $client->waitFor("{$this->run}-never", 'default', 2.5), 'waitFor');
        Check::that(microtime(true) - $started >= 2.4, 'it waited');
        // A read timeout under the 1 s slice cuts every slice short; the event read still waits its whole block.
        $redis->setOption(\Redis::OPT_READ_TIMEOUT, 0.5);
        $quiet = new Client($redis, "{$this->run}-quiet");  // a namespace no worker writes events to
        $started = microtime(true);
        Check::equal([], $quiet->readEvents('$', 10, 2500), 'readEvents');
        Check::that(microtime(true) - $started >= 2.4, 'the event read waited');
        // Each cut slice closed the connection; the new one is on the caller's database, not phpredis's 0.
        $other = (int) $redis->getDbNum() === 7 ? 8 : 7;
        $redis->select($other);
        $marker = "{$this->run}-db-marker";
        $redis->set($marker, 'this database', ['EX' => 60]);
        Check::equal([], $quiet->readEvents('$', 10, 1200), 'readEvents on another database');
        Check::equal(null, $quiet->waitFor("{$this->run}-never", 'default', 1.2), 'waitFor on another database');
        Check::equal('this database', $redis->get($marker), 'the caller\'s database after the cut slices');
        $redis->del($marker);
    }

    /**
     * A reader that died between readEventsGroup and ackEvents gets those events again when it restarts under the same
     * consumer name (LARAVEL.md: "a restart resumes where it stopped and nothing is lost"); acknowledged, they are gone.
     */
    public function testARestartedGroupReaderGetsBackWhatItDidNotAcknowledge(): void
    {
        $ns = "{$this->run}-restart";  // a namespace of its own: no worker writes these events
        $before = new Client($this->redis, $ns);
        Check::that($before->createEventsGroup('panel', '$'), 'group created');
        foreach (['one', 'two'] as $n) {
            $this->redis->xAdd($before->eventsKey(), '*', ['type' => "test.$n", 'data' => '{}', 'at' => '1.5']);
        }
        Check::equal(['test.one', 'test.two'], array_map(static fn ($e) => $e->type, $before->readEventsGroup('panel', 'host-1')), 'first read');
        $after = new Client($this->redis, $ns);  // the restarted reader, nothing acknowledged
        $again = $after->readEventsGroup('panel', 'host-1', 100, 1500);
        Check::equal(['test.one', 'test.two'], array_map(static fn ($e) => $e->type, $again), 'read again after the restart');
        $after->ackEvents('panel', ...array_map(static fn ($e) => $e->id, $again));
        Check::equal([], $after->readEventsGroup('panel', 'host-1'), 'nothing left');
        Check::equal([], (new Client($this->redis, $ns))->readEventsGroup('panel', 'host-1'), 'nothing after another restart');
    }

    /** Events trimmed while pending are acknowledged and the catch-up goes on to the ones after them. */
    public function testEventsTrimmedWhilePendingDoNotHideTheOnesAfterThem(): void
    {
        $ns = "{$this->run}-trimmed";
        $before = new Client($this->redis, $ns);
        Check::that($before->createEventsGroup('panel', '$'), 'group created');
        $ids = [];
        foreach (['one', 'two', 'three'] as $n) {
            $ids[] = $this->redis->xAdd($before->eventsKey(), '*', ['type' => "test.$n", 'data' => '{}', 'at' => '1.5']);
        }
        Check::equal(3, count($before->readEventsGroup('panel', 'host-1', 3)), 'first read');
        $this->redis->xDel($before->eventsKey(), array_slice($ids, 0, 2));  // trimmed while pending
        $after = new Client($this->redis, $ns);
        Check::equal(['test.three'], array_map(static fn ($e) => $e->type, $after->readEventsGroup('panel', 'host-1', 2)), 'after the trimmed ones');
    }

    /** README.md's example, run against the test Redis and worker (its host and port swapped for REDIS_URL's). */
    public function testTheReadmeExampleRuns(): void
    {
        $page = (string) file_get_contents(__DIR__ . '/../README.md');
        $code = explode('```', explode('```php', $page, 2)[1], 2)[0];
        $url = parse_url((string) getenv('REDIS_URL'));
        $code = str_replace("connect('127.0.0.1', 6379)", "connect('{$url['host']}', {$url['port']})", $code);
        ob_start();
        [$answer, $outcome] = (static function () use ($code) {
            eval($code);
            return [$answer ?? null, $outcome ?? null];
        })();
        ob_end_clean();
        Check::equal('processed', $outcome['outcome'] ?? null, 'the notified job');
        Check::that(is_array($answer) && in_array($answer['status'] ?? null, ['granted', 'rejected'], true), 'no answer: ' . json_encode($answer));
    }

    public function testEveryJobKindRunsAndItsEventsConform(): void
    {
        [$u, $c, $j] = [$this->run, $this->client, $this->jobs];
        $key = "{$c->namespace}:$u:diag";
        $group = "$u-billing";
        Check::that($c->createEventsGroup($group), 'the group is created');
        Check::that(!$c->createEventsGroup($group), 'a second create says it exists');
        $ids = [$c->enqueue('diag.record', ['key' => $key, 'member' => 'now'])->id];
        $later = $c->enqueueIn('diag.record', ['key' => $key, 'member' => 'later'], 1);
        Check::equal('scheduled', $later->status, 'enqueueIn');
        $ids[] = $later->id;
        $ids[] = $c->enqueueAt('diag.record', ['key' => $key, 'member' => 'at'], microtime(true) + 1)->id;
        $ids[] = $c->enqueueUnique('diag.record', ['key' => $key, 'member' => 'unique', 'sleep_ms' => 300], "$u-unique")->id;
        try {
            $c->enqueueUnique('diag.record', ['key' => $key, 'member' => 'unique2'], "$u-unique");
            throw new \RuntimeException('a duplicate unique key was accepted');
        } catch (Duplicate $e) {
            Check::equal($ids[3], $e->existingId, 'duplicate');
        }
        $ids[] = $c->enqueueOnce('diag.record', ['key' => $key, 'member' => 'once'], "$u-once")->id;
        try {
            $c->enqueueOnce('diag.record', ['key' => $key, 'member' => 'once2'], "$u-once");
            throw new \RuntimeException('a used once-key was accepted');
        } catch (AlreadyEnqueued) {
        }
        foreach ($c->enqueueBatch(array_map(fn ($i) => ['type' => 'diag.record', 'payload' => ['key' => $key, 'member' => "b$i"]], [0, 1, 2])) as $r) {
            $ids[] = $r->id;
        }
        $phone = sprintf('0912%07d', random_int(0, 9999999));  // its own: sms.send caps messages a phone gets a day
        $tokens = ['token10' => 'Sara', 'token' => '3', 'token2' => '1403/10/12', 'token3' => 'https://kamva.ir/r/1'];
        $ids[] = $j->smsSend("$u-sms", $phone, 'expiration_reminder', $tokens, "$u-1", 'test')->id;
        try {
            $j->smsSend("$u-sms", $phone, 'expiration_reminder', $tokens);
            throw new \RuntimeException('an SMS was enqueued twice');
        } catch (AlreadyEnqueued) {
        }
        // notAfter past: the worker ends it failed (sms.failed, reason outdated), never sent.
        $ids[] = $j->smsSend("$u-sms-late", $phone, 'expiration_reminder', $tokens, "$u-1", null, null, $this->now - 60)->id;
        $ids[] = $j->emailSend("$u-email", "$u@example.com", 17, ['first_name' => 'سارا'], 'Sara', "$u-1", 'test')->id;
        try {
            $j->emailSend("$u-email", "$u@example.com", 17, []);
            throw new \RuntimeException('an email was enqueued twice');
        } catch (AlreadyEnqueued) {
        }
        $ids[] = $j->subscriptionUpsert("$u-1", $phone, 'Sara', (int) $this->now + 20 * 86400, 'r1', 2)->id;
        $ids[] = $j->creditThresholdSet("$u-1", 't1', 500, $phone, 'Sara')->id;
        $ids[] = $j->creditBalance("$u-1", 320)->id;
        $ids[] = $j->giftGranted("$u-1", "$u-g1", $this->now + 3 * 86400, $phone, 'لایک', $this->now - 60)->id;
        $ids[] = $j->giftExpire("$u-1", "$u-g2")->id;
        $ids[] = $j->sendinblueRegister("$u-1", "$u@example.com", 'Josh', 'Cruise', 'Co', 'Pa55w0rd65', ['id' => '3', 'credit' => ['email' => 1200, 'sms' => 450]], 'en')->id;
        foreach (['reminders.expiration', 'reminders.low_credit', 'sms.delivery_poll'] as $tick) {
            $ids[] = $c->enqueue($tick, ['tick' => (int) $this->now])->id;
        }
        $answer = $j->freeCredit("$u-1", "$u-fc1", 93, 30);
        Check::equal(['granted', 93], [$answer['status'] ?? null, $answer['amount'] ?? null], 'free credit');
        $again = $j->freeCredit("$u-1", "$u-fc2", null, 30);
        Check::equal(['rejected', 'cooldown'], [$again['status'] ?? null, $again['reason'] ?? null], 'free credit again');
        Check::equal('granted', $c->waitFreeCredit("$u-fc1", 1)['status'] ?? null, 'the kept result');
        // notify: the final outcome of any job, done or dead, through waitFor.
        $done = $c->enqueue('diag.record', ['key' => $key, 'member' => 'notified'], ['notify' => true, 'id' => "$u-notified"]);
        $dies = $c->enqueue('diag.record', ['member' => 'no key'], ['notify' => true, 'id' => "$u-dies"]);
        $answers = [$c->waitFor($done->id, 'default', 30), $c->waitFor($dies->id, 'default', 30)];
        Check::equal(['processed', 'dead'], [$answers[0]['outcome'] ?? null, $answers[1]['outcome'] ?? null], 'answers');
        Check::that(str_contains((string) ($answers[1]['error'] ?? ''), 'key'), 'the dead reason names the missing key');
        $spec = Check::vectors('events.json')->answer;
        foreach ($answers as $answer) {
            foreach ((array) $spec->fields as $field => $type) {
                Check::that(array_key_exists($field, $answer) && Check::jsonType($answer[$field], $type), "answer.$field = " . json_encode($answer[$field] ?? null));
            }
        }
        $this->waitDone($ids);
        $this->waitDone([$j->giftUsed("$u-1", "$u-g1")->id, $j->creditThresholdDelete("$u-1", 't1')->id, $j->subscriptionDelete("$u-1")->id]);
        $members = $this->redis->sMembers($key);
        sort($members);
        Check::equal(['at', 'b0', 'b1', 'b2', 'later', 'notified', 'now', 'once', 'unique'], $members, 'diag.record members');
        $events = $this->waitEvents(['freecredit.granted', 'freecredit.rejected', 'sms.sent', 'subscription.upserted', 'subscription.deleted',
            'credit.threshold.saved', 'credit.balance.recorded', 'credit.threshold.deleted', 'gift.expired', 'sendinblue.registered', 'job.dead', 'email.sent', 'sms.failed']);
        $doc = Check::vectors('events.json');
        $problems = [];
        foreach ($events as $event) {
            $problems = array_merge($problems, Check::eventProblems($event, $doc));
        }
        Check::equal([], $problems, 'events');
        $sms = [];
        foreach ($events as $event) {
            if (in_array($event->type, ['sms.sent', 'sms.failed'], true) && in_array($event->data['message_id'] ?? null, ["$u-sms", "$u-sms-late"], true)) {
                $sms[] = [$event->type, $event->data['message_id'], explode(':', (string) ($event->data['reason'] ?? ''))[0]];
            }
        }
        sort($sms);
        Check::equal([['sms.failed', "$u-sms-late", 'outdated'], ['sms.sent', "$u-sms", '']], $sms, 'the SMS past its notAfter is not sent');
        // The group, created before the jobs ran, got every one of this run's events; acknowledged, none is pending.
        $grouped = $c->readEventsGroup($group, 'reader-1', 100000);
        $ids = array_map(static fn ($e) => $e->id, $grouped);
        Check::equal([], array_values(array_diff(array_map(static fn ($e) => $e->id, $events), $ids)), 'events the group missed');
        Check::equal(count($grouped), $c->ackEvents($group, ...$ids), 'acknowledged');
        Check::equal(0, $this->redis->xPending($c->eventsKey(), $group)[0] ?? -1, 'pending');
        Check::equal([], $c->readEventsGroup($group, 'reader-1'), 'nothing new');
    }

    /**
     * freeCredit compares the answer's user_id with its user: user B reusing the request id user A was answered under
     * got A's answer ("granted, 93") from the result key, while the worker buried B's job (freecredit.lua refuses another
     * user's request id). Now RequestIDReused, naming neither A nor the amount.
     */
    public function testARequestIdAnotherUserWasAnsweredUnderIsRefused(): void
    {
        $u = "fc-{$this->run}";  // not prefixed by the run: testEveryJobKind... counts those events as its own
        $mine = $this->jobs->freeCredit("$u-a", "$u-shared", 93, 30);
        Check::equal(['granted', "$u-a"], [$mine['status'] ?? null, $mine['user_id'] ?? null], 'user A\'s answer');
        $thrown = null;
        try {
            $returned = $this->jobs->freeCredit("$u-b", "$u-shared", null, 1.5);  // its job is buried: the wait ends at the result key
        } catch (RequestIDReused $e) {
            $thrown = $e;
        }
        Check::that($thrown !== null, 'RequestIDReused, it returned ' . json_encode($returned ?? null));
        Check::equal("$u-shared", $thrown->requestId, 'the request id');
        // The amount, not a "93" the random run id may hold (the Python copy failed a run so).
        $message = str_replace("$u-shared", '', $thrown->getMessage());
        Check::that(!str_contains($message, "$u-a") && !str_contains($message, '93'), $thrown->getMessage());
    }

    /**
     * An int token (the balance) went as a JSON number: the worker buried the SMS and its once-key refused the corrected
     * resend. Now sent as "3". subscriptionUpsert sends the email, which the worker stores on every upsert.
     */
    public function testANumberTokenIsSentAndTheSubscriptionEmailIsKept(): void
    {
        $u = "tx-{$this->run}";  // not prefixed by the run, as above
        $phone = sprintf('0912%07d', random_int(0, 9999999));
        $sms = $this->jobs->smsSend("$u-sms-int", $phone, 'expiration_reminder',
            ['token10' => 'Sara', 'token' => 3, 'token2' => '1403/10/12', 'token3' => 'https://kamva.ir/r/1'], "$u-2");
        $first = $this->jobs->subscriptionUpsert("$u-2", $phone, 'Sara', (int) $this->now + 20 * 86400, 'r2', null, "$u@example.com");
        $this->waitDone([$sms->id, $first->id]);
        $sub = "{$this->client->namespace}:{reminders}:sub:$u-2";
        Check::equal("$u@example.com", $this->redis->hGet($sub, 'email'), 'the stored email');
        $renewal = $this->jobs->subscriptionUpsert("$u-2", $phone, 'Sara', (int) $this->now + 50 * 86400, 'r2', null, "$u@example.com");
        $this->waitDone([$renewal->id]);
        Check::equal("$u@example.com", $this->redis->hGet($sub, 'email'), 'the email after a renewal');
        $deadline = microtime(true) + 30;
        $sent = static fn (array $events): array => array_filter($events, static fn ($e) => $e->type === 'sms.sent' && ($e->data['message_id'] ?? null) === "$u-sms-int");
        while ($sent($this->client->readEvents('0-0', 100000)) === [] && microtime(true) < $deadline) {
            usleep(100000);
        }
        Check::equal(1, count($sent($this->client->readEvents('0-0', 100000))), 'the SMS with a number token was sent');
        $this->jobs->subscriptionDelete("$u-2");
    }
}
