import { useState } from 'react';
import type { ApolloClient } from '@apollo/client';
import { ApolloProvider } from '@apollo/client/react';
import { createApiClient } from './api-client';
import { messagesOf } from './api-errors';
import { MeDocument, type MeQuery } from './generated/graphql';
import { SettingsPage } from './settings.page';
import { SignInForm } from './sign-in.form';

// Signed out: the sign-in form. Signed in: the page, with a client that holds the token in memory.
// Signing out (or closing the tab, or reloading) drops the client, its cache and so the token.

interface Session {
  client: ApolloClient;
  me: MeQuery['me'];
}

export function SettingsApp() {
  const [session, setSession] = useState<Session>();

  /** Checks the token with `me`; on success the page replaces the form, else the API's message. */
  async function signIn(token: string): Promise<string[] | undefined> {
    const client = createApiClient(token);
    try {
      const { data } = await client.query({ query: MeDocument });
      if (!data) return ['The service gave no answer for this token. Try again.'];
      setSession({ client, me: data.me });
      return undefined;
    } catch (error) {
      client.stop();
      return messagesOf(error);
    }
  }

  function signOut() {
    session?.client.stop();
    void session?.client.clearStore();
    setSession(undefined);
  }

  if (!session) return <SignInForm onSignIn={signIn} />;
  return (
    <ApolloProvider client={session.client}>
      <SettingsPage me={session.me} onSignOut={signOut} />
    </ApolloProvider>
  );
}
