/**
 * The ECR driver through the real @aws-sdk/client-ecr against the ECR emulator (test/emulators/ecr.ts):
 * listing with paging and push times, untag and delete semantics, batching, failures, auth errors and hints.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError, CredentialsError, isNotFound, RegistryError, RegplanError, StalePlanError } from '../errors.ts';
import { startEcrEmulator, type EcrEmulator, type EcrEmulatorOptions } from '../../test/emulators/ecr.ts';
import { canListUntagged, canUntag, hasDetailedListing, type DriverContext, refusesCleanup } from './driver.ts';
import { createEcrDriver, ecrDriver } from './ecr.ts';
import { ecrTarget } from './ecr/api.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';

const rejection = (promise: Promise<unknown>): Promise<Error> => rejectionOf(promise, Error);

// The SDK's default chain reads the process's own environment and files; keep it from finding anything real
// (and from asking an instance metadata service, which is not on loopback).
for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
process.env['AWS_CONFIG_FILE'] = '/nonexistent/regplan-test/aws-config';
process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/regplan-test/aws-credentials';

const REPO = 'team/app';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

/** A context for the emulator: AWS env as given (default: the emulator's key and region). */
function contextFor(emulator: EcrEmulator, env?: Record<string, string>, options: { docker?: DriverContext['credentials']; debug?: string[] } = {}): DriverContext {
  const values = env ?? { AWS_ACCESS_KEY_ID: emulator.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: emulator.credentials.secretAccessKey, AWS_REGION: emulator.region };
  return {
    host: emulator.host,
    type: 'ecr',
    registry: { host: emulator.host, type: 'ecr', insecure: false, api: emulator.api },
    credentials: options.docker ?? (async () => undefined),
    nativeSecret: async (name) => values[name],
    ...(options.debug === undefined ? {} : { debug: (line: string) => void options.debug?.push(line) }),
  };
}

async function withEmulator(options: EcrEmulatorOptions, body: (emulator: EcrEmulator) => Promise<void>): Promise<void> {
  const emulator = await startEcrEmulator(options);
  try {
    await body(emulator);
  } finally {
    await emulator.stop();
  }
}


test('the factory is ready and its capabilities say untag and untagged listing, which the driver has', async () => {
  assert.is(ecrDriver.status, 'ready');
  await withEmulator({}, async (emulator) => {
    const driver = ecrDriver.create(contextFor(emulator));
    assert.ok(driver.capabilities.untag && canUntag(driver));
    assert.ok(driver.capabilities.listUntagged && canListUntagged(driver));
    assert.ok(hasDetailedListing(driver));
    assert.not.ok(refusesCleanup(driver));
  });
});

test('pull times: lastRecordedPullTime of the image for each of its tags; absent (never pulled) is "never"', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['v1', 'latest'], { pushedAt: day(1) });
    emulator.store.seedImage(REPO, ['v2'], { pushedAt: day(2), content: 'other' });
    emulator.store.recordPull(REPO, image.digest, new Date(day(9).getTime() + 250));
    const records = await createEcrDriver(contextFor(emulator)).listTagRecords(REPO);
    assert.equal(records.map((r) => [r.tag, r.pulled]), [['latest', day(9).toISOString().replace('.000Z', '.250Z')], ['v1', day(9).toISOString().replace('.000Z', '.250Z')], ['v2', 'never']]);
    assert.is(ecrDriver.capabilities.pullTimes, true);
  });
});

test('the capabilities say ECR deletes an image with its last tag, so apply re-checks the tags before such an untag', () => {
  assert.is(ecrDriver.capabilities.untagLastDeletesManifest, true);
});

test('ImageNotFound in BatchDeleteImage failures is done only when a fresh DescribeImages of that image agrees', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['pr-1', 'keep']);
    const other = emulator.store.seedImage(REPO, ['pr-2'], { content: 'other' });
    const driver = createEcrDriver(contextFor(emulator));
    emulator.failNextDelete({ imageDigest: other.digest }, 'ImageNotFound', 'Requested image not found');
    const error = await rejection(driver.deleteManifest(REPO, other.digest));
    assert.instance(error, RegistryError);
    assert.match(error.message, other.digest);
    assert.match(error.message, 'ImageNotFound');
    assert.ok(emulator.store.manifest(REPO, other.digest), 'still there, and not reported as deleted');
    emulator.failNextDelete({ imageTag: 'pr-1' }, 'ImageNotFound', 'Requested image not found');
    const untag = await rejection(driver.untag(REPO, 'pr-1'));
    assert.match(untag.message, 'tag "pr-1"');
    assert.equal(emulator.store.tagsOf(REPO, image.digest), ['keep', 'pr-1']);
    const lookups = emulator.callsTo('DescribeImages').map((c) => c.body['imageIds']);
    assert.ok(lookups.some((ids) => JSON.stringify(ids) === JSON.stringify([{ imageDigest: other.digest }])), 'looked the digest up');
    await driver.deleteManifest(REPO, other.digest);
    assert.is(emulator.store.manifest(REPO, other.digest), undefined);
  });
});

test('listTagRecords follows nextToken across pages and reports digests, media types and push times', async () => {
  await withEmulator({ pageLimit: 2 }, async (emulator) => {
    const seeded = ['v1', 'v2', 'v3', 'v4', 'v5'].map((tag, i) => ({ tag, ...emulator.store.seedImage(REPO, [tag], { pushedAt: new Date(day(i).getTime() + 123) }) }));
    emulator.store.putManifest(REPO, 'latest', emulator.store.manifest(REPO, seeded[4]?.digest ?? '')?.bytes ?? new Uint8Array(), seeded[4]?.mediaType ?? '');
    const driver = createEcrDriver(contextFor(emulator));
    const records = await driver.listTagRecords(REPO);
    assert.equal(records.map((r) => r.tag), ['latest', 'v1', 'v2', 'v3', 'v4', 'v5']);
    assert.equal(records.find((r) => r.tag === 'v2'), { tag: 'v2', digest: seeded[1]?.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', pushedAt: '2025-01-02T00:00:00.123Z', pulled: 'never' });
    assert.is(records.find((r) => r.tag === 'latest')?.digest, seeded[4]?.digest);
    const calls = emulator.callsTo('DescribeImages');
    assert.is(calls.length, 3, 'five images in pages of two');
    assert.equal(calls[0]?.body, { repositoryName: REPO, filter: { tagStatus: 'TAGGED' }, maxResults: 1000 });
    assert.ok(typeof calls[1]?.body['nextToken'] === 'string');
    assert.ok(calls.every((c) => c.contentType === 'application/x-amz-json-1.1' && c.accessKeyId === emulator.credentials.accessKeyId));
  });
});

test('listTags reads ListImages (one entry per tag) across pages; a missing repo is an error naming it, never an empty listing', async () => {
  await withEmulator({ pageLimit: 3 }, async (emulator) => {
    emulator.store.seedImage(REPO, ['a', 'b', 'c']);
    emulator.store.seedImage(REPO, ['d'], { content: 'other' });
    const driver = createEcrDriver(contextFor(emulator));
    assert.equal(await driver.listTags(REPO), ['a', 'b', 'c', 'd']);
    assert.is(emulator.callsTo('ListImages').length, 2);
    for (const listing of [driver.listTags('team/missing'), driver.listTagRecords('team/missing'), driver.listUntagged('team/missing')]) {
      const error = await listing.then(() => undefined, (e: unknown) => e);
      assert.instance(error, RegistryError);
      assert.match((error as Error).message, 'team/missing');
    }
  });
});

test('listUntagged lists untagged images with push times, including the children of an index', async () => {
  await withEmulator({}, async (emulator) => {
    const index = emulator.store.seedImage(REPO, ['multi'], { platforms: ['linux/amd64', 'linux/arm64'], pushedAt: day(3) });
    const loose = emulator.store.seedImage(REPO, [], { content: 'loose', pushedAt: day(1) });
    const driver = createEcrDriver(contextFor(emulator));
    const untagged = await driver.listUntagged(REPO);
    const expected = [loose.digest, ...Object.values(index.platformDigests)].sort();
    assert.equal(untagged.map((u) => u.digest), expected);
    assert.is(untagged.find((u) => u.digest === loose.digest)?.pushedAt, day(1).toISOString());
    assert.equal(emulator.callsTo('DescribeImages')[0]?.body['filter'], { tagStatus: 'UNTAGGED' });
  });
});

test('untag removes only that tag while another tag keeps the image; a missing tag counts as done', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['v1', 'pr-1']);
    const driver = createEcrDriver(contextFor(emulator));
    await driver.untag(REPO, 'pr-1');
    assert.equal(emulator.store.tagsOf(REPO, image.digest), ['v1']);
    assert.ok(emulator.store.manifest(REPO, image.digest));
    assert.equal(emulator.callsTo('BatchDeleteImage')[0]?.body['imageIds'], [{ imageTag: 'pr-1' }]);
    await driver.untag(REPO, 'pr-1');
    await driver.untag('team/missing', 'x');
    assert.is(emulator.callsTo('BatchDeleteImage').length, 1, 'nothing left to delete, nothing sent');
  });
});

test('untag refuses the last tag of an image (ECR would delete the image with it) and leaves it alone', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['only']);
    const driver = createEcrDriver(contextFor(emulator));
    const error = await rejection(driver.untag(REPO, 'only'));
    assert.instance(error, StalePlanError);
    assert.match(error.message, `not removing tag "only" from "${emulator.host}/${REPO}": it is now the only tag on ${image.digest}`);
    assert.match((error as RegplanError).hint ?? '', 'run regplan plan again');
    assert.equal(emulator.store.tagsOf(REPO, image.digest), ['only']);
    assert.is(emulator.callsTo('BatchDeleteImage').length, 0);
  });
});

test('untags of tags sharing one image run in turn, so the last of them is refused rather than deleting the image', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['a', 'b']);
    const driver = createEcrDriver(contextFor(emulator));
    const results = await Promise.allSettled([driver.untag(REPO, 'a'), driver.untag(REPO, 'b')]);
    assert.equal(results.map((r) => r.status), ['fulfilled', 'rejected']);
    assert.equal(emulator.store.tagsOf(REPO, image.digest), ['b']);
  });
});

test('deleteManifest deletes the image with every tag on it; deleting it again counts as done', async () => {
  await withEmulator({}, async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['pr-1', 'pr-1-alias']);
    emulator.store.seedImage(REPO, ['keep'], { content: 'keep' });
    const driver = createEcrDriver(contextFor(emulator));
    await driver.deleteManifest(REPO, doomed.digest);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['keep']);
    assert.is(emulator.store.manifest(REPO, doomed.digest), undefined);
    await driver.deleteManifest(REPO, doomed.digest);
    await driver.deleteManifest('team/missing', doomed.digest);
  });
});

test('concurrent deletes go out together, at most 100 image ids per BatchDeleteImage call', async () => {
  await withEmulator({}, async (emulator) => {
    const digests = Array.from({ length: 150 }, (_, i) => emulator.store.seedImage(REPO, [`pr-${i}`]).digest);
    const driver = createEcrDriver(contextFor(emulator));
    await Promise.all(digests.map((digest) => driver.deleteManifest(REPO, digest)));
    assert.equal(emulator.store.tags(REPO), []);
    assert.equal(emulator.callsTo('BatchDeleteImage').map((c) => (c.body['imageIds'] as unknown[]).length).sort(), [100, 50]);
  });
});

test('the emulator refuses more than 100 ids with InvalidParameterException, which the driver never sends', async () => {
  await withEmulator({}, async (emulator) => {
    const { ECRClient, BatchDeleteImageCommand } = await import('@aws-sdk/client-ecr');
    const client = new ECRClient({ region: emulator.region, endpoint: emulator.api, credentials: emulator.credentials });
    emulator.store.seedImage(REPO, ['x']);
    const imageIds = Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` }));
    const error = await rejection(client.send(new BatchDeleteImageCommand({ repositoryName: REPO, imageIds })));
    assert.is(error.name, 'InvalidParameterException');
    assert.match(error.message, 'Member must have length less than or equal to 100');
  });
});

test('deleting a child of an index fails with ImageReferencedByManifestList and a hint; the child stays', async () => {
  await withEmulator({}, async (emulator) => {
    const index = emulator.store.seedImage(REPO, ['multi'], { platforms: ['linux/amd64', 'linux/arm64'] });
    const child = Object.values(index.platformDigests)[0] as string;
    const driver = createEcrDriver(contextFor(emulator));
    const error = await rejection(driver.deleteManifest(REPO, child));
    assert.instance(error, RegistryError);
    assert.match(error.message, `AWS ECR could not delete ${child} in "${emulator.host}/${REPO}": ImageReferencedByManifestList`);
    assert.match((error as RegistryError).hint ?? '', 'once the index is deleted');
    assert.not.ok(isNotFound(error));
    assert.ok(emulator.store.manifest(REPO, child));
  });
});

test('a wrong secret key is an AuthError saying which variable to check, and never shows the secret', async () => {
  await withEmulator({}, async (emulator) => {
    const secret = 'CANARY-wrong-secret-4242';
    const driver = createEcrDriver(contextFor(emulator, { AWS_ACCESS_KEY_ID: emulator.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: secret, AWS_REGION: emulator.region }));
    const error = await rejection(driver.listTagRecords(REPO));
    assert.instance(error, AuthError);
    assert.match(error.message, 'AWS ECR API refused DescribeImages on');
    assert.match(error.message, 'InvalidSignatureException');
    assert.match((error as AuthError).hint ?? '', 'check AWS_SECRET_ACCESS_KEY');
    assert.not.ok(`${error.message} ${(error as AuthError).hint}`.includes(secret));
  });
});

test('an unknown access key and a missing IAM permission are AuthErrors with their own hints', async () => {
  await withEmulator({ deny: ['BatchDeleteImage'] }, async (emulator) => {
    const unknown = createEcrDriver(contextFor(emulator, { AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN000000000', AWS_SECRET_ACCESS_KEY: 'x'.repeat(40), AWS_REGION: emulator.region }));
    const error = await rejection(unknown.listTags(REPO));
    assert.instance(error, AuthError);
    assert.match((error as AuthError).hint ?? '', 'AWS does not know this access key');
    const image = emulator.store.seedImage(REPO, ['pr-1']);
    const denied = await rejection(createEcrDriver(contextFor(emulator)).deleteManifest(REPO, image.digest));
    assert.instance(denied, AuthError);
    assert.match(denied.message, 'not authorized to perform: ecr:BatchDeleteImage');
    assert.match((denied as AuthError).hint ?? '', 'allow ecr:DescribeImages, ecr:ListImages, ecr:BatchDeleteImage');
    assert.ok(emulator.store.manifest(REPO, image.digest));
  });
});

test('no AWS credentials anywhere is a CredentialsError naming the chain, before any request', async () => {
  await withEmulator({}, async (emulator) => {
    const driver = createEcrDriver(contextFor(emulator, { AWS_REGION: emulator.region }));
    const error = await rejection(driver.listTagRecords(REPO));
    assert.instance(error, CredentialsError);
    assert.match(error.message, `no AWS credentials for ECR DescribeImages on "${emulator.host}/${REPO}"`);
    assert.match((error as CredentialsError).hint ?? '', 'export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    assert.is(emulator.apiCalls.length, 0);
  });
});

test('a host that names no region and no AWS_REGION is an error saying to set it', async () => {
  await withEmulator({}, async (emulator) => {
    const driver = createEcrDriver(contextFor(emulator, { AWS_ACCESS_KEY_ID: emulator.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: emulator.credentials.secretAccessKey }));
    const error = await rejection(driver.listTagRecords(REPO));
    assert.instance(error, RegplanError);
    assert.match(error.message, `cannot tell the AWS region of ECR registry "${emulator.host}"`);
    assert.match((error as RegplanError).hint ?? '', 'export AWS_REGION');
  });
});

test('throttling is retried by the SDK until the call goes through', async () => {
  await withEmulator({ throttle: 2 }, async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    const driver = createEcrDriver(contextFor(emulator));
    assert.equal((await driver.listTagRecords(REPO)).map((r) => r.tag), ['v1']);
    assert.equal(emulator.callsTo('DescribeImages').map((c) => c.status), [400, 400, 200]);
  });
});

test('without a Docker login, Registry API reads use the GetAuthorizationToken login, which never shows in debug output', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['v1']);
    const debug: string[] = [];
    const driver = createEcrDriver(contextFor(emulator, undefined, { debug }));
    assert.is((await driver.resolveTag(REPO, 'v1'))?.digest, image.digest);
    assert.is(emulator.callsTo('GetAuthorizationToken').length, 1);
    assert.ok(debug.length > 0);
    assert.not.ok(debug.join('\n').includes(emulator.registryPassword));
  });
});

test('a Docker login for the host wins over GetAuthorizationToken', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['v1']);
    const docker = async () => ({ username: 'AWS', password: emulator.registryPassword, source: 'test docker config' });
    const driver = createEcrDriver(contextFor(emulator, {}, { docker }));
    assert.is((await driver.resolveTag(REPO, 'v1'))?.digest, image.digest);
    assert.is(emulator.apiCalls.length, 0);
  });
});

test('a plain-http API endpoint off loopback is refused unless the registry is marked insecure', async () => {
  const context: DriverContext = {
    host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    type: 'ecr',
    registry: { host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', type: 'ecr', insecure: false, api: 'http://ecr-proxy.example.com/' },
    credentials: async () => undefined,
    nativeSecret: async () => undefined,
  };
  const error = await rejection(createEcrDriver(context).listTags(REPO));
  assert.match(error.message, 'refusing plain http for the ECR API of "123456789012.dkr.ecr.eu-west-1.amazonaws.com"');
});

test('ecrTarget reads account and region from the host, FIPS and region from the api URL', () => {
  assert.equal(ecrTarget('123456789012.dkr.ecr.eu-west-1.amazonaws.com'), { region: 'eu-west-1', account: '123456789012', fips: false });
  assert.equal(ecrTarget('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com'), { region: 'us-gov-west-1', account: '123456789012', fips: true });
  assert.equal(ecrTarget('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn'), { region: 'cn-north-1', account: '123456789012', fips: false });
  assert.equal(ecrTarget('127.0.0.1:5000', 'https://api.ecr.ap-south-1.amazonaws.com'), { region: 'ap-south-1', endpoint: 'https://api.ecr.ap-south-1.amazonaws.com', fips: false });
  assert.equal(ecrTarget('ecr.internal:443', 'https://ecr-fips.us-east-1.amazonaws.com/'), { region: 'us-east-1', endpoint: 'https://ecr-fips.us-east-1.amazonaws.com/', fips: true });
  assert.equal(ecrTarget('127.0.0.1:5000', 'http://127.0.0.1:5000/'), { endpoint: 'http://127.0.0.1:5000/', fips: false });
});

test('repo discovery: DescribeRepositories across 3 pages (nextToken) while an image is deleted and a repo pushed, filtered by prefix', async () => {
  let ecr: EcrEmulator | undefined;
  const options: EcrEmulatorOptions = {
    pageLimit: 10,
    beforeOperation: (operation, body) => {
      if (operation === 'DescribeRepositories' && body['nextToken'] !== undefined && ecr?.store.repo('team/000-new') === undefined) ecr?.store.seedImage('team/000-new', ['v1']); // shifts the pages
    },
  };
  await withEmulator(options, async (emulator) => {
    ecr = emulator;
    const expected = Array.from({ length: 24 }, (_, i) => `team/${i < 4 ? 'tools/' : ''}app-${String(i).padStart(2, '0')}`).sort();
    for (const repo of expected) emulator.store.seedImage(repo, ['v1', 'pr-1'], { content: repo });
    emulator.store.seedImage('zzz/other', ['v1']);
    const driver = createEcrDriver(contextFor(emulator));
    const doomed = emulator.store.resolve('team/app-10', 'pr-1')?.digest ?? '';
    const [repos] = await Promise.all([driver.listRepositories('team/'), driver.deleteManifest('team/app-10', doomed)]);
    for (const repo of expected) assert.ok(repos.includes(repo), `${repo} is listed`);
    assert.not.ok(repos.includes('zzz/other'));
    assert.is(new Set(repos).size, repos.length, 'a repository seen on two pages is listed once');
    const pages = emulator.callsTo('DescribeRepositories');
    assert.is(pages.length, 3);
    assert.ok(pages.every((c) => c.body['maxResults'] === 1000 && c.status === 200));
    assert.equal(await driver.listRepositories('team/tools/'), expected.filter((r) => r.startsWith('team/tools/')));
    assert.equal(await driver.listRepositories('nobody/'), [], 'ECR has no namespaces: a prefix nothing matches lists nothing');
  });
});

test('repo discovery: an identity without ecr:DescribeRepositories gets an AuthError naming the permission', async () => {
  await withEmulator({ deny: ['DescribeRepositories'] }, async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    const error = await rejection(createEcrDriver(contextFor(emulator)).listRepositories('team/'));
    assert.instance(error, AuthError);
    assert.match(error.message, 'not authorized to perform: ecr:DescribeRepositories');
    assert.match((error as AuthError).hint ?? '', 'ecr:DescribeRepositories');
    assert.not.ok(error.message.includes(emulator.credentials.secretAccessKey));
  });
});

test.run();
