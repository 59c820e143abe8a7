import { k6State } from './state.ts';

export default {
  get scenario() {
    return { name: k6State.scenarioName, startTime: k6State.scenarioStartTime };
  },
};
