<?php

declare(strict_types=1);

namespace Hoopoe\Exception;

/**
 * enqueueBatch() sent its jobs and Redis refused one of them (an error reply: WRONGTYPE, OOM, READONLY, ...). Redis
 * runs each job of the pipeline on its own, so the others are not undone: $results has one entry a job, in order:
 * an Enqueued (written), its Duplicate or AlreadyEnqueued (not written, as always), or the HoopoeException of a job
 * Redis refused (not written). getPrevious() is the first of those.
 */
final class BatchFailed extends HoopoeException
{
    /** @param list<\Hoopoe\Enqueued|HoopoeException> $results */
    public function __construct(public readonly array $results, HoopoeException $first)
    {
        parent::__construct('the batch was sent and Redis refused a job of it, not the others ($results says which were written): '
            . $first->getMessage(), 0, $first);
    }
}
