/**
 * The shipped CI files (examples/ci/*.yml, action.yml) parse as YAML, have the shape their CI expects, and every
 * regplan command line in them — in `run:`, `script:`, `before_script:`, and the action's `command:` input — is
 * one regplan's own argv parser accepts (checkCommandLine: the command exists and every flag does), without
 * running it. GitHub expands `${{ … }}` expressions before a shell or the action sees the line; the check puts 1
 * in their place (they stand for a matrix shard here), so `--shard ${{ matrix.shard }}/4` is checked as `1/4`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { checkCommandLine } from '../src/cli/main.ts';
import { captureIo } from './support/io.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Yaml = unknown;
const isMap = (v: Yaml): v is Record<string, Yaml> => typeof v === 'object' && v !== null && !Array.isArray(v);

async function load(file: string): Promise<Record<string, Yaml>> {
  const doc = parse(await readFile(path.join(ROOT, file), 'utf8')) as Yaml;
  assert.ok(isMap(doc), `${file} is a YAML mapping`);
  return doc;
}

const SCRIPT_KEYS = new Set(['run', 'script', 'before_script', 'after_script']);
/** `uses:` values that are the regplan action: the repository itself, or OWNER/regplan@REF. */
const isRegplanAction = (uses: Yaml): boolean => uses === './' || (typeof uses === 'string' && /^[\w.-]+\/regplan@/.test(uses));

/** A line as GitHub hands it on: every `${{ … }}` expression expanded, here to 1. */
const expandExpressions = (line: string): string => line.replace(/\$\{\{[^}]*\}\}/g, '1');

/** Every shell script in a document (values of run/script/before_script/after_script), and the action's command inputs. */
function scripts(node: Yaml, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) scripts(item, found);
  } else if (isMap(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (SCRIPT_KEYS.has(key) && (typeof value === 'string' || Array.isArray(value))) {
        for (const line of [value].flat()) if (typeof line === 'string') found.push(expandExpressions(line));
      } else {
        scripts(value, found);
      }
    }
    if (isRegplanAction(node['uses']) && isMap(node['with']) && typeof node['with']['command'] === 'string') found.push(expandExpressions(`regplan ${node['with']['command']}`));
  }
  return found;
}

/** Splits shell words (single and double quotes, backslash escapes) up to the first unquoted operator or redirect. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i] as string;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + (text[++i] as string);
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (/[;&|<>()]/.test(c) || (word === undefined && (c === '#' || (/[0-9]/.test(c) && text[i + 1] === '>')))) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * The argv of each regplan invocation in a script: `regplan` in command position (line start, after ; && || |
 * $( or a shell keyword), continuation lines joined, comments skipped.
 */
function regplanCommands(script: string): string[][] {
  const commands: string[][] = [];
  for (const line of script.replace(/\\\n\s*/g, ' ').split('\n')) {
    if (/^\s*#/.test(line)) continue;
    for (const match of line.matchAll(/(?:^|[;&|(]|\b(?:then|do|else|if|eval)\b)\s*!?\s*regplan(?=\s|$)/g)) {
      commands.push(shellWords(line.slice(match.index + match[0].length)));
    }
  }
  return commands;
}

/** Checks every command line; returns the rejected ones with the parser's message. */
async function invalidCommands(commands: readonly string[][]): Promise<string[]> {
  const io = captureIo({}, ROOT);
  const problems: string[] = [];
  for (const argv of commands) {
    try {
      await checkCommandLine(argv, io);
    } catch (error) {
      problems.push(`regplan ${argv.join(' ')}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** Each shipped file and the least number of regplan command lines it must hold (so an extraction gone blind fails). */
const FILES = {
  'examples/ci/github-actions.yml': 7,
  'examples/ci/gitlab-ci.yml': 5,
  'examples/ci/github-actions-sharded.yml': 8,
  'examples/ci/gitlab-ci-sharded.yml': 6,
  'action.yml': 1,
};

/** The action's own default `command` input, as the command line it runs. */
function actionDefault(doc: Record<string, Yaml>): string[] {
  const command = (doc['inputs'] as Record<string, Record<string, Yaml>> | undefined)?.['command']?.['default'];
  return typeof command === 'string' ? [`regplan ${command}`] : [];
}

test('the command-line extraction finds regplan in command position only, with its words and without redirects', () => {
  const script = [
    '# regplan plan --not-a-flag (a comment)',
    'regplan plan --out plan.json --format markdown | tee plan.md',
    'eval "$(regplan ci-env auto)"',
    'regplan ci-env auto --as-file "$GITHUB_ENV" && regplan validate \\',
    '  -c deploy/registry.config.yaml',
    'echo "run regplan apply"; curl -o /usr/local/bin/regplan "$URL"',
    "regplan plan --repo 'ghcr.io/a|b' > plan.txt 2>err.txt",
  ].join('\n');
  assert.equal(regplanCommands(script), [
    ['plan', '--out', 'plan.json', '--format', 'markdown'],
    ['ci-env', 'auto'],
    ['ci-env', 'auto', '--as-file', '$GITHUB_ENV'],
    ['validate', '-c', 'deploy/registry.config.yaml'],
    ['plan', '--repo', 'ghcr.io/a|b'],
  ]);
});

test('the check rejects what regplan would: an unknown flag, an unknown command, a bad value, a missing argument', async () => {
  const bad = [['plan', '--outt', 'x'], ['plann'], ['plan', '--format', 'yaml'], ['ci-env'], ['ci-env', 'jenkins'], ['apply', 'a.json', 'b.json'], ['registries', '--jsn']];
  const problems = await invalidCommands(bad);
  assert.is(problems.length, bad.length, problems.join('\n'));
  assert.match(problems[0]!, "regplan plan --outt x: regplan plan: Unknown option '--outt'");
  assert.equal(await invalidCommands([['--debug', 'plan', '--json'], ['-c', 'x.yaml', 'validate'], ['ci-env', 'auto', '--as-file', 'f']]), []);
});

for (const [file, least] of Object.entries(FILES)) {
  test(`${file}: every regplan command line is a valid invocation`, async () => {
    const doc = await load(file);
    const commands = [...scripts(doc), ...actionDefault(doc)].flatMap(regplanCommands);
    assert.ok(commands.length >= least, `${file} has at least ${least} regplan command lines (found ${commands.length}: ${JSON.stringify(commands)})`);
    assert.equal(await invalidCommands(commands), []);
  });
}

test('github-actions.yml: plans on pull requests with the summary, applies the uploaded plan only outside pull requests', async () => {
  const workflow = await load('examples/ci/github-actions.yml');
  const on = workflow['on'] as Record<string, Yaml>;
  assert.ok('pull_request' in on && 'schedule' in on && 'push' in on);
  const jobs = workflow['jobs'] as Record<string, Record<string, Yaml>>;
  const plan = scripts(jobs['plan']).flatMap(regplanCommands);
  assert.ok(plan.some((argv) => argv[0] === 'plan' && argv.includes('--out')), 'the plan job saves a plan');
  const apply = jobs['apply']!;
  assert.is(apply['needs'], 'plan');
  assert.match(String(apply['if']), "github.event_name != 'pull_request'");
  assert.ok(typeof apply['environment'] === 'string', 'apply waits for the environment reviewers');
  assert.ok(scripts(apply).flatMap(regplanCommands).some((argv) => argv[0] === 'apply' && argv[1] === 'plan.json'), 'apply runs the saved plan');
  const artifact = (steps: Yaml, action: string) =>
    (steps as Record<string, Yaml>[]).filter((s) => String(s['uses']).startsWith(action)).map((s) => (s['with'] as Record<string, Yaml>)['name']);
  assert.equal(artifact(jobs['plan']!['steps'], 'actions/upload-artifact'), ['regplan-plan']);
  assert.equal(artifact(apply['steps'], 'actions/download-artifact'), ['regplan-plan']);
});

test('gitlab-ci.yml: plans in merge requests as an artifact shown in the MR, applies that plan on a schedule', async () => {
  const ci = await load('examples/ci/gitlab-ci.yml');
  const plan = ci['regplan:plan'] as Record<string, Yaml>;
  const apply = ci['regplan:apply'] as Record<string, Yaml>;
  const ifs = (job: Record<string, Yaml>) => (job['rules'] as Record<string, Yaml>[]).map((r) => r['if']);
  assert.equal(ifs(plan), ['$CI_PIPELINE_SOURCE == "merge_request_event"', '$CI_PIPELINE_SOURCE == "schedule"']);
  assert.equal(ifs(apply), ['$CI_PIPELINE_SOURCE == "schedule"']);
  const artifacts = plan['artifacts'] as Record<string, Yaml>;
  assert.ok(typeof artifacts['expose_as'] === 'string');
  assert.equal(artifacts['paths'], ['plan.md', 'plan.json']);
  assert.equal(apply['needs'], ['regplan:plan']);
  assert.ok(scripts(apply).flatMap(regplanCommands).some((argv) => argv[0] === 'apply' && argv[1] === 'plan.json'));
  const hidden = ci['.regplan'] as Record<string, Yaml>;
  assert.ok(scripts(hidden).flatMap(regplanCommands).some((argv) => argv.join(' ') === 'ci-env auto'), 'jobs log in with ci-env auto');
});

/** The regplan command lines of one job. */
const commandsOf = (job: Yaml): string[][] => scripts(job).flatMap(regplanCommands);

test('github-actions-sharded.yml: a plan per matrix shard, a report merging them all, an apply per shard after the report', async () => {
  const jobs = (await load('examples/ci/github-actions-sharded.yml'))['jobs'] as Record<string, Record<string, Yaml>>;
  const shards = (job: Record<string, Yaml>) => ((job['strategy'] as Record<string, Yaml>)['matrix'] as Record<string, Yaml>)['shard'];
  assert.equal(shards(jobs['plan']!), [1, 2, 3, 4]);
  assert.equal(shards(jobs['apply']!), [1, 2, 3, 4]);
  assert.ok(commandsOf(jobs['plan']).some((argv) => argv.join(' ') === 'plan --shard 1/4 --out plan-1.json'), 'each plan job plans its own shard of 4');
  const report = jobs['report']!;
  assert.is(report['needs'], 'plan');
  assert.ok(commandsOf(report).some((argv) => argv[0] === 'plan' && argv[1] === '--merge' && argv[2] === 'plan-*.json'), 'the report merges every shard plan');
  const download = (report['steps'] as Record<string, Record<string, Yaml>>[]).find((s) => String(s['uses']).startsWith('actions/download-artifact'));
  assert.equal(download?.['with'], { pattern: 'regplan-plan-*', 'merge-multiple': true });
  const apply = jobs['apply']!;
  assert.equal(apply['needs'], ['plan', 'report']);
  assert.match(String(apply['if']), "github.event_name != 'pull_request'");
  assert.ok(typeof apply['environment'] === 'string');
  assert.ok(commandsOf(apply).some((argv) => argv[0] === 'apply' && argv[1] === 'plan-1.json'), 'each apply job applies its own shard plan');
});

test('gitlab-ci-sharded.yml: parallel plan jobs (shard from CI_NODE_*), a merging report, parallel apply jobs after it', async () => {
  const ci = await load('examples/ci/gitlab-ci-sharded.yml');
  const plan = ci['regplan:plan'] as Record<string, Yaml>;
  const report = ci['regplan:report'] as Record<string, Yaml>;
  const apply = ci['regplan:apply'] as Record<string, Yaml>;
  assert.is(plan['parallel'], 4);
  assert.is(apply['parallel'], 4);
  assert.ok(commandsOf(plan).some((argv) => argv.join(' ') === 'plan --out plan-$CI_NODE_INDEX.json'), 'the shard comes from CI_NODE_INDEX/CI_NODE_TOTAL');
  assert.equal(report['needs'], ['regplan:plan']);
  assert.ok(commandsOf(report).some((argv) => argv.slice(0, 3).join(' ') === 'plan --merge plan-*.json'));
  assert.equal((report['artifacts'] as Record<string, Yaml>)['paths'], ['plan.md', 'plan.json']);
  assert.equal(apply['needs'], ['regplan:plan', 'regplan:report']);
  assert.equal((apply['rules'] as Record<string, Yaml>[]).map((r) => r['if']), ['$CI_PIPELINE_SOURCE == "schedule"']);
  assert.ok(commandsOf(apply).some((argv) => argv[0] === 'apply' && argv[1] === 'plan-$CI_NODE_INDEX.json'));
});

test('action.yml is a composite action whose steps all name a shell, and whose default command is valid', async () => {
  const action = await load('action.yml');
  const runs = action['runs'] as Record<string, Yaml>;
  assert.is(runs['using'], 'composite');
  for (const step of runs['steps'] as Record<string, Yaml>[]) if ('run' in step) assert.is(step['shell'], 'bash');
  assert.equal(actionDefault(action), ['regplan plan']);
  const outputs = action['outputs'] as Record<string, Yaml>;
  assert.ok('exit-code' in outputs && 'path' in outputs);
});

test.run();
