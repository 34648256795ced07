export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): number | Promise<number>;
}
