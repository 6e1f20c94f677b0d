// Valid tokens of every shape Maskinporten issues (docs/maskinporten-rules.md §3.3 and §5, and the example
// bodies of section 8) are accepted, and their claims come back typed and named.
import { describe, expect, it } from 'vitest';
import { createTokenFactory } from '@portvakt/testing';
import { createMaskinportenVerifier } from '@portvakt/verify';
import type { MaskinportenTokenClaims } from '@portvakt/verify';
import { manualClock } from './support.js';

const factory = createTokenFactory();
const verifier = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks } });
const CUSTOMER = '910753614';
const SUPPLIER = '991825827';
const PID = '05848998356';

describe('valid tokens of every shape', () => {
  it('a plain token (section 3.3)', async () => {
    const token = await factory.mint({ scope: 'nav:aareg nav:test', consumerOrgno: CUSTOMER, clientId: 'c-1', clientAmr: 'virksomhetssertifikat' });
    const claims = await verifier.verify(token);
    expect(claims).toMatchObject({
      issuer: 'https://test.maskinporten.no/',
      clientId: 'c-1',
      clientAmr: 'virksomhetssertifikat',
      scopes: ['nav:aareg', 'nav:test'],
      consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` },
      consumerOrg: CUSTOMER,
      supplier: undefined,
      supplierOrg: undefined,
      delegationSource: undefined,
      audience: [],
      pid: undefined,
      systemUser: undefined,
      consent: undefined,
    });
    expect(claims.expiresAt - claims.issuedAt).toBe(120_000);
    expect(claims.tokenId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(claims.payload.token_type).toBe('Bearer');
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims.scopes)).toBe(true);
  });

  it('a delegated token: consumer the customer, supplier the vendor, delegation_source (section 5.1)', async () => {
    const claims = await verifier.verify(await factory.mint({ consumerOrgno: CUSTOMER, supplierOrgno: SUPPLIER }), { consumers: CUSTOMER, suppliers: SUPPLIER });
    expect(claims).toMatchObject({ consumerOrg: CUSTOMER, supplierOrg: SUPPLIER, supplier: { ID: `0192:${SUPPLIER}` }, delegationSource: 'https://tt02.altinn.no/' });
  });

  it.each([
    ['a string', 'https://api.example.no/', ['https://api.example.no/']],
    ['an array', ['https://a.example.no/', 'https://api.example.no/'], ['https://a.example.no/', 'https://api.example.no/']],
    ['"unspecified" (older tokens, Q13: no audience)', 'unspecified', []],
  ])('an audience-restricted token with aud as %s (section 5.2)', async (_form, aud, audience) => {
    const token = await factory.mint({ audience: aud });
    const claims = await verifier.verify(token);
    expect(claims.audience).toEqual(audience);
    if (audience.includes('https://api.example.no/')) await expect(verifier.verify(token, { audience: ['https://api.example.no/', 'https://b.example.no/'] })).resolves.toBeTruthy();
  });

  it('a pid-restricted token (section 5.5)', async () => {
    expect((await verifier.verify(await factory.mint({ pid: PID }))).pid).toBe(PID);
  });

  it('a system-user token: the customer in systemUser, the vendor as consumer (section 5.3)', async () => {
    const token = await factory.mint({ consumerOrgno: SUPPLIER, systemUser: { orgno: CUSTOMER, id: '33a0911a-5459-456f-bc57-3d37ef9a016c', systemId: '991825827_demo', externalRef: 'branch-1' } });
    const { systemUser, consumerOrg } = await verifier.verify(token);
    expect(consumerOrg).toBe(SUPPLIER);
    expect(systemUser).toEqual({
      id: '33a0911a-5459-456f-bc57-3d37ef9a016c',
      ids: ['33a0911a-5459-456f-bc57-3d37ef9a016c'],
      org: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` },
      orgno: CUSTOMER,
      systemId: '991825827_demo',
      externalRef: 'branch-1',
    });
  });

  it('a consent token from a person (section 5.4)', async () => {
    const token = await factory.mint({
      consumerOrgno: CUSTOMER,
      consent: {
        id: '0a7d59f8-8c62-4312-9fb4-62456664c96f',
        from: `urn:altinn:person:identifier-no:${PID}`,
        validTo: '2099-01-01T14:30:00+00:00',
        consented: '2025-11-14T10:48:55.759557+00:00',
        rights: [{ action: ['consent'], resource: [{ type: 'urn:altinn:resource', value: 'enkelt-samtykke' }], metadata: { simpletag: 'test samtykke' } }],
      },
    });
    const { consent } = await verifier.verify(token);
    expect(consent).toEqual({
      id: '0a7d59f8-8c62-4312-9fb4-62456664c96f',
      from: `urn:altinn:person:identifier-no:${PID}`,
      fromPid: PID,
      fromOrg: undefined,
      to: { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` },
      toOrg: CUSTOMER,
      consented: '2025-11-14T10:48:55.759557+00:00',
      validTo: '2099-01-01T14:30:00+00:00',
      rights: [{ action: ['consent'], resource: [{ type: 'urn:altinn:resource', value: 'enkelt-samtykke' }], metadata: { simpletag: 'test samtykke' } }],
    });
  });

  it('a consent token from an organisation, without rights or validTo', async () => {
    const token = await factory.mint({ authorization_details: [{ type: 'urn:altinn:consent', id: 'c-1', from: `urn:altinn:organization:identifier-no:${CUSTOMER}` }] });
    const { consent } = await verifier.verify(token);
    expect(consent).toMatchObject({ fromOrg: CUSTOMER, fromPid: undefined, to: undefined, toOrg: undefined, validTo: undefined, rights: [] });
  });

  it('a token with a system user and a consent, and an authorization_details type it does not know', async () => {
    const details = [...(factory.claims({ systemUser: { orgno: CUSTOMER }, consent: { from: `urn:altinn:person:identifier-no:${PID}` } }).authorization_details as unknown[]), { type: 'urn:example:future' }];
    const claims = await verifier.verify(await factory.mint({ authorization_details: details }));
    expect(claims.systemUser?.orgno).toBe(CUSTOMER);
    expect(claims.consent?.fromPid).toBe(PID);
    expect(claims.payload.authorization_details).toHaveLength(3);
  });

  it('a European eSeal consumer: no organisation number, the identifier kept as sent (section 5.6)', async () => {
    const consumer = { commonName: 'Your company AS', authority: 'etsi-en-319-412', ID: 'NTRNO-555555555', countryName: 'NO' };
    const claims = await verifier.verify(await factory.mint({ consumer, clientAmr: 'CForESeal' }));
    expect(claims.consumer).toEqual({ authority: 'etsi-en-319-412', ID: 'NTRNO-555555555' });
    expect(claims.consumerOrg).toBeUndefined();
    expect(claims.payload.consumer).toEqual(consumer);
  });

  it('a sub-unit consumer identifier keeps the main organisation number (section 3.3)', async () => {
    const claims = await verifier.verify(await factory.mint({ consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${SUPPLIER}:ER//987464291:1` } }), { consumers: [SUPPLIER] });
    expect(claims.consumerOrg).toBe(SUPPLIER);
  });

  it('a token with legacy claims (client_orgno) and no token_type', async () => {
    const claims = await verifier.verify(await factory.mint({ client_orgno: SUPPLIER, token_type: undefined }));
    expect(claims).toMatchObject({ clientAmr: 'private_key_jwt', tokenId: expect.any(String) });
  });

  it.each(['RS384', 'RS512'] as const)('a token signed with %s by a key published for it', async (algorithm) => {
    const other = createTokenFactory({ algorithm });
    const v = createMaskinportenVerifier({ environment: { issuer: other.issuer, jwks: other.jwks } });
    await expect(v.verify(await other.mint())).resolves.toMatchObject({ scopes: ['portvakt:test'] });
  });

  it('the decoded example bodies of docs/maskinporten-rules.md §8 (§8.4 plain, §8.4 delegated, §8.5 system user, §8.6 consent)', async () => {
    const clock = manualClock(1_740_737_600_000);
    const at = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks }, clock, clockTolerance: 300 });
    const iat = Math.floor(clock.now() / 1000);
    const bodies = [
      { scope: 'difitest:test2', iss: 'https://test.maskinporten.no/', client_amr: 'virksomhetssertifikat', token_type: 'Bearer', exp: iat + 1000, iat, jti: 'IYRtIEzOYb8fHiIMEaqVHq_tXYGWe6OEOjOdsK-P_30', client_id: 'x', consumer: { authority: 'iso6523-actorid-upis', ID: '0192:991825827' } },
      { iss: 'https://test.maskinporten.no/', client_amr: 'virksomhetssertifikat', token_type: 'Bearer', client_id: 'oidc_difi_delegering_altinn', aud: 'unspecified', scope: 'difitest:test2', supplier: { authority: 'iso6523-actorid-upis', ID: '0192:991825827' }, exp: iat + 1000, delegation_source: 'https://tt02.altinn.no/', iat, client_orgno: '991825827', jti: 'faulA3FDWRqpd59Cwc1DqvA72kOV_xDHggBXpSpptsw', consumer: { authority: 'iso6523-actorid-upis', ID: '0192:910753614' } },
      { authorization_details: [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:313367002' }, systemuser_id: ['33a0911a-5459-456f-bc57-3d37ef9a016c'], system_id: '974761076_skatt_demo_system' }], scope: 'skatteetaten:innrapporteringboligselskap', iss: 'https://test.maskinporten.no/', client_amr: 'virksomhetssertifikat', token_type: 'Bearer', exp: iat + 120, iat, client_id: 'e6c868ef-d9d6-4847-ba25-409bbd040540', jti: '6vc-gdzU3lC7XkBlR9WLxsyB8QKBwBk_FhwmdsL_6BE', consumer: { authority: 'iso6523-actorid-upis', ID: '0192:974761076' } },
      { authorization_details: [{ type: 'urn:altinn:consent', id: '0a7d59f8-8c62-4312-9fb4-62456664c96f', from: 'urn:altinn:person:identifier-no:05848998356', to: { authority: 'iso6523-actorid-upis', ID: '0192:314330897' }, consented: '2025-11-14T10:48:55.759557+00:00', validTo: '2028-01-01T14:30:00+00:00', consentRights: [{ action: ['consent'], resource: [{ type: 'urn:altinn:resource', value: 'enkelt-samtykke' }], metadata: { simpletag: 'test samtykke' } }] }], scope: 's', iss: 'https://test.maskinporten.no/', client_id: 'c', client_amr: 'private_key_jwt', jti: 'consent-example', consumer: { authority: 'iso6523-actorid-upis', ID: '0192:314330897' }, exp: iat + 120, iat },
    ];
    const results: MaskinportenTokenClaims[] = [];
    for (const body of bodies) results.push(await at.verify(await factory.forge({}, { payloadText: JSON.stringify(body) })));
    expect(results.map((c) => [c.consumerOrg, c.supplierOrg, c.systemUser?.orgno, c.consent?.toOrg])).toEqual([
      ['991825827', undefined, undefined, undefined],
      ['910753614', '991825827', undefined, undefined],
      ['974761076', undefined, '313367002', undefined],
      ['314330897', undefined, undefined, '314330897'],
    ]);
  });

  it('accepts exp inside the clock tolerance and iat a little ahead', async () => {
    const clock = manualClock();
    const lenient = createMaskinportenVerifier({ environment: { issuer: factory.issuer, jwks: factory.jwks }, clock, clockTolerance: 10 });
    const token = await factory.mint({}, { now: clock.now() + 8000, lifetimeSeconds: 60 });
    await expect(lenient.verify(token)).resolves.toBeTruthy(); // iat 8 s ahead
    clock.advance(8000 + 60_000 + 9000); // exp 9 s ago
    await expect(lenient.verify(token)).resolves.toBeTruthy();
    clock.advance(2000);
    await expect(lenient.verify(token)).rejects.toMatchObject({ reason: 'expired' });
  });
});
