export interface Command {
  name: string;
  usage: string;
  run(argv: string[]): number | Promise<number>;
}
