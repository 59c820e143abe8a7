import { k6State } from './state.ts';

class Metric {
  name: string;
  constructor(name: string) {
    this.name = name;
  }
  add(value: number, tags: Record<string, string> = {}) {
    k6State.samples.push({ metric: this.name, value, tags });
  }
}
export class Trend extends Metric {}
export class Rate extends Metric {}
export class Counter extends Metric {}
