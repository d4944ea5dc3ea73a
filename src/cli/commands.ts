/** Every subcommand, in the order `regplan --help` lists them. */
import type { Command } from './command.ts';

/** Loads the command table lazily so `--version` does not import the whole tool. */
export async function loadCommands(): Promise<Command[]> {
  const modules = await Promise.all([
    import('./validate.ts'),
    import('./detect.ts'),
    import('./registries.ts'),
    import('./plan.ts'),
    import('./apply.ts'),
    import('./export-policy.ts'),
    import('./drift.ts'),
    import('./ci-env.ts'),
    import('./login.ts'),
    import('./logout.ts'),
  ]);
  return modules.map((m) => m.command);
}
