<?php

declare(strict_types=1);

namespace Hoopoe\Exception;

/**
 * Redis has no `hoopoe_enqueue` function: Hoopoe's function library is not loaded there (no worker has started since
 * Redis (re)started: start one, or run `hoopoe functions load`), or this Redis predates functions (7.0).
 */
final class LibraryNotLoaded extends HoopoeException
{
    public const NOT_LOADED = 'the hoopoe function library is not loaded on this Redis (FCALL hoopoe_enqueue: function not found): '
        . 'start a hoopoe worker or run `hoopoe functions load`';
    public const NO_FUNCTIONS = 'this Redis has no functions (FCALL came in Redis 7.0): enqueueing later, unique or once-only jobs '
        . 'through this client needs Redis 7 or later';

    /** The exception for a Redis error reply that says so, else null. */
    public static function fromReply(string $text): ?self
    {
        if (str_contains($text, 'Function not found')) {
            return new self(self::NOT_LOADED);
        }
        if (str_contains(strtolower($text), 'unknown command') && str_contains(strtolower($text), 'fcall')) {
            return new self(self::NO_FUNCTIONS);
        }
        return null;
    }
}
