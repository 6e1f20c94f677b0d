export { startAwsStsStandIn } from './aws-sts.js';
export type { AwsAssumeRoleRecord, AwsOidcProvider, AwsStsStandIn, AwsStsStandInOptions, AwsWebIdentityRole } from './aws-sts.js';
export { startGoogleStsStandIn } from './google-sts.js';
export type { GoogleServiceAccount, GoogleStsStandIn, GoogleStsStandInOptions, GoogleWorkloadProvider } from './google-sts.js';
export { startEntraStandIn } from './entra.js';
export type { EntraFederatedCredential, EntraIdentity, EntraStandIn, EntraStandInOptions } from './entra.js';
