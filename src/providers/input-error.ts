// Input a customer must fix before any request is made (a malformed key, endpoint or deployment). The
// message says what to fix and never quotes the key; the API edge answers it as BAD_USER_INPUT.

export type InputField = 'provider' | 'apiKey' | 'endpoint' | 'deployment';

export class ProviderInputError extends Error {
  override readonly name = 'ProviderInputError';

  constructor(
    message: string,
    readonly field: InputField,
  ) {
    super(message);
  }
}
