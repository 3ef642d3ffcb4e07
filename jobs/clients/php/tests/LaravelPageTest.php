<?php

declare(strict_types=1);

namespace Hoopoe\Tests;

use Hoopoe\Client;
use Hoopoe\Jobs;

/**
 * LARAVEL.md's code, as written on the page, against a real worker (scripts/test-clients.sh): its config and service
 * provider build the client (laravel/bootstrap.php, with the Illuminate stand-ins of laravel/shims.php), its calls
 * enqueue and every job runs (seen in what the jobs did: events and gift state, nothing dead), its controller gets a
 * free-credit answer, and its event reader acknowledges the events the jobs write.
 */
final class LaravelPageTest
{
    private \Redis $redis;
    private \Illuminate\Container\Container $app;
    private string $run;

    public function __construct()
    {
        require_once __DIR__ . '/laravel/bootstrap.php';
        $this->app = laravelApplication();
        $this->redis = Check::redis();
        $this->run = 'lv' . bin2hex(random_bytes(4));
    }

    /** @return list<\Hoopoe\Event> events of this run that $match accepts, once $wanted types are all there */
    private function waitEvents(array $wanted, callable $match, int $timeout = 60): array
    {
        $client = $this->app->make(Client::class);
        $deadline = microtime(true) + $timeout;
        do {
            $mine = array_values(array_filter($client->readEvents('0-0', 100000), $match));
            $missing = array_diff($wanted, array_map(static fn ($e) => $e->type, $mine));
            if ($missing === []) {
                return $mine;
            }
            usleep(200000);
        } while (microtime(true) < $deadline);
        throw new \RuntimeException('events missing: ' . implode(', ', $missing));
    }

    public function testThePagesProviderBuildsTheClientFromItsConfig(): void
    {
        $client = $this->app->make(Client::class);
        Check::equal(getenv('HOOPOE_NAMESPACE'), $client->namespace, 'the namespace from config/hoopoe.php');
        Check::that($this->app->make(Jobs::class) === $this->app->make(Jobs::class), 'Jobs is a singleton');
    }

    public function testThePagesCallsEnqueueAndEveryJobRuns(): void
    {
        $now = (int) (float) $this->redis->get((string) getenv('HOOPOE_CLOCK_KEY'));
        $jobs = $this->app->make(Jobs::class);
        $run = $this->run;
        // The models the page's code reads, as Eloquent would give them.
        $user = (object) ['id' => "$run-u", 'mobile' => '09121234567', 'first_name' => 'Sara', 'email' => "$run@example.com"];
        $userGift = (object) ['id' => "$run-g", 'expires_at' => new \DateTimeImmutable('@' . ($now + 86400)), 'created_at' => new \DateTimeImmutable('@' . $now)];
        $service = (object) ['name' => 'Instagram followers'];
        $plan = (object) ['id' => 'pro', 'expires_at' => new \DateTimeImmutable('@' . ($now + 20 * 86400))];
        $receipt = (object) ['id' => "{$run}r981"];
        $threshold = (object) ['id' => "$run-t", 'amount' => 500, 'fired_at' => $now];
        $balance = 420;
        require laravelPageFile('calls', $GLOBALS['laravelPage']['calls']);

        $response = (new \FreeCreditController())($jobs, new \Illuminate\Http\Request($user, ['Idempotency-Key' => "$run-free"]));
        self::checkPanelAnswer($response, 'the controller');

        $events = $this->waitEvents(
            ['subscription.upserted', 'subscription.deleted', 'credit.threshold.saved', 'credit.threshold.deleted',
             'credit.balance.recorded', 'sms.sent', 'freecredit.granted'],
            static fn ($e) => ($e->data['user_id'] ?? null) === $user->id || ($e->data['message_id'] ?? null) === "low-credit:{$user->id}:{$threshold->id}:{$threshold->fired_at}");
        foreach ($events as $e) {
            if ($e->type === 'credit.balance.recorded') {
                Check::equal(420, (int) $e->data['credits'], 'the balance the page reported');
            }
        }
        // gift.granted then gift.used: the gift ends used (whichever ran first), and no job of this run died.
        $client = $this->app->make(Client::class);
        $gift = "{$client->namespace}:{gifts}:gift:{$userGift->id}";
        $deadline = microtime(true) + 30;
        while ($this->redis->hGet($gift, 'state') !== 'used' && microtime(true) < $deadline) {
            usleep(100000);
        }
        Check::equal('used', $this->redis->hGet($gift, 'state'), 'the gift granted and used through the page');
        foreach ($this->redis->hVals($client->key('default', 'dead:jobs')) as $dead) {
            Check::that(!str_contains($dead, $run), "a job of the page died: $dead");
        }
    }

    /**
     * The page's controller takes whatever Idempotency-Key a client sends (spaces, Persian, 300 characters): the job's
     * request id must still be one the handler accepts (it buries any other, and the caller waits out its timeout),
     * the same key must give the same answer, and two users' keys must not meet.
     */
    public function testThePagesControllerTakesAnyIdempotencyKey(): void
    {
        $jobs = $this->app->make(Jobs::class);
        if (!class_exists(\FreeCreditController::class, false)) {  // the page's block, as the test above loads it
            require_once laravelPageFile('calls-controller', explode('// Gifts from the wheel', $GLOBALS['laravelPage']['calls'])[0]);
        }
        foreach (['retry 1 / سلام', str_repeat('k', 300)] as $n => $key) {
            $user = (object) ['id' => "{$this->run}-key$n"];
            $started = microtime(true);
            $first = (new \FreeCreditController())($jobs, new \Illuminate\Http\Request($user, ['Idempotency-Key' => $key]));
            self::checkPanelAnswer($first, 'key ' . $n);
            Check::that(microtime(true) - $started < 8, 'answered, not left to time out: ' . json_encode($first->data));
            $again = (new \FreeCreditController())($jobs, new \Illuminate\Http\Request($user, ['Idempotency-Key' => $key]));
            Check::equal($first->data, $again->data, 'the same key, the same answer');
            $otherUser = (object) ['id' => "{$this->run}-other$n"];
            $other = (new \FreeCreditController())($jobs, new \Illuminate\Http\Request($otherUser, ['Idempotency-Key' => $key]));
            self::checkPanelAnswer($other, 'another user, key ' . $n);
            // The answer names no request id: each user's is decided under its own (the page hashes the user in).
            $client = $this->app->make(Client::class);
            foreach ([$user, $otherUser] as $asker) {
                $result = $this->redis->get("{$client->namespace}:{freecredit}:result:idem:" . hash('sha256', $asker->id . "\n" . $key));
                Check::that(is_string($result) && (json_decode($result, true)['user_id'] ?? null) === $asker->id,
                    "{$asker->id}'s own request decided: " . var_export($result, true));
            }
        }
    }

    /** The panel's answer (seed 001): HTTP 200, `status` 201 with a positive amount, or 429 with its Persian message. */
    private static function checkPanelAnswer(object $response, string $where): void
    {
        $data = $response->data;
        Check::equal(200, $response->status, "$where: HTTP 200, the outcome in the body");
        if (($data['status'] ?? null) === 201) {
            Check::that(is_int($data['amount'] ?? null) && $data['amount'] > 0 && count($data) === 2, "$where: " . json_encode($data));
        } else {
            Check::that(($data['status'] ?? null) === 429 && is_string($data['message'] ?? null)
                && (str_contains($data['message'], 'ثانیه دیگر') || str_contains($data['message'], 'ماهانه')), "$where: " . json_encode($data, JSON_UNESCAPED_UNICODE));
        }
    }

    public function testThePagesEventReaderAcknowledgesWhatTheJobsWrite(): void
    {
        $client = $this->app->make(Client::class);
        $log = tempnam(sys_get_temp_dir(), 'hoopoe-laravel-events');
        $reader = proc_open([PHP_BINARY, __DIR__ . '/laravel/events.php'], [1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes);
        try {
            $redis = $this->redis;
            $group = static function () use ($client, $redis): ?array {
                foreach ($redis->xInfo('GROUPS', $client->eventsKey()) ?: [] as $g) {
                    if ($g['name'] === 'smm-panel') {
                        return $g;
                    }
                }
                return null;
            };
            $deadline = microtime(true) + 30;
            while ($group() === null && microtime(true) < $deadline) {
                usleep(100000);
            }
            Check::that($group() !== null, 'the reader created its group: ' . file_get_contents($log));
            $this->app->make(Jobs::class)->creditBalance("{$this->run}-reader", 7);
            [$event] = $this->waitEvents(['credit.balance.recorded'], fn ($e) => ($e->data['user_id'] ?? null) === "{$this->run}-reader");
            $deadline = microtime(true) + 30;
            $before = static fn (array $g) => version_compare(str_replace('-', '.', $g['last-delivered-id']), str_replace('-', '.', $event->id), '<');
            while (($before($group()) || $group()['pending'] > 0) && microtime(true) < $deadline) {
                usleep(100000);
            }
            $seen = $group();
            Check::that(!$before($seen), 'the reader read the event: ' . file_get_contents($log));
            Check::equal(0, $seen['pending'], 'the reader acknowledged what it read');
        } finally {
            $pid = proc_get_status($reader)['pid'];
            proc_terminate($reader);  // the reader's own pid (the command is an array: no shell in between)
            proc_close($reader);
            unlink($log);
            // Killed by a signal, the reader ran no shutdown function: its page files (laravelPageFile) are removed here.
            foreach (glob(sys_get_temp_dir() . "/hoopoe-laravel-$pid-*.php") ?: [] as $file) {
                unlink($file);
            }
        }
    }
}
