/** A `shafaf` sub-command. `run` returns the exit status; it prints its own output. */
export interface CliCommand {
  /** One line for `shafaf --help`. */
  readonly summary: string;
  run(argv: readonly string[]): Promise<number>;
}
