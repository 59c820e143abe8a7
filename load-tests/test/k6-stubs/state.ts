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
  respond: () => ({ status: 200 }),
  reset() {
    this.requests = [];
    this.samples = [];
  },
};
export const k6State: K6State = holder.__pilotK6State;
