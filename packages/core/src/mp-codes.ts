// What to do about each MP-nnn code Maskinporten documents in its error descriptions.
/**
 * Remediation hints for the MP codes Maskinporten documents (docs/maskinporten-rules.md §3.4).
 * @example
 * ```ts
 * console.log(MP_CODE_HINTS['MP-110']);
 * ```
 */
export const MP_CODE_HINTS: Readonly<Record<string, string>> = Object.freeze({
  'MP-011': 'The grant is malformed (invalid parameter value). Check that the assertion is a single compact JWS with no stray whitespace.',
  'MP-012': 'The grant (jti) was used before. Portvakt signs a fresh grant per attempt; check that no proxy replays requests.',
  'MP-100': 'Unknown client: check clientId, and that the client exists in the same environment (test/prod) as the issuer you target.',
  'MP-110': 'Wrong audience: aud must equal the issuer exactly, trailing slash included (https://test.maskinporten.no/ or https://maskinporten.no/).',
  'MP-120': 'The certificate is not valid for this environment: use a test certificate against test and a production certificate against production.',
  'MP-121': 'The registered key has expired (keys live one year from upload). Upload it again in Digdir self-service, or rotate to a new key.',
  'MP-122': "The certificate's organisation number does not match the organisation that owns the client.",
  'MP-123': 'The x5c header is invalid: it must be an array of base64 DER certificates.',
  'MP-124': 'Signature or certificate validation failed: check that the kid matches the key you sign with, and that the certificate is valid and from the right environment.',
  'MP-130': 'The grant was rejected on time: check the machine clock (NTP) and that exp - iat is at most 120 seconds.',
  'MP-200': 'The scope is not registered on the client: add it in Digdir self-service, or ask the API owner for access.',
  'MP-201': 'The scope is not allowed for this integration type.',
  'MP-250': 'Your organisation (the consumer) has not been granted this scope by the API owner.',
  'MP-251': 'The customer has not delegated this scope to you (the supplier) in Altinn.',
  'MP-301': 'Unknown authorization_details type: Maskinporten supports urn:altinn:systemuser and urn:altinn:consent.',
  'MP-302': 'Unknown field in authorization_details.',
  'MP-303': 'Invalid value in authorization_details: check the system user organisation number and externalRef, and that the system user exists in Altinn.',
});

