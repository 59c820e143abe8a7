/**
 * The V8 flags every service (legacy, modern, gateway) starts with: its package.json `start`,
 * docker/service.Dockerfile's CMD and the stack runner use these, and the benches run their
 * subjects with them (scripts/tests/node-flags.test.ts keeps the copies equal).
 *
 * `--max-semi-space-size=16`: on a machine with lots of memory V8 lets the young generation
 * grow to 64 MB per semi-space (Node is built without pointer compression). Under load a
 * process sometimes settles there in a state where every scavenge keeps ~15 % of what it scans
 * and takes 15-50 ms instead of ~1 ms, until a major GC; the gateway with tracing on at 1 % went
 * there in most runs and paid +30-60 % CPU per request for it (--trace-gc in
 * packages/telemetry/README.md). 16 MB is V8's own cap on smaller machines; with it no run
 * went there, and the scavenges stay ~1 ms.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
