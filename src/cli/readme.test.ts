/** The README's command table says what the CLI does: every flag a command's --help lists is in its row. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadCommands } from './commands.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The flags of a command's own "Flags:" section (the global flags are documented once, below the table). */
function ownFlags(help: string): string[] {
  const section = help.split(/^Flags:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1] as string);
}

test('every command has a README row naming each flag its --help lists', async () => {
  for (const command of await loadCommands()) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`regplan ${command.name}`));
    assert.ok(row, `README has a row for regplan ${command.name}`);
    const flags = ownFlags(command.help);
    const usage = command.help.split('\n')[0] ?? '';
    // A command without flags (logout) says so by having neither a Flags section nor a flag in its usage line.
    assert.ok(flags.length > 0 || (!/^Flags:$/m.test(command.help) && !usage.includes('--')), `${command.name} --help lists its flags`);
    for (const flag of flags) assert.ok(row.includes(flag), `README's row for regplan ${command.name} names ${flag}`);
  }
});

test.run();
