import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMAND_NAMES, loadCommand, loadCommands } from './commands.ts';

test('each name of the lazy command table loads the command of that name, in help order', async () => {
  const loaded = await loadCommands();
  assert.equal(loaded.map((command) => command.name), COMMAND_NAMES);
  for (const name of COMMAND_NAMES) assert.is((await loadCommand(name))?.name, name);
  assert.is(await loadCommand('frobnicate'), undefined);
});

test.run();
