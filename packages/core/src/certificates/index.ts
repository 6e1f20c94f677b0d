export { assertCertificateUsable, daysUntilExpiry, inspectCertificate } from './certificate.js';
export type { CertificateInfo } from './certificate.js';
