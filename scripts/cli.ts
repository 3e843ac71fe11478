// How the project's commands end: with the exit code their main function returns, or 2 and the
// stack trace of an unexpected error. exitCode rather than exit(): exit() would cut off output
// still being written to a pipe (a large plan, say).

/** The exit code of a command that failed unexpectedly. */
export const UNEXPECTED_FAILURE = 2;

/** What a command prints when it fails unexpectedly: the stack trace, for whoever fixes it. */
export function describeFailure(err: unknown): string {
    return `${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`;
}

/** Runs `main` as the process's command. */
export function runCommand(main: () => Promise<number>): void {
    main().then(
        (code) => {
            process.exitCode = code;
        },
        (err: unknown) => {
            process.stderr.write(describeFailure(err));
            process.exitCode = UNEXPECTED_FAILURE;
        },
    );
}
