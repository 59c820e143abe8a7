import { createHash } from 'node:crypto';

export default {
  sha256(input: string, encoding: 'hex') {
    return createHash('sha256').update(input).digest(encoding);
  },
};
