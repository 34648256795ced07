import type { Command } from '../command.js';
import { KlpError } from '../../klp/errors.js';

export const command: Command = {
  name: 'dump',
  summary: '(not implemented yet)',
  usage: 'usage: klp-convert dump',
  run() {
    throw new KlpError('NOT_IMPLEMENTED', "'dump' is not implemented yet");
  },
};
