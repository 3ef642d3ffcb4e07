<?php
// The PHP client's tests, runnable without composer: `php tests/run.php` (scripts/test-clients.sh runs it with a
// private Redis in REDIS_URL and, with HOOPOE_TEST_WORKER=1, a real worker on HOOPOE_NAMESPACE).

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    foreach (['Hoopoe\\Tests\\' => __DIR__ . '/', 'Hoopoe\\' => __DIR__ . '/../src/'] as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});

$failures = 0;
$ran = 0;
$suites = [new Hoopoe\Tests\ConformanceTest(), new Hoopoe\Tests\ClientTest()];
if (getenv('HOOPOE_TEST_WORKER') === '1') {
    $suites[] = new Hoopoe\Tests\WorkerTest();
    $suites[] = new Hoopoe\Tests\LaravelPageTest();
} else {
    fwrite(STDERR, "skipping WorkerTest: needs a worker (scripts/test-clients.sh)\n");
}
foreach ($suites as $suite) {
    foreach (get_class_methods($suite) as $method) {
        if (!str_starts_with($method, 'test')) {
            continue;
        }
        $ran++;
        try {
            $suite->$method();
            echo "ok   " . get_class($suite) . "::$method\n";
        } catch (Throwable $e) {
            $failures++;
            echo "FAIL " . get_class($suite) . "::$method: " . $e->getMessage() . "\n  at " . $e->getFile() . ':' . $e->getLine() . "\n";
        }
    }
}
echo "$ran tests, $failures failed\n";
exit($failures === 0 ? 0 : 1);
