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
/** `00-` trace id `-` span id `-` flags */
const TRACEPARENT_LENGTH = 55;

/**
 * New traces for requests that arrive without one (the gateway's): each a finished
 * `traceparent` whose flag is the root sampler's decision on its trace id, cut from one string
 * per 256 made together. A request that is not sampled needs nothing else — no span, no SDK call,
 * no string built per request — and the backend still learns the trace id and the decision. A
 * sampled one is handed to BatchedIdGenerator.primeRoot, so the SDK's root span gets these ids.
 *
 * Counted under callgrind, going through the SDK for a span nobody records (ids, context
 * checks, the sampler chain, a non-recording span, its context's validation, the header built
 * from it) was ~6 k instructions of the gateway's ~280 k per request.
 */
export class RootTraceparents {
  readonly #random = Buffer.alloc(ROOTS_PER_BATCH * 24);
  readonly #upperBound: number;
  #records = '';
  #at = ROOTS_PER_BATCH;

  /** `ratio`: the root sampler's (1 for always_on, 0 for always_off). */
  constructor(ratio: number) {
    this.#upperBound = ratioUpperBound(clampRatio(ratio));
  }

  next(): string {
    if (this.#at === ROOTS_PER_BATCH) this.#refill();
    const from = this.#at++ * TRACEPARENT_LENGTH;
    return this.#records.slice(from, from + TRACEPARENT_LENGTH);
  }

  #refill(): void {
    const r = this.#random;
    randomFillSync(r);
    for (let at = 0; at < r.length; at += 24) {
      // an all-zero id is invalid (one in 2⁶⁴ for a span id): its last byte made 1, as the SDK does
      if (
        (r.readUInt32BE(at) | r.readUInt32BE(at + 4) | r.readUInt32BE(at + 8) | r.readUInt32BE(at + 12)) ===
        0
      )
        r[at + 15] = 1;
      if ((r.readUInt32BE(at + 16) | r.readUInt32BE(at + 20)) === 0) r[at + 23] = 1;
    }
    const hex = r.toString('hex');
    let records = '';
    for (let i = 0; i < ROOTS_PER_BATCH; i++) {
      const at = i * 24;
      const xor =
        (r.readUInt32BE(at) ^ r.readUInt32BE(at + 4) ^ r.readUInt32BE(at + 8) ^ r.readUInt32BE(at + 12)) >>>
        0;
      const h = at * 2;
      records += `00-${hex.slice(h, h + 32)}-${hex.slice(h + 32, h + 48)}-${xor < this.#upperBound ? '01' : '00'}`;
    }
    this.#records = records;
    this.#at = 0;
  }
}
