/** The zone certificate by ACME DNS-01 (docs/zone.md): ordered by one super node at a time, installed on every one. */
export { CertificateManager, type CertificateManagerOptions } from './manager.ts';
export { certificateFacts, type CertificatePaths, readCertificate } from './certificate.ts';
export { configureHttp, type OrderOptions, orderCertificate, orderError } from './order.ts';
