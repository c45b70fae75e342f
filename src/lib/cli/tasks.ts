/**
 * Long work shown as steps: a listr2 task list on a terminal, plain `blast: …` lines elsewhere
 * (a pipe, CI, `--json`, TERM=dumb), so logs and scripts never see ANSI codes or spinners.
 * Both go to stderr: stdout stays for the command's own result (text or JSON).
 */
import type { Env } from '../paths.js';

export interface TaskStep<C> {
  title: string;
  /**
   * Does the work. `note` shows a line of progress (under the task on a terminal, a plain line
   * elsewhere). A string returned replaces the title when the step is done: what it did.
   */
  run(ctx: C, note: (line: string) => void): Promise<string | void> | string | void;
  /** A reason to skip this step (shown as such), or false/undefined to run it. */
  skip?(ctx: C): string | false | undefined;
}

export interface TaskOptions {
  /** `--json`: plain lines only. */
  json?: boolean;
  env?: Env;
  stream?: NodeJS.WriteStream;
}

/** Whether the task list is drawn (a terminal a person looks at) rather than written as lines. */
export function drawTasks(options: TaskOptions = {}): boolean {
  const env = options.env ?? process.env;
  const stream = options.stream ?? process.stderr;
  if (options.json || stream.isTTY !== true) return false;
  // A terminal with no width (a bare pty) would get one character per line.
  if (!stream.columns) return false;
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return false;
  return env.TERM !== 'dumb';
}

/** A `blast: …` line on stderr (what every step writes when no task list is drawn). */
export function plainLine(line: string, stream: NodeJS.WritableStream = process.stderr): void {
  stream.write(`blast: ${line}\n`);
}

/** Run the steps in order; the first that throws stops the rest and its error propagates. */
export async function runTasks<C extends object>(
  steps: TaskStep<C>[],
  ctx: C,
  options: TaskOptions = {},
): Promise<C> {
  const stream = options.stream ?? process.stderr;
  if (!drawTasks(options)) {
    for (const step of steps) {
      const skipped = step.skip?.(ctx);
      if (skipped) {
        plainLine(`${step.title}: skipped (${skipped})`, stream);
        continue;
      }
      plainLine(`${step.title}…`, stream);
      const done = await step.run(ctx, (line) => plainLine(`  ${line}`, stream));
      if (done) plainLine(done, stream);
    }
    return ctx;
  }
  // listr2 and its dependencies load only when a list is drawn: `blast save` off a terminal and
  // the plain `blast load` should not pay for them at start-up.
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const list = new Listr<C>(
    steps.map((step) => ({
      title: step.title,
      skip: (c: C) => step.skip?.(c) || false,
      task: async (c: C, task) => {
        const done = await step.run(c, (line) => {
          task.output = line;
        });
        if (done) task.title = done;
      },
    })),
    {
      ctx,
      exitOnError: true,
      // Whether to draw was decided above, on stderr (listr2 alone would look at stdout).
      fallbackRendererCondition: false,
      silentRendererCondition: false,
      // Blast's own handlers (pip runs, rollbacks) decide what Ctrl-C means.
      registerSignalListeners: false,
      rendererOptions: {
        logger: new ListrLogger({ processOutput: new ProcessOutput(stream, stream) }),
        collapseErrors: false,
        showErrorMessage: false, // the command prints the error once, with its hint
      },
    },
  );
  return list.run();
}
