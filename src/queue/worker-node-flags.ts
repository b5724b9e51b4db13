/**
 * The Node flags a send worker runs with, wherever it is started: `npm run worker`, the compose
 * file's worker service, the demo and the benchmarks (a test checks that they agree).
 *
 * A worker at a thousand sends a second allocates a stream of short-lived objects (jobs, Redis
 * replies, HTTP requests). With V8's default 16 MB semi-spaces, many of them outlive a scavenge
 * while their send is still in flight and get copied to the old generation, which then needs
 * mark-compact passes: measured here, garbage collection was about a quarter of the worker's busy
 * CPU. With 64 MB semi-spaces it was about 15%, for at most ~150 MB more memory per worker.
 */
export const SEND_WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
