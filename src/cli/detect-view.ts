/** The human view of `regplan detect`: labelled lines, credentials shown as set / not set only. */
import type { DetectReport, NativeCredentialStatus } from './detect.ts';

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

function field(label: string, value: string, width = 16): string {
  return `  ${label.padEnd(width)}${value}`;
}

function credentialLines(credential: NativeCredentialStatus): string[] {
  const optional = credential.optional ? ' (optional)' : '';
  const where =
    credential.source === 'chain'
      ? 'standard credential chain'
      : credential.source === 'ci'
        ? `$${credential.env} inside the CI job (${(credential.chainEnv ?? []).map((e) => `$${e}`).join(', ')} set)`
        : `${credential.flag} / $${credential.env}`;
  const state = credential.set ? `set (${credential.via})` : 'not set';
  return [`  ${credential.description}${optional}`, `    ${where}: ${state}`];
}

/** Renders the report as text for a terminal. */
export function renderDetectReport(report: DetectReport): string {
  const { capabilities } = report;
  const lines: string[] = [
    `Repo:      ${report.repo}`,
    report.kind === 'registry' ? `Host:      ${report.host}` : `Directory: ${report.dir}`,
    `Registry:  ${report.type} (${report.title})`,
    `Why:       ${report.reason}`,
    ...(report.override === undefined ? [] : [`Override:  ${report.override}`]),
    '',
    'Capabilities:',
    field('push', yesNo(capabilities.push)),
    field('bundles', capabilities.bundles ? 'yes' : `no: ${capabilities.bundlesRefusal ?? 'not supported'}`),
    field('cleanup', `${report.cleanup === '*ok' ? 'yes, with native credentials' : 'yes'}`),
    field('cleanup path', capabilities.cleanupPath),
    field('untag', capabilities.untag || capabilities.untagByPlaceholder !== true ? yesNo(capabilities.untag) : 'through a placeholder (a unique manifest pushed to the tag, then deleted by digest)'),
    field('list untagged', yesNo(capabilities.listUntagged)),
    '',
  ];
  lines.push('Native credentials (for deletion):');
  if (report.nativeCredentials.length === 0) lines.push(report.kind === 'registry' ? '  none needed: the Docker login is enough' : '  none: a local directory');
  else for (const credential of report.nativeCredentials) lines.push(...credentialLines(credential));
  if (report.dockerCredentials) {
    lines.push('', 'Docker credentials (Registry API):');
    lines.push(field('config dir', `${report.dockerCredentials.configDir} (${report.dockerCredentials.configDirReason})`, 12));
    lines.push(field('source', report.dockerCredentials.source, 12));
  }
  if (capabilities.notes) lines.push('', `Notes: ${capabilities.notes}`);
  return `${lines.join('\n')}\n`;
}
