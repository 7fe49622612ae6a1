// What an exercise is: named cases, each a function that receives the learner's module (or
// the reference solution) and throws when it is wrong. The same cases run in two places:
// - `npm run exercise NAME` runs them against exercises/NAME/NAME.ts (your work), through
//   exercises/exercise.test.ts;
// - `npm test` runs them against exercises/NAME/solution/NAME.ts (they must all pass) and
//   against the starting code (at least one must fail), in test/docs/exercises.test.ts.

export type Case<M> = (impl: M) => void | Promise<void>;

export interface Exercise<M> {
  /** One line: what the learner writes. */
  title: string;
  cases: Record<string, Case<M>>;
}

export function defineExercise<M>(e: Exercise<M>): Exercise<M> {
  return e;
}

/**
 * Runs every case; returns the names of the failing ones with their messages. A case whose
 * promise does not settle within `timeoutMs` fails with a message saying so (a loop that
 * never returns is stopped by the runner's process time limit instead: scripts/exercise.mjs).
 */
export async function runCases<M>(e: Exercise<M>, impl: M, timeoutMs = 60_000): Promise<{ name: string; error: string }[]> {
  const failures: { name: string; error: string }[] = [];
  for (const [name, c] of Object.entries(e.cases)) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`case '${name}' did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(() => c(impl)), late]);
    } catch (err) {
      failures.push({ name, error: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
    }
  }
  return failures;
}
