import { createHash } from 'node:crypto';
import { GatewayError } from '../../errors.ts';
import {
  addWindow,
  type CustomReading,
  emptyWindow,
  evaluateGates,
  type GateResult,
  type Verdict,
  type WindowNumbers,
} from './gates.ts';
import { FINAL_PHASES, type Phase, type RolloutConfig, type Step } from './schema.ts';

/**
 * The rollout state machine. Pure: every function takes the state, the route's rollout config
 * and the time, and returns the next state plus what to apply to the route (if anything).
 * Storage, leases, clocks and numbers live elsewhere (controller.ts), so this is tested alone.
 *
 *   pending ──resume──▶ running(step k) ──passing check──▶ running(step k+1) … ──▶ promoted
 *                        │  ▲                                    (entering the 100 step)
 *                 pause  ▼  │ resume
 *                        paused
 *   running: failed checks > maxFailedChecks ──▶ rolled-back (all traffic to the old backend)
 *   any active phase ──abort──▶ aborted (same as a rollback, by a person)
 *   any phase ──restart──▶ running(step 0)       skip: the next step now
 *
 * Checks are taken once per interval over one window [from, to) whose numbers accumulate while
 * the step waits for traffic; a decided check (pass or fail) starts a fresh window.
 */

/** What a transition asks to be applied to the route's weights and shadow. */
export type Target = { kind: 'step'; step: Step } | { kind: 'promote' } | { kind: 'rollback' };

export type EventKind =
  | 'start'
  | 'advance'
  | 'promote'
  | 'check-failed'
  | 'rollback'
  | 'pause'
  | 'resume'
  | 'skip'
  | 'abort'
  | 'restart'
  | 'config-changed';

export interface CheckRecord {
  at: number;
  step: number;
  value: Step;
  from: number;
  to: number;
  verdict: Verdict;
  gates: GateResult[];
  failedChecks: number;
}

export interface TimelineEntry {
  at: number;
  event: EventKind;
  /** Step index and value after the event (-1 / null before the first step). */
  step: number;
  value: Step | null;
  phase: Phase;
  by: string;
  detail?: string;
}

export interface RolloutWindow {
  from: number;
  to: number;
  numbers: WindowNumbers;
}

export interface RolloutState {
  route: string;
  phase: Phase;
  /** Index into `steps`; -1 before the first step. */
  step: number;
  /** The current step's value (kept so a changed `steps` list can be matched up). */
  value: Step | null;
  stepStartedAt: number | null;
  window: RolloutWindow | null;
  failedChecks: number;
  lastCheck: CheckRecord | null;
  /** The check that rolled the route back: gate, values and window. */
  failure: CheckRecord | null;
  /** Why the rollout is paused or ended, in words. */
  reason: string | null;
  timeline: TimelineEntry[];
  /** Incremented by every transition: writes are compare-and-set on it. */
  version: number;
  configHash: string;
  updatedAt: number;
}

export interface Transition {
  state: RolloutState;
  apply: Target | null;
  event: TimelineEntry | null;
}

export const COMMANDS = ['pause', 'resume', 'skip', 'abort', 'restart'] as const;
export type Command = (typeof COMMANDS)[number];

/** A command that makes no sense now, or a rollout that does not exist: answered, never thrown further. */
export class RolloutCommandError extends GatewayError {
  constructor(code: string, message: string, status = 409) {
    super(code, status, message);
    this.name = 'RolloutCommandError';
  }
}

const TIMELINE_MAX = 100;

/** Identity of a rollout block (its `status` record excluded): a change restarts nothing by itself. */
export function configHash(config: RolloutConfig): string {
  const { status: _status, ...rest } = config;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 12);
}

export function isActive(phase: Phase): boolean {
  return !FINAL_PHASES.has(phase);
}

/** Windows start on a whole second: the numbers are kept per second. */
export function windowStart(now: number): number {
  return Math.ceil(now / 1000) * 1000;
}

function targetFor(config: RolloutConfig, index: number): Target {
  const step = config.steps[index]!;
  return step === 100 ? { kind: 'promote' } : { kind: 'step', step };
}

function freshWindow(now: number): RolloutWindow {
  const from = windowStart(now);
  return { from, to: from, numbers: emptyWindow() };
}

function finish(
  prev: RolloutState,
  next: Omit<RolloutState, 'version' | 'updatedAt' | 'timeline'>,
  config: RolloutConfig,
  now: number,
  apply: Target | null,
  event: { kind: EventKind; by: string; detail?: string } | null,
): Transition {
  const state: RolloutState = { ...next, timeline: prev.timeline, version: prev.version + 1, updatedAt: now };
  state.value = state.step >= 0 ? (config.steps[state.step] ?? null) : null;
  let entry: TimelineEntry | null = null;
  if (event) {
    entry = {
      at: now,
      event: event.kind,
      step: state.step,
      value: state.value,
      phase: state.phase,
      by: event.by,
      ...(event.detail ? { detail: event.detail } : {}),
    };
    state.timeline = [...prev.timeline, entry].slice(-TIMELINE_MAX);
  }
  return { state, apply, event: entry };
}

/** The state of a rollout nobody has recorded yet: running its first step, or pending (`start: manual`). */
export function initialState(route: string, config: RolloutConfig, now: number): Transition {
  const blank: RolloutState = {
    route,
    phase: 'pending',
    step: -1,
    value: null,
    stepStartedAt: null,
    window: null,
    failedChecks: 0,
    lastCheck: null,
    failure: null,
    reason: null,
    timeline: [],
    version: 0,
    configHash: configHash(config),
    updatedAt: now,
  };
  if (config.start === 'manual') {
    return finish(
      blank,
      { ...blank, reason: 'waiting for a resume (start: manual)' },
      config,
      now,
      null,
      null,
    );
  }
  return enterStep(blank, config, 0, now, 'start', 'rollout', 'running');
}

/**
 * The state recorded in the table file's `status` (no Redis state, e.g. a restart without Redis).
 * An active rollout re-applies its current step (idempotent); a finished one applies nothing.
 */
export function stateFromStatus(
  route: string,
  config: RolloutConfig,
  status: NonNullable<RolloutConfig['status']>,
  now: number,
): Transition {
  const base = initialState(route, { ...config, start: 'manual' }, now).state;
  const step = Math.min(status.step, config.steps.length - 1);
  const state: RolloutState = {
    ...base,
    phase: status.phase,
    step,
    value: step >= 0 ? config.steps[step]! : null,
    stepStartedAt: step >= 0 ? now : null,
    window: status.phase === 'running' ? freshWindow(now) : null,
    reason: status.phase === 'pending' ? base.reason : null,
  };
  const apply = isActive(status.phase) && step >= 0 ? targetFor(config, step) : null;
  return { state, apply, event: null };
}

function enterStep(
  prev: RolloutState,
  config: RolloutConfig,
  index: number,
  now: number,
  event: EventKind,
  by: string,
  phase: Phase,
  detail?: string,
): Transition {
  const target = targetFor(config, index);
  const promoted = target.kind === 'promote';
  return finish(
    prev,
    {
      ...prev,
      phase: promoted ? 'promoted' : phase,
      step: index,
      stepStartedAt: now,
      window: promoted || phase !== 'running' ? null : freshWindow(now),
      reason: promoted ? 'every step passed' : phase === 'paused' ? prev.reason : null,
      failure: null,
    },
    config,
    now,
    target,
    { kind: promoted && event === 'advance' ? 'promote' : event, by, detail },
  );
}

/** The window the next check reads, once it is due (`settleMs` lets every instance publish first). */
export function dueWindow(
  state: RolloutState,
  config: RolloutConfig,
  now: number,
  settleMs: number,
): { from: number; to: number } | null {
  if (state.phase !== 'running' || !state.window) return null;
  const to = state.window.to + config.interval;
  return now >= to + settleMs ? { from: state.window.to, to } : null;
}

/**
 * One check: adds the numbers of [range.from, range.to) to the window and evaluates the gates.
 * pass → next step (or promoted); fail → one more failed check, rolled back past maxFailedChecks;
 * wait (too little traffic or a gate without data) → the window grows by one interval.
 */
export function check(
  state: RolloutState,
  config: RolloutConfig,
  range: { from: number; to: number },
  read: WindowNumbers,
  now: number,
  custom: Record<string, CustomReading> = {},
): Transition {
  if (state.phase !== 'running' || !state.window) return { state, apply: null, event: null };
  const window: RolloutWindow = {
    from: state.window.from,
    to: range.to,
    numbers: addWindow(state.window.numbers, read),
  };
  const value = config.steps[state.step]!;
  const { verdict, gates } = evaluateGates(config, value, window.numbers, custom);
  const failedChecks = state.failedChecks + (verdict === 'fail' ? 1 : 0);
  const record: CheckRecord = {
    at: now,
    step: state.step,
    value,
    from: window.from,
    to: window.to,
    verdict,
    gates,
    failedChecks,
  };
  const next = { ...state, lastCheck: record };
  if (verdict === 'wait') {
    return finish(state, { ...next, window }, config, now, null, null);
  }
  if (verdict === 'pass') {
    return enterStep(next, config, state.step + 1, now, 'advance', 'rollout', 'running');
  }
  const failing = gates
    .filter((g) => g.status === 'fail')
    .map(
      (g) =>
        `${g.gate} ${g.value}${g.unit === '%' ? '%' : g.unit === 'ms' ? ' ms' : ''} (needs ${g.op} ${g.threshold})`,
    )
    .join(', ');
  if (failedChecks > config.maxFailedChecks) {
    return finish(
      state,
      {
        ...next,
        failedChecks,
        phase: 'rolled-back',
        window: null,
        failure: record,
        reason: `failed checks ${failedChecks} > maxFailedChecks ${config.maxFailedChecks}: ${failing}`,
      },
      config,
      now,
      { kind: 'rollback' },
      { kind: 'rollback', by: 'rollout', detail: failing },
    );
  }
  return finish(
    state,
    { ...next, failedChecks, window: { from: range.to, to: range.to, numbers: emptyWindow() } },
    config,
    now,
    null,
    {
      kind: 'check-failed',
      by: 'rollout',
      detail: `${failedChecks}/${config.maxFailedChecks} tolerated: ${failing}`,
    },
  );
}

/** A person's command. Throws RolloutCommandError when the command makes no sense in this phase. */
export function command(
  state: RolloutState,
  config: RolloutConfig,
  cmd: Command,
  now: number,
  by: string,
): Transition {
  const refuse = (why: string): never => {
    throw new RolloutCommandError(
      'ROLLOUT_INVALID_COMMAND',
      `cannot ${cmd} a rollout that is ${state.phase}${why}`,
    );
  };
  switch (cmd) {
    case 'pause':
      if (state.phase !== 'running') refuse('');
      return finish(
        state,
        { ...state, phase: 'paused', window: null, reason: `paused by ${by}` },
        config,
        now,
        null,
        { kind: 'pause', by },
      );
    case 'resume':
      if (state.phase === 'pending') return enterStep(state, config, 0, now, 'start', by, 'running');
      if (state.phase !== 'paused') refuse('');
      // re-applying the current step is idempotent and repairs weights someone moved meanwhile
      return finish(
        state,
        { ...state, phase: 'running', window: freshWindow(now), reason: null },
        config,
        now,
        targetFor(config, state.step),
        { kind: 'resume', by },
      );
    case 'skip':
      if (state.phase !== 'running' && state.phase !== 'paused')
        refuse(state.phase === 'pending' ? ' (resume starts it)' : '');
      return enterStep(state, config, state.step + 1, now, 'skip', by, state.phase);
    case 'abort':
      if (!isActive(state.phase)) refuse('');
      return finish(
        state,
        { ...state, phase: 'aborted', window: null, reason: `aborted by ${by}` },
        config,
        now,
        { kind: 'rollback' },
        { kind: 'abort', by },
      );
    case 'restart':
      return enterStep(
        { ...state, failedChecks: 0, lastCheck: null, failure: null, reason: null },
        config,
        0,
        now,
        'restart',
        by,
        'running',
      );
  }
}

/**
 * The rollout block changed under a recorded state. A finished rollout stays finished; an active
 * one keeps going when its current step still exists (found by value), and is paused otherwise.
 */
export function reconcileConfig(state: RolloutState, config: RolloutConfig, now: number): Transition | null {
  const hash = configHash(config);
  if (hash === state.configHash) return null;
  if (!isActive(state.phase) || state.step < 0) {
    const step = Math.min(state.step, config.steps.length - 1);
    return finish(state, { ...state, step, configHash: hash }, config, now, null, {
      kind: 'config-changed',
      by: 'table',
    });
  }
  const current = state.value;
  const index = current === null ? -1 : config.steps.indexOf(current);
  if (index >= 0 && index < config.steps.length - 1) {
    return finish(state, { ...state, step: index, configHash: hash }, config, now, null, {
      kind: 'config-changed',
      by: 'table',
      detail: 'current step kept',
    });
  }
  const below =
    typeof current === 'number' ? config.steps.findLastIndex((s) => s === 'shadow' || s < current) : 0;
  return finish(
    state,
    {
      ...state,
      phase: 'paused',
      step: Math.max(0, below),
      window: null,
      configHash: hash,
      reason:
        'the steps changed and the current step is gone: resume to continue from the nearest step below, or restart',
    },
    config,
    now,
    null,
    { kind: 'config-changed', by: 'table', detail: 'paused: current step gone' },
  );
}
