<?php

declare(strict_types=1);

namespace Hoopoe\Exception;

/** Base class of every error this client throws on purpose: catch it to handle all of the protocol's refusals. */
class HoopoeException extends \RuntimeException
{
}
