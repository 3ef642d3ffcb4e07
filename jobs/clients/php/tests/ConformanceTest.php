<?php

declare(strict_types=1);

namespace Hoopoe\Tests;

use Hoopoe\Client;
use Hoopoe\Enqueued;
use Hoopoe\Envelope;
use Hoopoe\Event;
use Hoopoe\Exception\AlreadyEnqueued;
use Hoopoe\Exception\Duplicate;
use Hoopoe\Exception\HoopoeException;
use Hoopoe\Exception\InvalidJob;
use Hoopoe\Exception\TooLarge;

/** jobs/conformance/*.json against this client: the same vectors the Swift, Python and Go tests read. */
final class ConformanceTest
{
    private \Redis $redis;

    public function __construct()
    {
        $this->redis = Check::redis();
    }

    /** A comparable form: objects become sorted arrays under a '{}' key, so {} and [] differ and key order does not. */
    public static function canonical(mixed $value): mixed
    {
        if ($value instanceof \stdClass) {
            $items = array_map([self::class, 'canonical'], get_object_vars($value));
            ksort($items);
            return ['{}' => $items];
        }
        return is_array($value) ? array_map([self::class, 'canonical'], $value) : $value;
    }

    public function testEveryEnvelopeCase(): void
    {
        $doc = Check::vectors('envelopes.json');
        Check::that(count($doc->cases) > 50, 'too few cases');
        foreach ($doc->cases as $case) {
            if (isset($case->json)) {
                $text = $case->json;
            } elseif (isset($case->sized)) {
                $s = $case->sized;
                $text = $s->prefix . str_repeat($s->fill, $s->total_bytes - strlen($s->prefix) - strlen($s->suffix)) . $s->suffix;
            } else {
                $text = json_encode($case->envelope, JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
            }
            $found = Envelope::problemInText($text, $doc->max_bytes);
            if ($case->valid) {
                Check::that($found === null, "$case->name: refused: " . json_encode($found));
            } else {
                Check::that($found !== null, "$case->name: accepted");
                Check::equal($case->field, $found[0], "$case->name ({$found[1]})");
            }
        }
    }

    /** @return array{0: string, 1: mixed, 2: array<string, mixed>} type, payload, options of a vector's call */
    private function call(\stdClass $call): array
    {
        $options = [];
        foreach (['queue', 'id', 'at', 'unique_key', 'unique_for', 'once_key', 'once_for', 'max_attempts', 'timeout', 'in', 'notify'] as $k) {
            if (isset($call->$k)) {
                $options[$k] = $call->$k;
            }
        }
        if (isset($call->at_from_now)) {
            $options['at'] = microtime(true) + $call->at_from_now;
        }
        // Payloads as a PHP application builds them: associative arrays, so an empty one is [].
        $payload = json_decode(json_encode($call->payload), true);
        if (isset($call->payload_member_bytes)) {
            $payload['member'] = str_repeat('x', $call->payload_member_bytes);
        }
        return [$call->type, $payload, $options];
    }

    private function checkEnvelope(string $json, \stdClass $spec, string $what): void
    {
        $env = json_decode($json, false);
        $now = microtime(true);
        foreach ((array) ($spec->envelope ?? []) as $k => $v) {
            Check::equal(self::canonical($v), self::canonical($env->$k ?? null), "$what: envelope.$k");
        }
        foreach ($spec->now ?? [] as $k) {
            Check::that(abs($env->$k - $now) < 60, "$what: $k is not now");
        }
        foreach ((array) ($spec->from_now ?? []) as $k => $offset) {
            Check::that(abs($env->$k - $now - $offset) < 60, "$what: $k is not now + $offset");
        }
        foreach ($spec->absent ?? [] as $k) {
            Check::that(!property_exists($env, $k), "$what: $k is present");
        }
    }

    private function checkWrites(string $ns, \stdClass $step, string $what): void
    {
        $sub = static fn (string $key): string => str_replace('{ns}', $ns, $key);
        if (isset($step->stream)) {
            $entries = array_values($this->redis->xRange($sub($step->stream->key), '-', '+'));
            Check::equal($step->stream->count, count($entries), "$what: stream length");
            if ($entries) {
                $this->checkEnvelope(end($entries)['job'], $step->stream, $what);
            }
        }
        if (isset($step->zset)) {
            $score = $this->redis->zScore($sub($step->zset->key), $step->zset->member);
            Check::that($score !== false && abs($score - microtime(true) - $step->zset->score_from_now) < 60, "$what: score $score");
        }
        if (isset($step->hash)) {
            $body = $this->redis->hGet($sub($step->hash->key), $step->hash->field);
            Check::that(is_string($body), "$what: no hash field");
            $this->checkEnvelope($body, $step->hash, $what);
        }
        if (isset($step->string)) {
            Check::equal($step->string->value, $this->redis->get($sub($step->string->key)), "$what: value");
            $ttl = $this->redis->ttl($sub($step->string->key));
            Check::that($ttl >= $step->string->ttl_between[0] && $ttl <= $step->string->ttl_between[1], "$what: ttl $ttl");
        }
        foreach ($step->missing ?? [] as $key) {
            Check::equal(0, $this->redis->exists($sub($key)), "$what: $key exists");
        }
    }

    /** An Enqueued with the result's status and id, and its queue where the vector names one. */
    private function checkResult(mixed $got, \stdClass $want, string $what): void
    {
        Check::that($got instanceof Enqueued, "$what: an Enqueued, got " . get_debug_type($got));
        Check::equal([$want->status, $want->id], [$got->status, $got->id], $what);
        if (isset($want->queue)) {
            Check::equal($want->queue, $got->queue, "$what: the queue");
        }
    }

    private function checkError(mixed $error, \stdClass $spec, string $what): void
    {
        $class = ['duplicate' => Duplicate::class, 'once' => AlreadyEnqueued::class, 'too_large' => TooLarge::class, 'invalid' => InvalidJob::class][$spec->kind ?? $spec->error];
        Check::that($error instanceof $class, "$what: expected $class, got " . (is_object($error) ? get_class($error) : json_encode($error)));
        if (isset($spec->existing_id)) {
            Check::equal($spec->existing_id, $error->existingId, "$what: existing id");
        }
        if (isset($spec->field)) {
            Check::equal($spec->field, $error->field(), "$what: field");
        }
    }

    public function testEveryEnqueueCase(): void
    {
        $doc = Check::vectors('enqueue.json');
        // enqueue.json has 49 cases and 4 of the clients' own: a file or a reading that lost some would check less and
        // still pass.
        Check::that(count($doc->cases) >= 49, 'too few enqueue cases: ' . count($doc->cases));
        Check::that(count($doc->client_cases) >= 4, 'too few client cases: ' . count($doc->client_cases));
        foreach ([...$doc->cases, ...$doc->client_cases] as $case) {
            $ns = 'conf-php-' . bin2hex(random_bytes(4));
            $client = new Client($this->redis, $ns);
            Check::that(count($case->steps) > 0, "$case->name: no steps");
            foreach ($case->steps as $i => $step) {
                $what = "$case->name, step $i";
                if (isset($step->batch)) {
                    $jobs = [];
                    foreach ($step->batch as $call) {
                        [$type, $payload, $options] = $this->call($call);
                        $jobs[] = ['type' => $type, 'payload' => $payload] + $options;
                    }
                    $results = $client->enqueueBatch($jobs);
                    Check::equal(count($step->results), count($results), "$what: one result per job");
                    foreach ($results as $j => $got) {
                        $want = $step->results[$j];
                        if (isset($want->error)) {
                            $this->checkError($got, $want, "$what #$j");
                        } else {
                            $this->checkResult($got, $want, "$what #$j");
                        }
                    }
                } elseif (isset($step->error)) {
                    [$type, $payload, $options] = $this->call($step->call);
                    $caught = null;
                    try {
                        $client->enqueue($type, $payload, $options);
                    } catch (HoopoeException $e) {
                        $caught = $e;
                    }
                    $this->checkError($caught, $step->error, $what);
                } else {
                    [$type, $payload, $options] = $this->call($step->call);
                    $this->checkResult($client->enqueue($type, $payload, $options), $step->result, $what);
                }
                $this->checkWrites($ns, $step, $what);
            }
        }
    }

    /** Each case through FCALL hoopoe_enqueue (what the client sends) and EVAL of jobs/lua/enqueue.lua (Redis < 7). */
    public function testEveryScriptCase(): void
    {
        $source = (string) file_get_contents(__DIR__ . '/../../../lua/enqueue.lua');
        $script = Check::vectors('enqueue.json')->script;
        Check::that(count($script) >= 13, 'too few script cases: ' . count($script));
        foreach (['fcall', 'eval'] as $way) foreach ($script as $listed) {
            $case = clone $listed;
            $case->name = "$way: $listed->name";
            $ns = 'conf-php-' . bin2hex(random_bytes(4));
            $keys = array_map(static fn ($k) => str_replace('{ns}', $ns, $k), $case->keys);
            $run = function (array $argv, \stdClass $want) use ($keys, $source, $case, $way): void {
                $args = [];
                foreach ($argv as $v) {
                    if (str_starts_with($v, '$sized:')) {
                        [$prefix, $suffix] = ['{"id":"s-huge","type":"diag.record","payload":{"key":"', '"}}'];
                        $v = $prefix . str_repeat('x', (int) substr($v, 7) - strlen($prefix) - strlen($suffix)) . $suffix;
                    }
                    $args[] = preg_replace_callback('/\$now\+(\d+)/', static fn ($m) => sprintf('%.6F', microtime(true) + (int) $m[1]), $v);
                }
                $this->redis->clearLastError();
                try {
                    $reply = $way === 'eval' ? $this->redis->eval($source, array_merge($keys, $args), 5)
                        : $this->redis->rawCommand('FCALL', 'hoopoe_enqueue', 5, ...$keys, ...$args);
                    $error = $reply === false ? (string) $this->redis->getLastError() : '';
                } catch (\RedisException $e) {  // phpredis throws a script's error reply
                    [$reply, $error] = [false, $e->getMessage()];
                }
                if (isset($want->error_contains)) {
                    Check::that($reply === false && str_contains($error, $want->error_contains),
                        "$case->name: expected the error $want->error_contains, got " . json_encode($reply) . " $error");
                } else {
                    Check::equal($want->reply, $reply, $case->name);
                }
            };
            $run($case->argv, $case);
            if (isset($case->stream_count)) {
                Check::equal($case->stream_count, $this->redis->xLen($keys[0]), "$case->name: stream length");
            }
            if (isset($case->stream_envelope)) {
                $entries = $this->redis->xRange($keys[0], '-', '+');
                $env = json_decode(end($entries)['job'], false);
                foreach ((array) $case->stream_envelope as $k => $v) {
                    Check::equal($v, $env->$k ?? null, "$case->name: envelope.$k");
                }
            }
            if (isset($case->score_from_now)) {
                Check::that(abs($this->redis->zScore($keys[1], $case->reply[1]) - microtime(true) - $case->score_from_now) < 60, "$case->name: score");
            }
            if (isset($case->key_ttl_between)) {
                [$key, $low, $high] = $case->key_ttl_between;
                $ttl = $this->redis->ttl(str_replace('{ns}', $ns, $key));
                Check::that($ttl >= $low && $ttl <= $high, "$case->name: ttl $ttl");
            }
            if (isset($case->then)) {
                $run($case->then->argv, $case->then);
            }
        }
    }

    public function testEventsDecode(): void
    {
        $doc = Check::vectors('events.json');
        foreach ($doc->decode as $case) {
            $event = Event::fromEntry('1-0', (array) $case->raw);
            Check::equal($case->event->type, $event->type, $case->name);
            Check::equal(self::canonical(json_decode(json_encode($case->event->data), true)), self::canonical($event->data), "$case->name: data");
            Check::that(is_float($event->at) && $event->at === (float) $case->event->at, "$case->name: at");
            Check::equal($case->event->job, $event->job, "$case->name: job");
            Check::equal([], Check::eventProblems($event, $doc), $case->name);
        }
        $wrong = new Event('1-0', 'freecredit.granted', ['user_id' => 176, 'request_id' => 'r', 'amount' => 1.5], 1.0);
        Check::equal(2, count(Check::eventProblems($wrong, $doc)), 'a wrong event is caught');
    }

    public function testAnEmptyPayloadArrayIsSentAsAnObject(): void
    {
        Check::equal('{"id":"x","payload":{}}', Envelope::encode(['id' => 'x', 'payload' => []]), 'encode');
    }
}
