// How the project's commands end: with the exit code their main function returns, or 2 and the
// stack trace of an unexpected error. exitCode rather than exit(): exit() would cut off output
// still being written to a pipe (a large plan, say). A reader that stops early (`| head`) ends the
// command quietly: nobody is left to read the rest.

/** The exit code of a command that failed unexpectedly. */
export const UNEXPECTED_FAILURE = 2;

/** What a command prints when it fails unexpectedly: the stack trace, for whoever fixes it. */
export function describeFailure(err: unknown): string {
    return `${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`;
}

/** True for the error a write gets once the reading end of its pipe has closed. */
export function isClosedPipe(err: unknown): boolean {
    return typeof err === "object" && err !== null && Reflect.get(err, "code") === "EPIPE";
}

/**
 * What the process does when a write to standard output fails: a closed pipe ends it at once with
 * code 0 and nothing printed; any other error is unexpected. Exported for testing.
 */
export function onStdoutError(exit: (code: number) => void, fail: (err: unknown) => void): (err: unknown) => void {
    return (err) => (isClosedPipe(err) ? exit(0) : fail(err));
}

/** Runs `main` as the process's command. */
export function runCommand(main: () => Promise<number>): void {
    const unexpected = (err: unknown): void => {
        process.stderr.write(describeFailure(err));
        process.exitCode = UNEXPECTED_FAILURE;
    };
    process.stdout.on(
        "error",
        onStdoutError((code) => process.exit(code), unexpected),
    );
    main().then((code) => {
        process.exitCode = code;
    }, unexpected);
}
