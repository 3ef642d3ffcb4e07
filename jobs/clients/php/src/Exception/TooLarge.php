<?php

declare(strict_types=1);

namespace Hoopoe\Exception;

/** The envelope is over the size limit (512 KiB): pass a reference (an id, a URL) instead of the data. */
final class TooLarge extends HoopoeException
{
    public function __construct(public readonly int $size, public readonly int $limit)
    {
        parent::__construct("the envelope is $size bytes, the limit is $limit");
    }
}
