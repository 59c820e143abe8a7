// Shared state of the k6 module stubs: what the script under test sent and recorded.
export interface StubResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  error_code?: number;
  duration?: number;
}

export interface SentRequest {
  method: string;
  url: string;
  body: string | null;
  params: Record<string, unknown>;
}

interface K6State {
  requests: SentRequest[];
  samples: Array<{ metric: string; value: number; tags: Record<string, string> }>;
  scenarioName: string;
  /** exec.scenario.startTime: Unix ms. */
  scenarioStartTime: number;
  sleeps: number[];
  respond: (request: SentRequest) => StubResponse;
  reset(): void;
}

// On globalThis: the test re-imports k6/run.js (vi.resetModules), which re-imports the stubs,
// and every copy must share one state with the test.
const holder = globalThis as { __pilotK6State?: K6State };
holder.__pilotK6State ??= {
  requests: [],
  samples: [],
  scenarioName: '',
  scenarioStartTime: 0,
  sleeps: [],
  respond: () => ({ status: 200 }),
  reset() {
    this.requests = [];
    this.samples = [];
    this.sleeps = [];
    this.scenarioStartTime = Date.now();
  },
};
export const k6State: K6State = holder.__pilotK6State;
