<?php
// Runs LARAVEL.md's event reader block as written (it loops for ever): LaravelPageTest starts it as a process, checks
// through Redis that it reads and acknowledges the events, and stops it by its pid.

declare(strict_types=1);

require __DIR__ . '/bootstrap.php';
laravelApplication();
require laravelPageFile('events', $GLOBALS['laravelPage']['events']);
