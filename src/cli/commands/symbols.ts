import type { Command } from '../command.js';
import { KlpError } from '../../klp/errors.js';

export const command: Command = {
  name: 'symbols',
  summary: '(not implemented yet)',
  usage: 'usage: klp-convert symbols',
  run() {
    throw new KlpError('NOT_IMPLEMENTED', "'symbols' is not implemented yet");
  },
};
