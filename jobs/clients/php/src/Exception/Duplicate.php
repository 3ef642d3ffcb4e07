<?php

declare(strict_types=1);

namespace Hoopoe\Exception;

/** A job with the same unique key is pending or running; existingId is its id. */
final class Duplicate extends HoopoeException
{
    public function __construct(public readonly string $existingId)
    {
        parent::__construct("duplicate: job $existingId holds the unique key");
    }
}
