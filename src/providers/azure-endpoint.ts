import { ProviderInputError } from './input-error';
import { optionalText } from './candidate-input';
import { isAllowlisted } from './outbound-policy';

// An Azure key is tested against the endpoint the customer types, so the endpoint is the one URL in
// this service an outsider chooses. Only the shape of a real Azure resource endpoint is accepted;
// the outbound policy then checks, at connect time, where that name actually points.

// One DNS label (the resource name) under one of Azure's three resource suffixes; nothing else.
const AZURE_HOST =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.(?:openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$/;
const EXAMPLE = 'https://<resource>.openai.azure.com';

const invalid = (fix: string) => new ProviderInputError(`The Azure OpenAI endpoint ${fix}`, 'endpoint');

/**
 * Returns the endpoint as `https://host` (no trailing slash) or throws ProviderInputError. A host or
 * host:port in the allowlist may also use http and another port (operators' gateways, test fakes);
 * it must still look like an Azure resource host.
 */
export function normalizeAzureEndpoint(raw: string | null | undefined, allowlist: readonly string[]): string {
  const text = optionalText(raw);
  if (!text)
    throw new ProviderInputError(
      `Azure OpenAI needs the resource endpoint, for example ${EXAMPLE}.`,
      'endpoint',
    );
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    throw invalid(`must start with https://, for example ${EXAMPLE}.`);

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`is not a valid URL: enter it like ${EXAMPLE}.`);
  }
  const port = Number(url.port) || (url.protocol === 'http:' ? 80 : 443);
  const allowlisted = isAllowlisted(allowlist, url.hostname, port);

  if (url.protocol !== 'https:' && !(allowlisted && url.protocol === 'http:')) {
    throw invalid(`must start with https://, for example ${EXAMPLE}.`);
  }
  if (url.username || url.password) throw invalid('must not contain a user name or password.');
  if (!AZURE_HOST.test(url.hostname)) {
    throw invalid(
      "must be your resource's own host, ending in .openai.azure.com, .cognitiveservices.azure.com or .services.ai.azure.com.",
    );
  }
  if (url.port && !allowlisted) throw invalid('must not name a port: remove the ":port" part.');
  if (url.pathname !== '/' || url.search || url.hash || /[?#]/.test(text)) {
    throw invalid(`must not have a path or query: keep only the part like ${EXAMPLE}.`);
  }
  return `${url.protocol}//${url.host}`;
}

// Azure's own rule for deployment names, starting with a letter or digit so that "." and ".." can
// never turn into path segments when the name is put into a request URL.
const DEPLOYMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function normalizeDeployment(raw: string | null | undefined): string {
  const name = optionalText(raw);
  if (!name)
    throw new ProviderInputError(
      'Azure OpenAI needs the deployment name that requests should use.',
      'deployment',
    );
  if (!DEPLOYMENT.test(name)) {
    throw new ProviderInputError(
      'The deployment name may use only letters, digits, ".", "_" and "-", must start with a letter or digit and be at most 64 characters.',
      'deployment',
    );
  }
  return name;
}
