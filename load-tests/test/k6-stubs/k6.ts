import { k6State } from './state.ts';

/** k6's sleep: recorded, not slept. */
export function sleep(seconds: number): void {
  k6State.sleeps.push(seconds);
}
