import { randomFillSync } from 'node:crypto';
import type { Context } from '@opentelemetry/api';
import {
  type IdGenerator,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import { traceIdWordsXor } from './hex.ts';

/**
 * Trace and span ids for every request the gateway traces — sampled or not, each gets ids (the
 * backend is told the decision) — cut from one hex string per 256 ids' worth of random bytes.
 * The SDK's RandomIdGenerator writes `Math.random()` into a buffer four bytes at a time and
 * hex-encodes it per id: ~190 ns per request's pair of ids on the development machine, ~40 ns
 * for two slices here. (The slices keep their 12 KiB batch string alive while any of its ids
 * is, e.g. in a span waiting for export: a few batches at most.)
 * An all-zero id (invalid; one in 2⁶⁴) is drawn again, as the SDK's guards against it.
 */
export class BatchedIdGenerator implements IdGenerator {
  readonly #random = Buffer.alloc(256 * 24);
  #hex = '';
  #at = 0;
  /**
   * The trace id made last and the XOR of its four 32-bit words, read from the random bytes it
   * was written from: the SDK asks the sampler about a new root's id right after making it, and
   * the ratio sampler (TraceIdRatioSampler) takes the words from here instead of parsing 32 hex
   * digits again (~2.2 k of the gateway's ~15 k instructions per unsampled request under
   * callgrind were that parse).
   */
  #lastTraceId: string | undefined;
  #lastTraceXor = 0;
  /** Ids a root span about to start takes (primeRoot): a sampled new trace decided beforehand. */
  #primedTraceId: string | undefined;
  #primedSpanId: string | undefined;

  get lastTraceId(): string | undefined {
    return this.#lastTraceId;
  }

  get lastTraceXor(): number {
    return this.#lastTraceXor;
  }

  /**
   * The next trace id and span id made are these (a `traceparent` from RootTraceparents that
   * says sampled, so the SDK's span for it carries the ids and decision the backend was told).
   */
  primeRoot(traceparent: string): void {
    this.#primedTraceId = traceparent.slice(3, 35);
    this.#primedSpanId = traceparent.slice(36, 52);
  }

  generateTraceId(): string {
    const primed = this.#primedTraceId;
    if (primed !== undefined) {
      this.#primedTraceId = undefined;
      this.#lastTraceId = undefined; // the sampler parses it: one request in a hundred at 1 %
      return primed;
    }
    const id = this.#take(32);
    const r = this.#random;
    const at = (this.#at - 32) >>> 1; // the id's first byte: #hex is r in hex, two digits a byte
    let xor = 0;
    for (let i = at; i < at + 16; i += 4)
      xor ^= (r[i]! << 24) | (r[i + 1]! << 16) | (r[i + 2]! << 8) | r[i + 3]!;
    this.#lastTraceXor = xor >>> 0;
    this.#lastTraceId = id;
    return id;
  }

  generateSpanId(): string {
    const primed = this.#primedSpanId;
    if (primed !== undefined) {
      this.#primedSpanId = undefined;
      return primed;
    }
    return this.#take(16);
  }

  #take(length: number): string {
    for (;;) {
      if (this.#at + length > this.#hex.length) {
        randomFillSync(this.#random);
        this.#hex = this.#random.toString('hex');
        this.#at = 0;
      }
      const id = this.#hex.slice(this.#at, this.#at + length);
      this.#at += length;
      if (id.charCodeAt(0) !== 48 || id !== '0'.repeat(length)) return id;
    }
  }
}

/**
 * The SDK's TraceIdRatioBasedSampler, decision for decision (the XOR of the trace id's four
 * 32-bit words below `ratio` × (2³² − 1), all of them at 1, invalid ids not sampled; the test
 * compares the two on generated ids), read with lookup tables instead of a branch per hex
 * digit: ~68 ns against ~137 ns per decision on the development machine, and the gateway asks
 * for one on every request. Not fewer instructions (under callgrind ~2.3 k against ~1.4 k): the
 * time saved is mispredicted branches on random digits.
 */
export class TraceIdRatioSampler implements Sampler {
  readonly #ratio: number;
  readonly #upperBound: number;
  readonly #ids: BatchedIdGenerator | undefined;

  /** With `ids`, the trace ids it made are decided from their words without parsing them. */
  constructor(ratio: number, ids?: BatchedIdGenerator) {
    this.#ids = ids;
    this.#ratio = clampRatio(ratio);
    this.#upperBound = ratioUpperBound(this.#ratio);
  }

  shouldSample(_context: Context, traceId: string): SamplingResult {
    const ids = this.#ids;
    // the same string made by `ids` (a new root) or another id, parsed (a caller's trace)
    const words =
      ids !== undefined && traceId === ids.lastTraceId ? ids.lastTraceXor : traceIdWordsXor(traceId);
    return {
      decision:
        words >= 0 && words < this.#upperBound
          ? SamplingDecision.RECORD_AND_SAMPLED
          : SamplingDecision.NOT_RECORD,
    };
  }

  toString(): string {
    return `TraceIdRatioBased{${this.#ratio}}`;
  }
}

function clampRatio(ratio: number): number {
  return Number.isNaN(ratio) ? 0 : Math.min(1, Math.max(0, ratio));
}

/** A trace is sampled when the XOR of its id's words is below this (the SDK's formula). */
function ratioUpperBound(ratio: number): number {
  return ratio === 1 ? 2 ** 32 : Math.floor(ratio * 0xffffffff);
}

const ROOTS_PER_BATCH = 256;

/**
 * New traces for requests that arrive without one (the gateway's): each a `traceparent` whose
 * flag is the root sampler's decision on its trace id (the SDK's formula over the id's four
 * 32-bit words), made from one block of random bytes per 256 — hex-encoded in one call, the
 * words read from the bytes, so nothing is parsed. A request that is not sampled needs nothing
 * else: no span, no SDK call, and the backend still learns the trace id and the decision. A
 * sampled one is handed to BatchedIdGenerator.primeRoot, so the SDK's root span gets these ids.
 *
 * Each header is put together when asked for, in the caller's hot, optimised code: a first
 * version built all 256 headers in a loop per block, which ran ~20 times a second at gateway
 * load — too rarely to be optimised — and took 1.2 % of the gateway's CPU profile at 1 %.
 */
export class RootTraceparents {
  readonly #random = Buffer.alloc(ROOTS_PER_BATCH * 24);
  readonly #words = new DataView(this.#random.buffer, this.#random.byteOffset, this.#random.length);
  readonly #upperBound: number;
  #hex = '';
  #at = ROOTS_PER_BATCH;

  /** `ratio`: the root sampler's (1 for always_on, 0 for always_off). */
  constructor(ratio: number) {
    this.#upperBound = ratioUpperBound(clampRatio(ratio));
  }

  next(): string {
    for (;;) {
      if (this.#at === ROOTS_PER_BATCH) {
        randomFillSync(this.#random);
        this.#hex = this.#random.toString('hex');
        this.#at = 0;
      }
      const at = this.#at++ * 24; // 16 bytes of trace id, 8 of span id
      const w = this.#words;
      const a = w.getUint32(at);
      const b = w.getUint32(at + 4);
      const c = w.getUint32(at + 8);
      const d = w.getUint32(at + 12);
      // an all-zero id is invalid (one in 2⁶⁴ for a span id): drawn again
      if ((a | b | c | d) === 0 || (w.getUint32(at + 16) | w.getUint32(at + 20)) === 0) continue;
      const h = at * 2;
      const hex = this.#hex;
      const flags = (a ^ b ^ c ^ d) >>> 0 < this.#upperBound ? '-01' : '-00';
      return `00-${hex.slice(h, h + 32)}-${hex.slice(h + 32, h + 48)}${flags}`;
    }
  }
}
