/**
 * Exit codes of `wce`, stable for scripts (documented in docs/cli.md).
 */
export const EXIT = {
  /** Done. For `status --watch`: the campaign completed. */
  ok: 0,
  /** The API answered with an error; its code is printed (stderr). */
  apiError: 1,
  /** The command line is wrong (unknown command or option, missing argument, bad value), or no URL/key is configured. */
  usage: 2,
  /** `status --watch`: the campaign was cancelled. */
  campaignCancelled: 3,
  /** `status --watch`: the campaign paused (by an operator or by the engine, with a reason) and needs a person. */
  campaignPaused: 4,
  /** The API could not be reached (connection refused, DNS, timeout). */
  unreachable: 5,
  /** `status --watch --timeout`: the campaign was still running when the time ran out. */
  timeout: 6,
} as const;

/** An error that ends the command with a given exit code and a message for stderr. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    /** The API's error body, printed as JSON with --json. */
    readonly body?: unknown,
  ) {
    super(message);
  }
}
