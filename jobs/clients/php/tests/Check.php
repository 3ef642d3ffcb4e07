<?php

declare(strict_types=1);

namespace Hoopoe\Tests;

/** Assertions that throw with a message naming what differed; a failed check fails the test that made it. */
final class Check
{
    public static function that(bool $condition, string $what): void
    {
        if (!$condition) {
            throw new \RuntimeException($what);
        }
    }

    public static function equal(mixed $expected, mixed $actual, string $what): void
    {
        if ($expected != $actual || gettype($expected) !== gettype($actual)) {
            throw new \RuntimeException("$what: expected " . json_encode($expected) . ', got ' . json_encode($actual));
        }
    }

    public static function redis(): \Redis
    {
        $url = parse_url(getenv('REDIS_URL') ?: 'redis://127.0.0.1:6379/0');
        $redis = new \Redis();
        $redis->connect($url['host'] ?? '127.0.0.1', $url['port'] ?? 6379);
        $redis->setOption(\Redis::OPT_READ_TIMEOUT, -1);
        $db = (int) ltrim($url['path'] ?? '/0', '/');
        if ($db !== 0) {
            $redis->select($db);
        }
        return $redis;
    }

    /**
     * The Redis for tests that delete the function library, loaded with it: HOOPOE_TEST_LONE_REDIS, a unix socket
     * scripts/test-clients.sh serves with no worker on it. On REDIS_URL's Redis the worker's keeper loads the library
     * again every 15 s: a reload between a test's FUNCTION DELETE and its enqueue made the enqueue succeed. Throws (the
     * test fails, it is not skipped) when the script did not start it.
     */
    public static function loneRedis(): \Redis
    {
        $socket = (string) getenv('HOOPOE_TEST_LONE_REDIS');
        self::that($socket !== '' && getenv('HOOPOE_BIN') !== false, 'HOOPOE_TEST_LONE_REDIS and HOOPOE_BIN unset: run scripts/test-clients.sh');
        $redis = new \Redis();
        $redis->connect($socket);
        $redis->setOption(\Redis::OPT_READ_TIMEOUT, -1);
        self::loadFunctions();
        return $redis;
    }

    /** `hoopoe functions load` into the lone Redis (``loneRedis()``), as the clients' READMEs tell users to. */
    public static function loadFunctions(): void
    {
        $url = 'unix://' . getenv('HOOPOE_TEST_LONE_REDIS');
        exec(escapeshellarg((string) getenv('HOOPOE_BIN')) . ' functions load --redis-url ' . escapeshellarg($url) . ' 2>&1', $output, $status);
        self::equal(0, $status, 'hoopoe functions load: ' . implode("\n", $output));
    }

    /** @return mixed the vectors file, objects as stdClass (so {} and [] stay apart) */
    public static function vectors(string $name): mixed
    {
        return json_decode((string) file_get_contents(__DIR__ . "/../../../conformance/$name"), false, 512, JSON_THROW_ON_ERROR);
    }

    /** Whether $value has the JSON type named in events.json ("string", "integer", "number", "string|null", ...). */
    public static function jsonType(mixed $value, string $spec): bool
    {
        foreach (explode('|', $spec) as $type) {
            $ok = match ($type) {
                'null' => $value === null,
                'string' => is_string($value),
                'integer' => is_int($value),
                'number' => is_int($value) || is_float($value),
                'boolean' => is_bool($value),
                'array' => is_array($value) && array_is_list($value),
                'object' => is_array($value) && !array_is_list($value),
                default => false,
            };
            if ($ok) {
                return true;
            }
        }
        return false;
    }

    /** @return list<string> what in $event differs from events.json's fields and values */
    public static function eventProblems(\Hoopoe\Event $event, \stdClass $doc): array
    {
        $problems = [];
        foreach ((array) ($doc->fields->{$event->type} ?? []) as $field => $spec) {
            if (!array_key_exists($field, $event->data)) {
                $problems[] = "{$event->type}: no $field";
            } elseif (!self::jsonType($event->data[$field], $spec)) {
                $problems[] = "{$event->type}.$field = " . json_encode($event->data[$field]) . ", want $spec";
            }
        }
        foreach ((array) ($doc->values->{$event->type} ?? []) as $field => $allowed) {
            if (array_key_exists($field, $event->data) && !in_array($event->data[$field], $allowed, true)) {
                $problems[] = "{$event->type}.$field = " . json_encode($event->data[$field]) . ', want one of ' . json_encode($allowed);
            }
        }
        return $problems;
    }
}
