// The one table of which HTTP statuses mean "try again later", for the token endpoint and the
// metadata document alike.

/**
 * 408, 429 and 5xx are transient. 501 (Not Implemented) and 505 (HTTP Version Not Supported) say
 * the request can never work, so they are not.
 */
export function isTransientStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}
