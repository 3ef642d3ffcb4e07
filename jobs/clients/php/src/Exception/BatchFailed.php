<?php

declare(strict_types=1);

namespace Hoopoe\Exception;

/**
 * enqueueBatch() sent its jobs and Redis refused some of them: $results has one entry a job, in order: an Enqueued
 * (written), its Duplicate or AlreadyEnqueued (not written, as always), or the HoopoeException of a job not written.
 * A refusal while the batch ran (WRONGTYPE) is one job's, the others written; one before it ran (OOM, NOPERM,
 * READONLY, MISCONF, NOREPLICAS) discards the batch's transaction, and every job's result says so. getPrevious() is
 * the first HoopoeException of $results.
 */
final class BatchFailed extends HoopoeException
{
    /** @param list<\Hoopoe\Enqueued|HoopoeException> $results */
    public function __construct(public readonly array $results, HoopoeException $first)
    {
        parent::__construct('the batch was sent and Redis refused jobs of it ($results says which were written): '
            . $first->getMessage(), 0, $first);
    }
}
