/**
 * The ECR emulator as the real @aws-sdk/client-ecr and a raw client see it: JSON 1.1 dispatch, SigV4, `__type`
 * errors, paging, BatchDeleteImage's per-item failures and semantics, and the GetAuthorizationToken login that
 * the Registry API accepts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BatchDeleteImageCommand, DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand, ListImagesCommand,
} from '@aws-sdk/client-ecr';
import { ECR_TARGET_PREFIX, startEcrEmulator, type EcrEmulator } from './ecr.ts';

const REPO = 'team/app';

async function withEmulator(body: (emulator: EcrEmulator, client: ECRClient) => Promise<void>, options: Parameters<typeof startEcrEmulator>[0] = {}): Promise<void> {
  const emulator = await startEcrEmulator(options);
  try {
    await body(emulator, new ECRClient({ region: emulator.region, endpoint: emulator.api, credentials: emulator.credentials, maxAttempts: 1 }));
  } finally {
    await emulator.stop();
  }
}

async function failure(pending: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await pending;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

test('an unsigned request gets MissingAuthenticationTokenException as a 400 __type body', async () => {
  await withEmulator(async (emulator) => {
    const response = await fetch(emulator.api, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${ECR_TARGET_PREFIX}ListImages` },
      body: JSON.stringify({ repositoryName: REPO }),
    });
    assert.is(response.status, 400);
    assert.equal(await response.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    assert.ok(response.headers.get('x-amzn-requestid'));
  });
});

test('ListImages gives one entry per tag and a digest-only entry per untagged image; filters select them', async () => {
  await withEmulator(async (emulator, client) => {
    const tagged = emulator.store.seedImage(REPO, ['a', 'b']);
    const loose = emulator.store.seedImage(REPO, [], { content: 'loose' });
    const all = await client.send(new ListImagesCommand({ repositoryName: REPO }));
    assert.equal(all.imageIds, [{ imageDigest: tagged.digest, imageTag: 'a' }, { imageDigest: tagged.digest, imageTag: 'b' }, { imageDigest: loose.digest }]);
    const untagged = await client.send(new ListImagesCommand({ repositoryName: REPO, filter: { tagStatus: 'UNTAGGED' } }));
    assert.equal(untagged.imageIds, [{ imageDigest: loose.digest }]);
    assert.is(untagged.nextToken, undefined);
  });
});

test('DescribeImages pages by maxResults, reports epoch-second push times, and rejects bad paging input', async () => {
  await withEmulator(async (emulator, client) => {
    for (const [i, tag] of ['v1', 'v2', 'v3'].entries()) emulator.store.seedImage(REPO, [tag], { pushedAt: new Date(Date.UTC(2025, 0, 1 + i, 0, 0, 0, 500)) });
    const first = await client.send(new DescribeImagesCommand({ repositoryName: REPO, maxResults: 2 }));
    assert.equal(first.imageDetails?.map((d) => d.imageTags), [['v1'], ['v2']]);
    assert.is(first.imageDetails?.[0]?.imagePushedAt?.toISOString(), '2025-01-01T00:00:00.500Z');
    assert.ok(first.nextToken);
    const second = await client.send(new DescribeImagesCommand({ repositoryName: REPO, maxResults: 2, ...(first.nextToken === undefined ? {} : { nextToken: first.nextToken }) }));
    assert.equal(second.imageDetails?.map((d) => d.imageTags), [['v3']]);
    assert.is(second.nextToken, undefined);
    const tooMany = await failure(client.send(new DescribeImagesCommand({ repositoryName: REPO, maxResults: 1001 })));
    assert.is(tooMany.name, 'InvalidParameterException');
    const badToken = await failure(client.send(new DescribeImagesCommand({ repositoryName: REPO, nextToken: 'garbage' })));
    assert.is(badToken.name, 'InvalidParameterException');
    const mixed = await failure(client.send(new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'v1' }], maxResults: 5 })));
    assert.is(mixed.name, 'InvalidParameterException');
    const missing = await failure(client.send(new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageTag: 'nope' }] })));
    assert.is(missing.name, 'ImageNotFoundException');
    const noRepo = await failure(client.send(new DescribeImagesCommand({ repositoryName: 'team/none' })));
    assert.is(noRepo.name, 'RepositoryNotFoundException');
    assert.is(noRepo.$metadata?.httpStatusCode, 400);
  });
});

test('BatchDeleteImage answers 200 with per-item failures; by tag removes the tag (the image with its last one), by digest the image', async () => {
  await withEmulator(async (emulator, client) => {
    const shared = emulator.store.seedImage(REPO, ['keep', 'pr-1']);
    const single = emulator.store.seedImage(REPO, ['pr-2'], { content: 'single' });
    const doomed = emulator.store.seedImage(REPO, ['pr-3', 'pr-3b'], { content: 'doomed' });
    const index = emulator.store.seedImage(REPO, ['multi'], { platforms: ['linux/amd64', 'linux/arm64'] });
    const child = Object.values(index.platformDigests)[0] as string;
    const answer = await client.send(new BatchDeleteImageCommand({
      repositoryName: REPO,
      imageIds: [{ imageTag: 'keep', imageDigest: single.digest }, { imageTag: 'pr-1' }, { imageTag: 'pr-2' }, { imageDigest: doomed.digest }, { imageDigest: child }, { imageTag: 'gone' }, {}],
    }));
    assert.is(answer.$metadata.httpStatusCode, 200);
    assert.equal(answer.failures?.map((f) => [f.imageId, f.failureCode]), [
      [{ imageTag: 'keep', imageDigest: single.digest }, 'ImageTagDoesNotMatchDigest'],
      [{ imageDigest: child }, 'ImageReferencedByManifestList'],
      [{ imageTag: 'gone' }, 'ImageNotFound'],
      [{}, 'MissingDigestAndTag'],
    ]);
    assert.equal(emulator.store.tagsOf(REPO, shared.digest), ['keep']);
    assert.is(emulator.store.manifest(REPO, single.digest), undefined, 'the image went with its last tag');
    assert.is(emulator.store.manifest(REPO, doomed.digest), undefined);
    assert.ok(emulator.store.manifest(REPO, child));
    const empty = await failure(client.send(new BatchDeleteImageCommand({ repositoryName: REPO, imageIds: [] })));
    assert.is(empty.name, 'InvalidParameterException');
  });
});

test('DescribeImages honours filter.tagStatus (TAGGED, UNTAGGED, ANY) and imageIds; ListImages pages with nextToken', async () => {
  await withEmulator(async (emulator, client) => {
    const tagged = emulator.store.seedImage(REPO, ['a', 'b'], { pushedAt: new Date(Date.UTC(2025, 0, 1)) });
    const loose = emulator.store.seedImage(REPO, [], { content: 'loose', pushedAt: new Date(Date.UTC(2025, 0, 2)) });
    const digests = async (tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY') =>
      (await client.send(new DescribeImagesCommand({ repositoryName: REPO, ...(tagStatus === undefined ? {} : { filter: { tagStatus } }) }))).imageDetails?.map((d) => d.imageDigest);
    assert.equal(await digests('TAGGED'), [tagged.digest]);
    assert.equal(await digests('UNTAGGED'), [loose.digest]);
    assert.equal(await digests('ANY'), [tagged.digest, loose.digest]);
    assert.equal(await digests(), [tagged.digest, loose.digest]);
    const byDigest = await client.send(new DescribeImagesCommand({ repositoryName: REPO, imageIds: [{ imageDigest: loose.digest }, { imageTag: 'b' }] }));
    assert.equal(byDigest.imageDetails?.map((d) => [d.imageDigest, d.imageTags]), [[loose.digest, undefined], [tagged.digest, ['a', 'b']]]);
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListImagesCommand({ repositoryName: REPO, maxResults: 1, ...(nextToken === undefined ? {} : { nextToken }) }));
      pages.push((page.imageIds ?? []).map((id) => id.imageTag ?? id.imageDigest ?? ''));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    assert.equal(pages, [['a'], ['b'], [loose.digest]]);
  });
});

test('GetAuthorizationToken hands out AWS:<password> that the Registry API accepts as Basic auth', async () => {
  await withEmulator(async (emulator, client) => {
    emulator.store.seedImage(REPO, ['v1']);
    const answer = await client.send(new GetAuthorizationTokenCommand({}));
    const data = answer.authorizationData?.[0];
    const decoded = Buffer.from(data?.authorizationToken ?? '', 'base64').toString('utf8');
    assert.is(decoded, `AWS:${emulator.registryPassword}`);
    assert.ok((data?.expiresAt?.getTime() ?? 0) > Date.now() + 11 * 3600_000);
    const anonymous = await fetch(`${emulator.url}/v2/${REPO}/tags/list`);
    assert.is(anonymous.status, 401);
    const authed = await fetch(`${emulator.url}/v2/${REPO}/tags/list`, { headers: { authorization: `Basic ${data?.authorizationToken ?? ''}` } });
    assert.is(authed.status, 200);
    assert.equal(((await authed.json()) as { tags: string[] }).tags, ['v1']);
  });
});

test('a key signed for another region is an InvalidSignatureException', async () => {
  await withEmulator(async (emulator) => {
    const client = new ECRClient({ region: 'eu-west-1', endpoint: emulator.api, credentials: emulator.credentials, maxAttempts: 1 });
    const error = await failure(client.send(new ListImagesCommand({ repositoryName: REPO })));
    assert.is(error.name, 'InvalidSignatureException');
    assert.match(error.message, 'Credential should be scoped to a valid region');
  });
});

test('DescribeRepositories pages by maxResults with nextToken, keeps names with "/", and refuses names mixed with paging', async () => {
  await withEmulator(async (emulator, client) => {
    for (const repo of ['team/a', 'team/b/c', 'web']) emulator.store.seedImage(repo, ['v1']);
    const first = await client.send(new DescribeRepositoriesCommand({ maxResults: 2 }));
    assert.equal(first.repositories?.map((r) => r.repositoryName), ['team/a', 'team/b/c']);
    assert.is(first.repositories?.[1]?.repositoryUri, `${emulator.account}.dkr.ecr.${emulator.region}.amazonaws.com/team/b/c`);
    const second = await client.send(new DescribeRepositoriesCommand({ maxResults: 2, ...(first.nextToken === undefined ? {} : { nextToken: first.nextToken }) }));
    assert.equal(second.repositories?.map((r) => r.repositoryName), ['web']);
    assert.is(second.nextToken, undefined);
    assert.is((await failure(client.send(new DescribeRepositoriesCommand({ maxResults: 1001 })))).name, 'InvalidParameterException');
    assert.is((await failure(client.send(new DescribeRepositoriesCommand({ repositoryNames: ['web'], maxResults: 5 })))).name, 'InvalidParameterException');
    assert.is((await failure(client.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope'] })))).name, 'RepositoryNotFoundException');
    assert.equal((await client.send(new DescribeRepositoriesCommand({ registryId: '999999999999' }))).repositories, []);
  });
});

test.run();
