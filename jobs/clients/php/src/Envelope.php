<?php

declare(strict_types=1);

namespace Hoopoe;

/**
 * The envelope rules of jobs/PROTOCOL.md, checked before anything is sent (the worker checks the same rules and
 * sends a job that breaks them to the dead set). jobs/conformance/envelopes.json holds the cases all clients pass.
 */
final class Envelope
{
    public const MAX_BYTES = 524288;
    /** A time at or over this is in milliseconds. */
    public const MAX_SECONDS = 1e11;
    /** The longest number text the worker reads (Sources/HoopoeJSON/JSONNumberLength.swift). */
    public const MAX_NUMBER_CHARACTERS = 100;
    /** The longest unique lock or once-key, in seconds (~31 years): the enqueue function refuses more. */
    public const MAX_KEY_SECONDS = 1000000000;

    /**
     * The JSON text of an envelope, as it goes to Redis. An empty payload is sent as {} (PHP's [] would be a JSON
     * array, which handlers refuse); floats keep their fraction, text stays UTF-8.
     *
     * @param array<string, mixed> $envelope
     */
    public static function encode(array $envelope): string
    {
        if (array_key_exists('payload', $envelope) && ($envelope['payload'] === [] || $envelope['payload'] === null)) {
            $envelope['payload'] = new \stdClass();
        }
        return json_encode($envelope, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR);
    }

    /**
     * encode(), but a value JSON cannot carry (NAN, INF, text that is not UTF-8, such as a Persian word cut in the middle
     * of a character) throws InvalidJob naming the envelope's field that holds it, not a JsonException.
     *
     * @param array<string, mixed> $envelope
     * @throws Exception\InvalidJob
     */
    public static function encodeChecked(array $envelope): string
    {
        try {
            return self::encode($envelope);
        } catch (\JsonException $e) {
            $field = 'envelope';
            foreach ($envelope as $key => $value) {
                try {
                    self::encode([$key => $value]);
                } catch (\JsonException) {
                    $field = (string) $key;
                    break;
                }
            }
            $why = match ($e->getCode()) {
                JSON_ERROR_INF_OR_NAN => 'NAN or INF, which are not JSON numbers',
                JSON_ERROR_UTF8, JSON_ERROR_UTF16 => 'text that is not UTF-8 (' . $e->getMessage() . ')',
                default => $e->getMessage(),
            };
            throw new Exception\InvalidJob($field, "$field is not JSON: $why");
        }
    }

    /**
     * @return array{0: string, 1: string}|null [field, message] for the first rule the text breaks: size first, then a
     * number's length, then the rules.
     */
    public static function problemInText(string $text, int $maxBytes = self::MAX_BYTES): ?array
    {
        if (strlen($text) > $maxBytes) {
            return ['size', 'the envelope is ' . strlen($text) . " bytes, the limit is $maxBytes"];
        }
        if (self::hasOverlongNumber($text)) {
            return ['number', 'a number is written in more than ' . self::MAX_NUMBER_CHARACTERS . ' characters'];
        }
        try {
            $value = json_decode($text, false, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            return ['envelope', 'not JSON: ' . $e->getMessage()];
        }
        return self::problem($value);
    }

    /**
     * Whether the JSON text holds, outside its strings, a number written in more than MAX_NUMBER_CHARACTERS characters.
     * The worker sends such an envelope to the dead set (Foundation's decoder traps on some), and json_encode writes one
     * for a float when serialize_precision is raised (at 100, 1.2e-300 takes 107 characters). The worker's one pass
     * (JSONNumberLength.hasOverlongNumber): a run of 0-9 - + . e E outside strings; after a cheap search for such a
     * run anywhere, which almost every text lacks.
     */
    public static function hasOverlongNumber(string $text): bool
    {
        if (preg_match('/[-+.eE0-9]{' . (self::MAX_NUMBER_CHARACTERS + 1) . '}/', $text) !== 1) {
            return false;
        }
        $inString = false;
        $escaped = false;
        $run = 0;
        $length = strlen($text);
        for ($i = 0; $i < $length; $i++) {
            $byte = $text[$i];
            if ($inString) {
                if ($escaped) {
                    $escaped = false;
                } elseif ($byte === '\\') {
                    $escaped = true;
                } elseif ($byte === '"') {
                    $inString = false;
                }
                continue;
            }
            if (strpos('0123456789-+.eE', $byte) !== false) {
                if (++$run > self::MAX_NUMBER_CHARACTERS) {
                    return true;
                }
            } else {
                $run = 0;
                $inString = $byte === '"';
            }
        }
        return false;
    }

    /** @return array{0: string, 1: string}|null [field, message] for a decoded envelope (json_decode without assoc). */
    public static function problem(mixed $env): ?array
    {
        if (!$env instanceof \stdClass) {
            return ['envelope', 'the envelope must be a JSON object'];
        }
        foreach (['id', 'type', 'payload'] as $field) {
            if (!property_exists($env, $field)) {
                return [$field, "$field is required"];
            }
        }
        if (!is_string($env->id) || !preg_match('/^[A-Za-z0-9._:-]{1,128}$/D', $env->id)) {
            return ['id', 'id must be 1-128 characters from A-Z a-z 0-9 . _ : - (got ' . json_encode($env->id) . ')'];
        }
        if (!is_string($env->type) || !preg_match('/^[A-Za-z0-9._:-]{1,100}$/D', $env->type)) {
            return ['type', 'type must be 1-100 characters from A-Z a-z 0-9 . _ : - (got ' . json_encode($env->type) . ')'];
        }
        // queue, attempt and enqueued_at may be missing, but not null (their schema types have no null).
        $queue = property_exists($env, 'queue') ? $env->queue : '';
        if ($queue !== '' && (!is_string($queue) || !preg_match('/^(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/D', $queue))) {
            return ['queue', 'queue must be 1-64 characters from A-Z a-z 0-9 . _ -, not starting with . and without .. (got ' . json_encode($queue) . ')'];
        }
        $attempt = property_exists($env, 'attempt') ? $env->attempt : 0;
        if (!(self::isWhole($attempt) && $attempt >= 0 && $attempt <= 1000)) {
            return ['attempt', 'attempt must be a whole number 0-1000 (got ' . json_encode($attempt) . ')'];
        }
        $max = $env->max_attempts ?? null;
        if ($max !== null && !(self::isWhole($max) && $max >= 1 && $max <= 1000)) {
            return ['max_attempts', 'max_attempts must be a whole number 1-1000 or null (got ' . json_encode($max) . ')'];
        }
        $timeout = $env->timeout ?? null;
        if ($timeout !== null && !(self::isNumber($timeout) && $timeout > 0 && $timeout <= 86400)) {
            return ['timeout', 'timeout must be > 0 and <= 86400 seconds (got ' . json_encode($timeout) . ')'];
        }
        foreach (['enqueued_at', 'run_at'] as $field) {
            $value = property_exists($env, $field) ? $env->$field : 0;
            if (($value !== null || $field === 'enqueued_at') && ($problem = self::timeProblem($field, $value)) !== null) {
                return [$field, $problem];
            }
        }
        $key = $env->unique_key ?? null;
        if ($key !== null && ($problem = self::uniqueKeyProblem($key)) !== null) {
            return ['unique_key', $problem];
        }
        $for = $env->unique_for ?? null;
        if ($for !== null && !(self::isNumber($for) && $for > 0 && $for <= 2592000)) {
            return ['unique_for', 'unique_for must be > 0 and <= 2592000 seconds (got ' . json_encode($for) . ')'];
        }
        $notify = $env->notify ?? null;
        if ($notify !== null && !is_bool($notify)) {
            return ['notify', 'notify must be true, false or null (got ' . json_encode($notify) . ')'];
        }
        return null;
    }

    /**
     * Why the workers would refuse $namespace as HOOPOE_NAMESPACE (Sources/hoopoe/GlobalOptions.swift), or null: empty,
     * a brace, Unicode's White_Space or a control character.
     */
    public static function namespaceProblem(string $namespace): ?string
    {
        $found = preg_match('/[{}\x{0}-\x{20}\x{7f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]/u', $namespace);
        if ($namespace === '' || $found !== 0) {  // false: not UTF-8
            return 'the namespace must be a non-empty text without braces, spaces or control characters, as the workers require of '
                . 'HOOPOE_NAMESPACE (got ' . (json_encode($namespace, JSON_UNESCAPED_UNICODE) ?: 'text that is not UTF-8')
                . '): a queue\'s keys carry {queue} as their Redis Cluster hash tag (hoopoe:{default}:stream)';
        }
        return null;
    }

    /**
     * [field, message] for the first enqueue option of $o (Client::OPTIONS) that cannot mean what the caller asked, or
     * null: the option edges of jobs/PROTOCOL.md ("Enqueue options") the envelope rules do not cover. Refused, not
     * clamped or defaulted: each changed when or whether the job runs.
     *
     * @param array<string, mixed> $o
     * @param float|int|null $runAt the job's run time (null: now)
     * @return array{0: string, 1: string}|null
     */
    public static function optionProblem(array $o, float|int|null $runAt, float $now): ?array
    {
        $uniqueKey = $o['unique_key'] ?? null;
        $onceKey = $o['once_key'] ?? null;
        if (isset($o['unique_for']) && $uniqueKey === null) {
            return ['unique_for', 'unique_for needs a unique_key: without one the job is not unique'];
        }
        if ($uniqueKey !== null && !isset($o['unique_for']) && $runAt !== null && $runAt - $now + 86400 > self::MAX_KEY_SECONDS) {
            return ['run_at', 'run_at is ' . (int) ceil($runAt - $now) . ' seconds ahead, too far for a unique job: its lock lasts until 24 h '
                . 'after the run time, at most ' . self::MAX_KEY_SECONDS . ' seconds (about 31 years); give unique_for or an earlier run_at'];
        }
        if (isset($o['once_for'])) {
            if ($onceKey === null) {
                return ['once_for', 'once_for needs a once_key: without one the job is not once-only'];
            }
            if (!self::isNumber($o['once_for']) || $o['once_for'] <= 0 || $o['once_for'] > self::MAX_KEY_SECONDS) {
                return ['once_for', 'once_for must be > 0 and <= ' . self::MAX_KEY_SECONDS . ' seconds, about 31 years (got ' . json_encode($o['once_for']) . ')'];
            }
        }
        if ($onceKey !== null && (!is_string($onceKey) || $onceKey === '')) {
            return ['once_key', 'once_key must be a non-empty string (got ' . json_encode($onceKey) . ')'];
        }
        return null;
    }

    /** Why $value is not Unix seconds (0 <= x < 1e11), or null. */
    public static function timeProblem(string $field, mixed $value): ?string
    {
        if (self::isNumber($value) && $value >= 0 && $value < self::MAX_SECONDS) {
            return null;
        }
        $hint = self::isNumber($value) && $value >= self::MAX_SECONDS ? ' - milliseconds? send Unix seconds' : '';
        return "$field must be Unix seconds, 0 <= x < 1e11 (got " . json_encode($value) . ")$hint";
    }

    private static function uniqueKeyProblem(mixed $key): ?string
    {
        if (!is_string($key) || preg_match('/[\x00-\x1f\x7f\x{80}-\x{9f}]/u', $key) !== 0) {
            return 'unique_key must be a string without control characters, or null';
        }
        $length = preg_match_all('/./su', $key);
        if ($length < 1 || $length > 200) {
            return "unique_key must be 1-200 characters (got $length)";
        }
        return null;
    }

    /** 3, or 3.0 (a float with no fraction); not 3.5, "3" or true. */
    private static function isWhole(mixed $value): bool
    {
        return is_int($value) || (is_float($value) && is_finite($value) && floor($value) === $value);
    }

    private static function isNumber(mixed $value): bool
    {
        return (is_int($value) || is_float($value)) && is_finite((float) $value);
    }
}
