import type { Command } from '../command.js';
import { KlpError } from '../../klp/errors.js';

export const command: Command = {
  name: 'convert',
  summary: '(not implemented yet)',
  usage: 'usage: klp-convert convert',
  run() {
    throw new KlpError('NOT_IMPLEMENTED', "'convert' is not implemented yet");
  },
};
