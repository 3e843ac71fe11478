// How the project's commands end: with the exit code their main function returns, or 2 and the
// stack trace of an unexpected error. exitCode rather than exit(): exit() would cut off output
// still being written to a pipe (a large plan, say).

/** Runs `main` as the process's command. */
export function runCommand(main: () => Promise<number>): void {
    main().then(
        (code) => {
            process.exitCode = code;
        },
        (err: unknown) => {
            process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
            process.exitCode = 2;
        },
    );
}
