import { useRef, useState, type FormEvent } from 'react';

// The token field. Uncontrolled: the token is read from the field once, on submit, and never put in
// React state, an attribute, storage or the URL.

export function SignInForm({ onSignIn }: { onSignIn: (token: string) => Promise<string[] | undefined> }) {
  const field = useRef<HTMLInputElement>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const token = field.current?.value.trim() ?? '';
    if (!token) {
      setErrors(['Paste a token first.']);
      return;
    }
    setBusy(true);
    // On success this form is replaced by the page; only a failure comes back here.
    const problems = await onSignIn(token);
    if (problems) {
      setErrors(problems);
      setBusy(false);
    }
  }

  return (
    <div className="page">
      <header className="topbar">
        <span className="product">Account settings</span>
      </header>
      <main className="content">
        <h1>AI Provider Keys</h1>
        <form className="card sign-in" aria-labelledby="sign-in-heading" onSubmit={(e) => void submit(e)}>
          <h2 id="sign-in-heading">Sign in</h2>
          <p id="token-hint" className="hint">
            Paste a bearer token for your account. Outside production:{' '}
            <code>npm run -s token -- --user user_alice --account acct_acme</code>. The token is kept in this
            tab&apos;s memory only: a reload signs you out.
          </p>
          <div className="field">
            <label htmlFor="token">Token</label>
            <input
              id="token"
              ref={field}
              type="password"
              autoComplete="off"
              spellCheck={false}
              aria-describedby="token-hint"
              aria-invalid={errors.length > 0}
            />
          </div>
          <div className="actions">
            <button type="submit" className="primary" aria-disabled={busy}>
              Sign in
            </button>
          </div>
          <div className="messages" role="alert">
            {errors.map((message, index) => (
              <p key={index} className="error-text">
                {message}
              </p>
            ))}
          </div>
        </form>
      </main>
    </div>
  );
}
