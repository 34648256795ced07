import type { Command } from '../command.js';
import { KlpError } from '../../klp/errors.js';

export const command: Command = {
  name: 'check',
  summary: '(not implemented yet)',
  usage: 'usage: klp-convert check',
  run() {
    throw new KlpError('NOT_IMPLEMENTED', "'check' is not implemented yet");
  },
};
